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
use super::mainline::Branch;
use super::repository::GrantRepository;

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
        loaded: LoadedPolicy,
    ) -> Result<Self, HistoryError> {
        let mut cache = PolicyCache::knowing(loaded);
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
    pub fn of_mainline(
        repository: &GrantRepository,
        branch: &Branch,
        approving: &HashSet<Oid>,
        loaded: LoadedPolicy,
    ) -> Result<Self, HistoryError> {
        let mut cache = PolicyCache::knowing(loaded);
        let mut by_commit = HashMap::new();
        let time = |id: &Oid| branch.info(id).map(|info| info.time).unwrap_or_default();
        for commit in approving {
            let Some(mainline) = branch.introducing_commit(commit) else {
                continue;
            };
            let before = branch
                .info(&mainline)
                .and_then(|info| info.parents.first().copied())
                .unwrap_or(mainline);
            let Some(blob) = branch.info(&before).and_then(|info| info.policy.policy) else {
                continue;
            };
            let Some(authority) = cache.authority(repository, blob)? else {
                continue;
            };
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

/// The policy this run loaded from disk, and its blob id: the version the
/// history meets most (HEAD's, and the fork point's when a change leaves it
/// alone), which need not be read from git and parsed again (a parse of a
/// 200-person policy was 3% of a `check --base`).
#[derive(Debug, Clone, Copy)]
pub struct LoadedPolicy<'a> {
    pub policy: &'a Policy,
    pub blob: Oid,
}

/// Policies parsed once per version: a long history has few of them.
#[derive(Default)]
pub(super) struct PolicyCache<'a> {
    by_blob: HashMap<Oid, Option<Arc<Authority>>>,
    loaded: Option<LoadedPolicy<'a>>,
}

impl<'a> PolicyCache<'a> {
    /// A cache that takes `loaded` for its version rather than parsing it.
    pub(super) fn knowing(loaded: LoadedPolicy<'a>) -> Self {
        Self {
            by_blob: HashMap::new(),
            loaded: Some(loaded),
        }
    }

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
        let policy = match self.loaded {
            Some(loaded) if loaded.blob == blob => Some(loaded.policy.clone()),
            _ => read_policy(repository, blob)?,
        };
        let authority = policy.map(|policy| {
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
