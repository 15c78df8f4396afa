//! Changes to the policy (lapse.yaml, templates/, modules/) as its owners
//! must approve them: what changed, who wrote it, and which commits carry
//! an owner's approval of the policy as it is now. A role's statements, a
//! person's principal or a template decide what every grant provisions, so
//! a change to them is as sensitive as any grant.

use std::collections::HashMap;
use std::sync::Arc;

use git2::Oid;

use super::HistoryError;
use super::authority::{Authority, PolicyCache, introducing_commits};
use super::commit::CommitStamp;
use super::diff::PolicyFiles;
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
) -> Result<Option<PolicyChange>, HistoryError> {
    if fork == head || only_revokes(repository, fork, head)? {
        return Ok(None);
    }
    let before = match fork.policy {
        Some(blob) => PolicyCache::default().authority(repository, blob)?,
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
    head: Oid,
    commits: &[CommitInfo],
) -> Result<Option<PolicyChange>, HistoryError> {
    let by_id: HashMap<Oid, &CommitInfo> = commits.iter().map(|c| (c.id, c)).collect();
    let policy_of = |id: &Oid| by_id.get(id).map(|info| info.policy);
    if policy_of(&head).is_none() {
        return Ok(None);
    }
    let mut chain = vec![head];
    while let Some(parent) = chain
        .last()
        .and_then(|id| by_id.get(id))
        .and_then(|info| info.parents.first())
    {
        chain.push(*parent);
    }
    // Newest first: the first commit whose policy files differ from its
    // first parent's, by more than a revocation, made the policy in force.
    let mut position = None;
    for (index, id) in chain.iter().enumerate() {
        let files = policy_of(id).unwrap_or_default();
        let parent = by_id.get(id).and_then(|info| info.parents.first());
        let parent_files = parent.and_then(policy_of).unwrap_or_default();
        if parent_files != files && !only_revokes(repository, parent_files, files)? {
            position = Some(index);
            break;
        }
    }
    let Some(position) = position else {
        return Ok(None);
    };
    let landed = chain[position];
    let before_files = by_id
        .get(&landed)
        .and_then(|info| info.parents.first())
        .and_then(policy_of)
        .unwrap_or_default();
    let before = match before_files.policy {
        Some(blob) => PolicyCache::default().authority(repository, blob)?,
        None => None,
    };
    // The revocations since leave the change approved: an approval of any
    // state from the change to HEAD covers it.
    let approved_states: Vec<PolicyFiles> =
        chain[..=position].iter().filter_map(policy_of).collect();
    let introduced = introducing_commits(head, &by_id);
    let since: std::collections::HashSet<Oid> = chain[..=position].iter().copied().collect();
    let of_change = commits
        .iter()
        .filter(|info| introduced.get(&info.id) == Some(&landed));
    let after_it = commits
        .iter()
        .filter(|info| introduced.get(&info.id).is_some_and(|m| since.contains(m)));
    Ok(Some(PolicyChange {
        before,
        files: changed_files(before_files, policy_of(&landed).unwrap_or_default()),
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
