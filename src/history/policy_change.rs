//! Changes to the policy (lapse.yaml, templates/, modules/) as its owners
//! must approve them: what changed, who wrote it, and which commits carry
//! an owner's approval of the policy as it is now. A role's statements, a
//! person's principal or a template decide what every grant provisions, so
//! a change to them is as sensitive as any grant.

use std::sync::Arc;

use git2::Oid;

use super::HistoryError;
use super::authority::{Authority, LoadedPolicy, PolicyCache};
use super::commit::CommitStamp;
use super::diff::PolicyFiles;
use super::mainline::Branch;
use super::repository::GrantRepository;
use super::revocation::only_revokes;
use super::walk::CommitInfo;

/// A change of the policy files from one state to the one in force.
#[derive(Debug, Clone)]
pub struct PolicyChange {
    /// The policy before the change: its `owners` approve it. `None` when
    /// there was none (the change that creates lapse.yaml).
    pub before: Option<Arc<Authority>>,
    /// Which of the policy's files changed, as people name them.
    pub files: Vec<&'static str>,
    /// The commits that wrote the change (their policy files differ from
    /// every parent's).
    pub writers: Vec<Arc<CommitStamp>>,
    /// Commits with the `Lapse-Approves: policy` trailer whose policy files
    /// are the ones in force: an approval covers the policy as the approving
    /// commit has it.
    pub approvals: Vec<Arc<CommitStamp>>,
}

/// Pull-request mode: the change from the fork point's policy files to
/// HEAD's, written and approved by the commits of the pull request.
pub fn since_fork(
    repository: &GrantRepository,
    fork: PolicyFiles,
    head: PolicyFiles,
    commits: &[CommitInfo],
    loaded: LoadedPolicy,
) -> Result<Option<PolicyChange>, HistoryError> {
    if fork == head || only_revokes(repository, fork, head)? {
        return Ok(None);
    }
    let before = match fork.policy {
        Some(blob) => PolicyCache::knowing(loaded).authority(repository, blob)?,
        None => None,
    };
    Ok(Some(PolicyChange {
        before,
        files: changed_files(fork, head),
        writers: writers(commits.iter()),
        approvals: approvals_of(commits.iter(), &[head]),
    }))
}

/// Audit mode: the last change of the policy files on the default branch's
/// first-parent history, judged by the policy before it. Its writers are
/// the commits that change brought in; an approval may be recorded with it
/// or later (an owner approving a change after the fact), as long as the
/// policy files are still the ones it approved.
pub fn last_on_mainline(
    repository: &GrantRepository,
    branch: &Branch,
    loaded: LoadedPolicy,
) -> Result<Option<PolicyChange>, HistoryError> {
    let policy_of = |id: &Oid| branch.info(id).map(|info| info.policy);
    let first_parent_of = |id: &Oid| branch.info(id).and_then(|info| info.parents.first());
    let mainline = &branch.mainline;
    // Newest first: the first commit whose policy files differ from its
    // first parent's, by more than a revocation, made the policy in force.
    let mut landed = None;
    for state in (0..mainline.len()).rev() {
        let id = mainline.id(state);
        let files = policy_of(&id).unwrap_or_default();
        let parent_files = first_parent_of(&id).and_then(policy_of).unwrap_or_default();
        if parent_files != files && !only_revokes(repository, parent_files, files)? {
            landed = Some(state);
            break;
        }
    }
    let Some(landed) = landed else {
        return Ok(None);
    };
    let landed_id = mainline.id(landed);
    let before_files = first_parent_of(&landed_id)
        .and_then(policy_of)
        .unwrap_or_default();
    let before = match before_files.policy {
        Some(blob) => PolicyCache::knowing(loaded).authority(repository, blob)?,
        None => None,
    };
    // The revocations since leave the change approved: an approval of any
    // state from the change to HEAD covers it.
    let approved_states: Vec<PolicyFiles> = (landed..mainline.len())
        .filter_map(|state| policy_of(&mainline.id(state)))
        .collect();
    let state_of = |info: &&CommitInfo| branch.introduced.get(&info.id).copied();
    let of_change = branch
        .commits
        .iter()
        .filter(|info| state_of(info) == Some(landed));
    let after_it = branch
        .commits
        .iter()
        .filter(|info| state_of(info).is_some_and(|state| state >= landed));
    Ok(Some(PolicyChange {
        before,
        files: changed_files(before_files, policy_of(&landed_id).unwrap_or_default()),
        writers: writers(of_change),
        approvals: approvals_of(after_it, &approved_states),
    }))
}

fn writers<'a>(commits: impl Iterator<Item = &'a CommitInfo>) -> Vec<Arc<CommitStamp>> {
    commits
        .filter(|info| info.changes_policy)
        .filter_map(|info| info.stamp.clone())
        .collect()
}

fn approvals_of<'a>(
    commits: impl Iterator<Item = &'a CommitInfo>,
    approved_states: &[PolicyFiles],
) -> Vec<Arc<CommitStamp>> {
    commits
        .filter(|info| approved_states.contains(&info.policy))
        .filter_map(|info| info.stamp.clone())
        .filter(|stamp| stamp.approves_policy)
        .collect()
}

fn changed_files(before: PolicyFiles, after: PolicyFiles) -> Vec<&'static str> {
    let mut files = Vec::new();
    if before.policy != after.policy {
        files.push("lapse.yaml");
    }
    if before.templates != after.templates {
        files.push("templates/");
    }
    if before.modules != after.modules {
        files.push("modules/");
    }
    files
}
