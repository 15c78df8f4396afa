//! The verdict on a grants repository: the policy and grant files loaded,
//! the git history read, every rule run. `lapse check` prints it; `lapse
//! render` provisions only the grants it finds no error in, so what check
//! rejects never reaches the cloud, even when it reached the default
//! branch.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};

use chrono::{DateTime, Utc};
use git2::Oid;

use crate::diagnostic::{Diagnostic, sort_diagnostics};
use crate::forge::reviews::{PullReviews, ReviewError};
use crate::history::{
    self, ChangeHistory, GrantRepository, HistoryError, HistoryInputs, KnownVersions, LoadedPolicy,
};
use crate::load::{self, LoadError, POLICY_FILE, Sources};
use crate::model::lifecycle::{SubjectStatus, subject_status};
use crate::model::policy::Evidence;
use crate::model::{Directory, Grant, Policy};
use crate::rules::policy_change::POLICY_CHANGE_UNAPPROVED;
use crate::rules::{self, CheckContext, Scope};

#[derive(Debug, thiserror::Error)]
pub enum VerdictError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("reading the git history failed")]
    HistoryPanicked,
    #[error(transparent)]
    Reviews(#[from] ReviewError),
    #[error(
        "the pull request's head on the forge is {forge_head}, but the checkout is {checkout}; check out the pull request's head commit (or its merge commit) so that its reviews are of what lapse judges"
    )]
    ReviewedElsewhere {
        forge_head: String,
        checkout: String,
    },
}

/// Where the pull request's reviews come from, when forge-review evidence
/// asks for them: called at most once, only in pull-request mode.
pub type ReadReviews<'a> = &'a dyn Fn() -> Result<PullReviews, ReviewError>;

/// What a run judged, and what it found.
#[derive(Debug)]
pub struct Verdict {
    pub policy: Policy,
    pub grants: Vec<Grant>,
    /// Every finding, sorted for reading.
    pub diagnostics: Vec<Diagnostic>,
}

/// Why a grant is not provisioned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Withheld {
    /// `lapse check` reports these errors on it (rule ids).
    Failing(Vec<&'static str>),
    /// Its subject is no longer in the policy: nobody to provision.
    Orphaned,
}

/// Judges the repository at `root`: pull-request mode with `base`, the
/// audit without. `sources` receives the text of every file read, for
/// snippets, even when the policy turns out broken.
pub fn judge(
    root: &Path,
    now: DateTime<Utc>,
    base: Option<&str>,
    sources: &mut Sources,
    reviews: Option<ReadReviews>,
) -> Result<Verdict, VerdictError> {
    let Read {
        policy,
        policy_blob,
        disk,
        history,
    } = read_repository(root, now, base, sources)?;
    let (grants, mut diagnostics) = (disk.grants, disk.findings);
    let disk_blobs = disk.blobs;
    let mut context = CheckContext::new(&policy, now);
    if let Some((history, head)) = history {
        let reviews = match reviews {
            Some(read) if asks_for_reviews(&policy, &history) => {
                Some(reviews_of_checkout(read, head)?)
            }
            _ => None,
        };
        apply_history(&mut context, history, &grants, &disk_blobs, policy_blob);
        context.reviews = reviews;
    }
    diagnostics.extend(rules::check_all(&grants, Path::new(POLICY_FILE), &context));
    sort_diagnostics(&mut diagnostics);
    free_in_background(context);
    Ok(Verdict {
        policy,
        grants,
        diagnostics,
    })
}

/// What a run reads before it judges.
struct Read {
    policy: Policy,
    /// The blob id of the policy's text as read.
    policy_blob: Oid,
    disk: Disk,
    /// `None` where there is no history to judge (see `read_history`).
    history: Option<(ChangeHistory, Option<CheckedOut>)>,
}

/// The grant files on disk, loaded.
struct Disk {
    grants: Vec<Grant>,
    /// Findings made loading them (unreadable, malformed, duplicate ids).
    findings: Vec<Diagnostic>,
    /// The blob id of each of `grants`, in their order.
    blobs: Vec<Option<Oid>>,
}

/// Reads the policy, the grant files and the history, side by side: the
/// grant files while the policy is parsed, and the history walk (which
/// needs the policy) while they are read; then the files' versions go to
/// the walk, which need not read and parse them from git again.
fn read_repository(
    root: &Path,
    now: DateTime<Utc>,
    base: Option<&str>,
    sources: &mut Sources,
) -> Result<Read, VerdictError> {
    let (known_sender, known) = mpsc::channel();
    std::thread::scope(|scope| {
        let loading = scope.spawn(|| read_disk(root));
        let policy = load::load_policy(root, sources)?;
        let directory = Directory::new(&policy);
        let policy_blob = history::blob_id(sources.get(Path::new(POLICY_FILE)).unwrap_or_default());
        let loaded_policy = LoadedPolicy {
            policy: &policy,
            blob: policy_blob,
        };
        let (disk, history) = std::thread::scope(|scope| {
            let history = scope.spawn(|| {
                let known = move || known.recv().unwrap_or_default();
                let inputs = history_inputs(loaded_policy, &directory, now);
                read_history(root, base, &inputs, known)
            });
            let (disk, texts) = crate::parallel::join(loading);
            sources.append(texts);
            // Only the audit walks far enough back to use them. The walk
            // may have ended already (no repository, an error), and then
            // nobody is waiting for the versions.
            if base.is_none() {
                let _ = known_sender.send(known_versions(&disk.grants, &disk.blobs));
            }
            (disk, history.join())
        });
        let history = history.map_err(|_| VerdictError::HistoryPanicked)??;
        Ok(Read {
            policy,
            policy_blob,
            disk,
            history,
        })
    })
}

/// Loads the grant files under `root` and hashes their blob ids; their
/// texts come back apart, for snippets.
fn read_disk(root: &Path) -> (Disk, Sources) {
    let mut texts = Sources::default();
    let (grants, findings) = load::load_grants(root, &mut texts);
    let blobs = blob_ids(&grants, &texts);
    let disk = Disk {
        grants,
        findings,
        blobs,
    };
    (disk, texts)
}

/// Frees what the history gave the rules on a thread of its own: every
/// grant's history is hundreds of thousands of allocations in an audit,
/// and freeing them one by one was a twentieth of its time, spent after the
/// findings are known, while they could be printing. A process that ends
/// first leaves the rest to the operating system.
fn free_in_background(context: CheckContext) {
    let owned = (
        context.history,
        context.authorities,
        context.signatures,
        context.policy_change,
        context.in_force,
        context.added_at,
        context.uncommitted,
    );
    let freeing = std::thread::Builder::new().name("free".to_owned());
    // When no thread can be made, spawn drops the closure, freeing it all here.
    let _ = freeing.spawn(move || drop(owned));
}

/// Whether this run's policy, or one that judges an approval or the
/// policy change, takes forge reviews as evidence.
fn asks_for_reviews(policy: &Policy, history: &ChangeHistory) -> bool {
    let forge = Evidence::ForgeReview;
    policy.approvals.evidence.value == forge
        || history.authorities.any_asks_for(forge)
        || history
            .policy_change
            .as_ref()
            .and_then(|change| change.before.as_ref())
            .is_some_and(|before| before.policy.approvals.evidence.value == forge)
}

/// The reviews, once the forge's head of the pull request is known to be
/// what is checked out: the commit itself, or the merge commit GitHub
/// checks out for `pull_request` events (`refs/pull/N/merge`, whose
/// parents are the base and the head).
fn reviews_of_checkout(
    read: ReadReviews,
    head: Option<CheckedOut>,
) -> Result<PullReviews, VerdictError> {
    let reviews = read()?;
    let matches = head.as_ref().is_some_and(|checkout| {
        checkout.id.to_string() == reviews.head_sha
            || checkout
                .parents
                .iter()
                .any(|parent| parent.to_string() == reviews.head_sha)
    });
    if matches {
        Ok(reviews)
    } else {
        Err(VerdictError::ReviewedElsewhere {
            forge_head: reviews.head_sha.clone(),
            checkout: head.map_or("no commit".to_owned(), |checkout| checkout.id.to_string()),
        })
    }
}

/// The commit checked out, and its parents.
struct CheckedOut {
    id: Oid,
    parents: Vec<Oid>,
}

impl Verdict {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The finding that the policy in force lacks its owners' approval:
    /// nothing is provisioned under such a policy, as a role, a principal
    /// or a template it changed decides what every grant becomes.
    pub fn unapproved_policy(&self) -> Option<&Diagnostic> {
        self.diagnostics
            .iter()
            .find(|finding| finding.rule == POLICY_CHANGE_UNAPPROVED.id && finding.is_error())
    }

    /// Every grant (by path) that must not be provisioned, and why: an
    /// error finding in its file or on its role's definition, or a subject
    /// the policy no longer knows. Files that did not load as grants at
    /// all (parse errors, refused files) are listed too.
    pub fn withheld(&self) -> BTreeMap<PathBuf, Withheld> {
        let mut failing: BTreeMap<PathBuf, Vec<&'static str>> = BTreeMap::new();
        let mut failing_roles: HashMap<&str, Vec<&'static str>> = HashMap::new();
        for finding in self.diagnostics.iter().filter(|d| d.is_error()) {
            if finding.file == Path::new(POLICY_FILE) {
                if let Some(role) = role_at_line(&self.policy, finding.line) {
                    failing_roles.entry(role).or_default().push(finding.rule);
                }
            } else {
                failing
                    .entry(finding.file.clone())
                    .or_default()
                    .push(finding.rule);
            }
        }
        let directory = Directory::new(&self.policy);
        for grant in &self.grants {
            if let Some(rules) = failing_roles.get(grant.file.role.as_str()) {
                failing.entry(grant.path.clone()).or_default().extend(rules);
            }
        }
        let mut withheld: BTreeMap<PathBuf, Withheld> = failing
            .into_iter()
            .map(|(path, mut rules)| {
                rules.sort_unstable();
                rules.dedup();
                (path, Withheld::Failing(rules))
            })
            .collect();
        for grant in &self.grants {
            if subject_status(grant, &self.policy, &directory) == SubjectStatus::Orphaned {
                withheld
                    .entry(grant.path.clone())
                    .or_insert(Withheld::Orphaned);
            }
        }
        withheld
    }

    /// The grants render may provision: every grant not in `withheld`.
    pub fn provisioned(&self, withheld: &BTreeMap<PathBuf, Withheld>) -> Vec<Grant> {
        self.grants
            .iter()
            .filter(|grant| !withheld.contains_key(&grant.path))
            .cloned()
            .collect()
    }
}

/// The role whose definition holds `line` of lapse.yaml, if any: roles
/// are consecutive entries of `roles:`, each starting at its position.
fn role_at_line(policy: &Policy, line: u32) -> Option<&str> {
    policy
        .roles
        .iter()
        .filter(|(_, role)| role.at.line <= line)
        .max_by_key(|(_, role)| role.at.line)
        .map(|(name, _)| name.as_str())
}

/// What the history read needs of this run's policy.
fn history_inputs<'a>(
    loaded: LoadedPolicy<'a>,
    directory: &'a Directory,
    now: DateTime<Utc>,
) -> HistoryInputs<'a> {
    HistoryInputs {
        directory,
        now,
        evidence: loaded.policy.approvals.evidence.value,
        signing_keys: loaded
            .policy
            .people
            .values()
            .flat_map(|person| person.parsed_signing_keys.iter().cloned())
            .collect(),
        policy: loaded,
    }
}

/// What the git history decides: with `--base`, which grants the change
/// touches and their commits in it; without, every grant's whole history.
/// Outside a git repository, or before its first commit, the audit judges
/// the files alone, as there is no history to judge; `--base` there is an
/// error, never a silent pass.
fn read_history(
    root: &Path,
    base: Option<&str>,
    inputs: &HistoryInputs,
    known: impl FnOnce() -> KnownVersions,
) -> Result<Option<(ChangeHistory, Option<CheckedOut>)>, HistoryError> {
    let repository = match base {
        Some(_) => GrantRepository::open(root, "`lapse check --base`")?,
        // A repository without a commit yet (`git init`, then `lapse
        // init`) has no history to judge, like no repository at all; CI
        // always checks out a commit.
        None => match GrantRepository::discover(root)? {
            Some(repository) if repository.head()?.is_some() => repository,
            _ => return Ok(None),
        },
    };
    let head = repository.head()?.map(|commit| CheckedOut {
        id: commit.id(),
        parents: commit.parent_ids().collect(),
    });
    let history = match base {
        Some(rev) => history::change_history(&repository, rev, inputs),
        None => history::audit_history(&repository, inputs, known),
    };
    let history = history.map_err(|error| repository.explain_missing(error))?;
    Ok(Some((history, head)))
}

/// The blob id of each grant file as read from disk, in the order of
/// `grants` (`None` for a text `sources` lacks): what ties a file to its
/// committed versions. Hashed on every core, and kept in a vector rather
/// than a map by path, as hashing ten thousand paths cost more than the
/// blob ids themselves.
fn blob_ids(grants: &[Grant], sources: &Sources) -> Vec<Option<Oid>> {
    let hash_each = |grants: &[Grant]| -> Vec<Option<Oid>> {
        grants
            .iter()
            .map(|grant| sources.get(&grant.path).map(history::blob_id))
            .collect()
    };
    crate::parallel::map_chunks(grants, 1024, hash_each)
        .into_iter()
        .flatten()
        .collect()
}

/// The grants as read from disk, for the history walk.
fn known_versions(grants: &[Grant], blobs: &[Option<Oid>]) -> KnownVersions {
    grants
        .iter()
        .zip(blobs)
        .filter_map(|(grant, blob)| Some(((*blob)?, Arc::new(grant.file.clone()))))
        .collect()
}

/// What the history decided, as the rules read it: each grant's history,
/// the change under review, and which files on disk are not what HEAD
/// commits (their history is not theirs to judge).
fn apply_history(
    context: &mut CheckContext,
    history: ChangeHistory,
    grants: &[Grant],
    disk_blobs: &[Option<Oid>],
    policy_blob: Oid,
) {
    context.added_at = history
        .grants
        .iter()
        .filter_map(|(path, grant)| Some((path.clone(), grant.added.as_ref()?.time)))
        .collect();
    if let Some(change) = history.change {
        context.scope = Scope::Change {
            policy_edited: change.edits_policy(policy_blob),
            grants: change.grants,
        };
    }
    context.uncommitted = grants
        .iter()
        .zip(disk_blobs)
        .filter(|(grant, on_disk)| {
            on_disk.is_none() || on_disk.as_ref() != history.committed.get(&grant.path)
        })
        .map(|(grant, _)| grant.path.clone())
        .collect();
    context.history = history.grants;
    context.authorities = history.authorities;
    context.signatures = history.signatures;
    context.policy_change = history.policy_change;
    context.in_force = history.in_force;
    context.policy_blob = Some(policy_blob);
}
