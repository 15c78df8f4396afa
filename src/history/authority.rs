//! Which policy an approval is judged against. Authority to approve comes
//! from the policy in force before the change: a pull request that adds
//! its author to an approver group must not make them an approver of
//! grants in the same pull request. In pull-request mode that is the
//! fork point's policy; in the audit, the policy of the default branch
//! just before the (first-parent) commit that brought the approving commit
//! to it, which for a merged pull request is the merge's first parent: the
//! verdict the pull request got.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use git2::{ObjectType, Oid};

use crate::load::{MAX_POLICY_BYTES, POLICY_FILE, parse_policy};
use crate::model::policy::Evidence;
use crate::model::{Directory, Policy};

use super::HistoryError;
use super::repository::GrantRepository;
use super::walk::CommitInfo;

/// A version of the policy.
#[derive(Debug)]
pub struct Authority {
    pub policy: Policy,
    pub directory: Directory,
    /// The blob id of that version of `lapse.yaml`, as findings name it.
    pub blob: Oid,
}

/// When and under which policy each approving commit counts.
#[derive(Debug, Clone)]
pub struct Judged {
    pub authority: Arc<Authority>,
    /// When the approval took effect on the branch: not before the commit
    /// that brought it to the default branch. A commit's own date is a
    /// claim, so it can only move this later, never earlier.
    pub effective: DateTime<Utc>,
}

/// The policy each approving commit is judged against, by commit id.
#[derive(Debug, Default)]
pub struct Authorities {
    by_commit: HashMap<Oid, Judged>,
    /// For commits not listed: in pull-request mode the fork point's
    /// policy, with the approval taking effect now.
    default: Option<Judged>,
}

impl Authorities {
    /// Under which policy, and as of when, an approval recorded in
    /// `commit` is judged; `None` when no earlier policy exists (the change
    /// that creates lapse.yaml is judged against itself).
    pub fn of(&self, commit: Oid) -> Option<&Judged> {
        self.by_commit.get(&commit).or(self.default.as_ref())
    }

    /// Whether any policy judging an approval asks for `evidence`.
    pub fn any_asks_for(&self, evidence: Evidence) -> bool {
        self.by_commit
            .values()
            .chain(&self.default)
            .any(|judged| judged.authority.policy.approvals.evidence.value == evidence)
    }

    /// Pull-request mode: every commit of the change is judged against the
    /// fork point's policy, as of `now`: the approvals take effect when the
    /// pull request merges, whatever dates its commits carry.
    pub fn of_fork(
        repository: &GrantRepository,
        fork: &git2::Commit,
        now: DateTime<Utc>,
    ) -> Result<Self, HistoryError> {
        let mut cache = PolicyCache::default();
        let default = match repository.policy_blob(fork)? {
            Some(blob) => cache.authority(repository, blob)?,
            None => None,
        };
        Ok(Self {
            by_commit: HashMap::new(),
            default: default.map(|authority| Judged {
                authority,
                effective: now,
            }),
        })
    }

    /// Audit mode: each of `approving` is judged against the policy of the
    /// default branch before the first-parent commit that brought it in.
    /// `commits` are every commit reachable from `head` (the walk records
    /// them), with their parents and policy files.
    pub fn of_mainline(
        repository: &GrantRepository,
        head: Oid,
        commits: &[CommitInfo],
        approving: &HashSet<Oid>,
        times: &HashMap<Oid, DateTime<Utc>>,
    ) -> Result<Self, HistoryError> {
        let by_id: HashMap<Oid, &CommitInfo> = commits.iter().map(|c| (c.id, c)).collect();
        let introduced = introducing_commits(head, &by_id);
        let mut cache = PolicyCache::default();
        let mut by_commit = HashMap::new();
        for commit in approving {
            let Some(&mainline) = introduced.get(commit) else {
                continue;
            };
            let before = by_id
                .get(&mainline)
                .and_then(|info| info.parents.first().copied())
                .unwrap_or(mainline);
            let Some(blob) = by_id.get(&before).and_then(|info| info.policy.policy) else {
                continue;
            };
            let Some(authority) = cache.authority(repository, blob)? else {
                continue;
            };
            let time = |id: &Oid| times.get(id).copied().unwrap_or_default();
            let effective = time(commit).max(time(&mainline));
            by_commit.insert(
                *commit,
                Judged {
                    authority,
                    effective,
                },
            );
        }
        Ok(Self {
            by_commit,
            default: None,
        })
    }
}

/// For every commit reachable from `head`, the first-parent commit of
/// `head` that brought it in: walking the first-parent chain oldest first,
/// each mainline commit claims what it reaches that no earlier one did
/// (what `git log --first-parent` shows as that merge's branch).
pub(super) fn introducing_commits(
    head: Oid,
    commits: &HashMap<Oid, &CommitInfo>,
) -> HashMap<Oid, Oid> {
    let mut chain = vec![head];
    while let Some(parent) = chain
        .last()
        .and_then(|id| commits.get(id))
        .and_then(|info| info.parents.first())
    {
        chain.push(*parent);
    }
    let mut introduced = HashMap::with_capacity(commits.len());
    for mainline in chain.into_iter().rev() {
        let mut pending = vec![mainline];
        while let Some(id) = pending.pop() {
            if introduced.contains_key(&id) {
                continue;
            }
            introduced.insert(id, mainline);
            if let Some(info) = commits.get(&id) {
                pending.extend(info.parents.iter().copied());
            }
        }
    }
    introduced
}

/// Policies parsed once per version: a long history has few of them.
#[derive(Default)]
pub(super) struct PolicyCache {
    by_blob: HashMap<Oid, Option<Arc<Authority>>>,
}

impl PolicyCache {
    /// The policy of blob `blob`; `None` when that version is not a valid
    /// policy (then the current one judges).
    pub(super) fn authority(
        &mut self,
        repository: &GrantRepository,
        blob: Oid,
    ) -> Result<Option<Arc<Authority>>, HistoryError> {
        if let Some(known) = self.by_blob.get(&blob) {
            return Ok(known.clone());
        }
        let authority = read_policy(repository, blob)?.map(|policy| {
            Arc::new(Authority {
                directory: Directory::new(&policy),
                policy,
                blob,
            })
        });
        self.by_blob.insert(blob, authority.clone());
        Ok(authority)
    }
}

fn read_policy(repository: &GrantRepository, blob: Oid) -> Result<Option<Policy>, HistoryError> {
    Ok(read_policy_text(repository, blob)?
        .and_then(|text| parse_policy(Path::new(POLICY_FILE), &text).ok()))
}

/// The text of a version of `lapse.yaml`; `None` when it is not a blob of
/// UTF-8 within the size a policy may have.
pub(super) fn read_policy_text(
    repository: &GrantRepository,
    blob: Oid,
) -> Result<Option<String>, HistoryError> {
    let odb = repository.git().odb()?;
    let (size, kind) = odb.read_header(blob)?;
    if kind != ObjectType::Blob || size as u64 > MAX_POLICY_BYTES {
        return Ok(None);
    }
    let object = odb.read(blob)?;
    Ok(String::from_utf8(object.data().to_vec()).ok())
}
