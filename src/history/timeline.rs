//! Each grant's story as the rules need it: which commits changed it, by
//! whom, whether each change was substantive or only an approver adding
//! their own approval, and when each approval was recorded.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use git2::{Oid, Sort};

use crate::load::grant::grant_id_of;
use crate::model::policy::Evidence;
use crate::model::{Directory, GrantFile};
use ssh_key::public::KeyData;

use super::HistoryError;
use super::authority::{Authorities, LoadedPolicy};
use super::commit::CommitStamp;
use super::diff::{GrantChange, KnownVersions, Parents, Version};
use super::mainline::{Branch, terms_in_force};
use super::policy_change::{self, PolicyChange};
use super::repository::GrantRepository;
use super::signature::{SignatureCheck, Wanted, check_signatures};
use super::traversal::Traversal;
use super::walk::{CommitLog, Parsed, Walk, Walked, walk_commits, walk_traversal};

/// One commit's change to a grant.
#[derive(Debug, Clone)]
pub struct Event {
    /// `None` for the version at the fork point in pull-request mode: what
    /// the base branch held, judged when it was merged.
    pub commit: Option<Arc<CommitStamp>>,
    /// Anything but the commit author adding their own approval.
    pub substantive: bool,
    /// People whose approval this commit recorded (resolved identities):
    /// names it added that no parent's version had.
    pub approvals: BTreeSet<String>,
    /// The grant as the commit left it; `None` when that version is not a
    /// valid grant.
    pub version: Option<Arc<GrantFile>>,
}

impl Event {
    /// Whether the grant this event left says the same as `file`, whoever
    /// approved either: what an approval recorded here covers.
    pub fn covers(&self, file: &GrantFile) -> bool {
        self.version
            .as_deref()
            .is_some_and(|version| same_terms(version, file))
    }
}

/// The history of a grant's current life: from the commit that added it
/// (after its last removal, if its path was used before) to HEAD, in
/// topological order, parents before children.
#[derive(Debug, Clone, Default)]
pub struct GrantHistory {
    /// The commit that added the grant; `None` in pull-request mode for a
    /// grant that already existed at the fork point.
    pub added: Option<Arc<CommitStamp>>,
    pub events: Vec<Event>,
}

impl GrantHistory {
    /// A grant already on the base branch: its version there, approvals
    /// included, as judged when it was merged.
    fn from_base(version: Option<Arc<GrantFile>>, directory: &Directory) -> Self {
        Self {
            added: None,
            events: vec![Event {
                commit: None,
                substantive: false,
                approvals: approvers(version.as_deref(), directory),
                version,
            }],
        }
    }

    /// The first substantive change `person` authored or co-authored, or
    /// whose commit `signed_by` says they signed.
    pub fn substantive_change_by(
        &self,
        person: &str,
        signed_by: impl Fn(Oid) -> bool,
    ) -> Option<&Event> {
        self.events.iter().find(|event| {
            event.substantive
                && event
                    .commit
                    .as_ref()
                    .is_some_and(|commit| commit.is_by(person) || signed_by(commit.id))
        })
    }

    /// The last event that recorded `person`'s approval of exactly the
    /// terms of `file`. An approval covers the grant as it was when given:
    /// one given for other terms (before a change, or on a branch that did
    /// not have the change yet) does not cover these, and a change that is
    /// later reverted leaves an approval of the original terms valid, so a
    /// pull request and the audit after its merge agree.
    pub fn approval_covering(&self, person: &str, file: &GrantFile) -> Option<&Event> {
        self.events
            .iter()
            .rfind(|event| event.approvals.contains(person) && event.covers(file))
    }

    /// The last event that recorded `person`'s approval, of any terms.
    pub fn latest_approval_of(&self, person: &str) -> Option<&Event> {
        self.events
            .iter()
            .rfind(|event| event.approvals.contains(person))
    }

    /// The last substantive change.
    pub fn last_substantive_change(&self) -> Option<&Event> {
        self.events.iter().rfind(|event| event.substantive)
    }

    fn record(
        &mut self,
        commit: &Arc<CommitStamp>,
        change: &GrantChange,
        parsed: &Parsed,
        directory: &Directory,
    ) {
        let file = |version: &Version| parsed.get(&version.blob).cloned().flatten();
        let before = change.before.as_ref().and_then(file);
        let merged: Vec<_> = change
            .merged
            .iter()
            .map(|version| version.as_ref().and_then(file))
            .collect();
        let after = change.after.as_ref().and_then(file);
        if let Some(event) = classify(commit, before, &merged, after, directory) {
            self.events.push(event);
        }
    }
}

/// What the history says about the grants of a run.
#[derive(Debug, Default)]
pub struct ChangeHistory {
    /// In pull-request mode, what the change is; `None` in audit mode.
    pub change: Option<Change>,
    /// The history of each grant HEAD holds, by path.
    pub grants: HashMap<PathBuf, GrantHistory>,
    /// Every grant file HEAD commits, with its blob id: what the files on
    /// disk must be for their history to be theirs.
    pub committed: Committed,
    /// The policy each approving commit is judged against.
    pub authorities: Authorities,
    /// The signature of each commit that changed a grant being judged,
    /// when a policy asks for signed commits as evidence.
    pub signatures: HashMap<Oid, SignatureCheck>,
    /// The change that made the policy in force, for its owners' approval:
    /// the pull request's (pull-request mode), or the last on the default
    /// branch (audit).
    pub policy_change: Option<PolicyChange>,
    /// In audit mode, when the terms each grant has now were put in force
    /// on the branch (break-glass reviews are due from then).
    pub in_force: HashMap<PathBuf, DateTime<Utc>>,
}

/// The grant files of HEAD's tree and their blob ids. Keyed by the path's
/// bytes: every file on disk is looked up here, and hashing a `Path` walks
/// its components (a `check --base` over ten thousand grants spent 4 ms on
/// it).
#[derive(Debug, Default)]
pub struct Committed(HashMap<OsString, Oid>);

impl Committed {
    /// The blob id HEAD commits at `path`.
    pub fn get(&self, path: &Path) -> Option<&Oid> {
        self.0.get(path.as_os_str())
    }

    pub fn contains(&self, path: &Path) -> bool {
        self.0.contains_key(path.as_os_str())
    }

    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.0.keys().map(Path::new)
    }
}

/// What a history read needs besides the repository.
pub struct HistoryInputs<'a> {
    /// Identities as this run's policy resolves them.
    pub directory: &'a Directory,
    pub now: DateTime<Utc>,
    /// The evidence this run's policy asks for.
    pub evidence: Evidence,
    /// Every key this run's policy lists in `signing_keys`.
    pub signing_keys: HashSet<KeyData>,
    /// This run's policy as loaded, for the history's versions of it.
    pub policy: LoadedPolicy<'a>,
}

/// What a pull request changes since its fork point.
#[derive(Debug, Default)]
pub struct Change {
    /// The grants (by path at HEAD) that a commit of the change touched,
    /// whether or not HEAD's content still differs from the fork point's:
    /// a change made and reverted in the pull request is judged, as the
    /// audit after the merge judges it.
    pub grants: HashSet<PathBuf>,
    /// The blob id of `lapse.yaml` at the fork point: the policy the base
    /// branch's grants were judged against.
    pub base_policy: Option<Oid>,
}

impl Change {
    /// Whether the policy this run judges against (committed or not; its
    /// blob id) differs from the base branch's.
    pub fn edits_policy(&self, policy: Oid) -> bool {
        Some(policy) != self.base_policy
    }
}

/// Audit mode: every grant's history over every commit reachable from HEAD,
/// merged branches included. Only grants whose id HEAD still holds are
/// followed, so the versions of grants removed since (most of a long
/// history, once prune has done its work) are never read or parsed.
///
/// `known` is called once the commits are listed, so the caller can be
/// parsing the files on disk meanwhile; the versions it returns are not
/// read from git again.
pub fn audit_history(
    repository: &GrantRepository,
    inputs: &HistoryInputs,
    known: impl FnOnce() -> KnownVersions,
) -> Result<ChangeHistory, HistoryError> {
    repository.require_full_history()?;
    let Some(head) = repository.head()? else {
        return Ok(ChangeHistory::default());
    };
    let committed = committed_grants(repository, &head)?;
    let current: HashSet<String> = committed
        .paths()
        .filter_map(|path| grant_id_of(path).ok())
        .collect();
    let wanted = |id: &str| current.contains(id);
    // The commits are read while the caller parses the files on disk;
    // the walk starts once those are known.
    let walked = std::thread::scope(|scope| {
        let traversal = Traversal::start(scope, repository, head.id())?;
        let known = known();
        walk_traversal(repository, traversal, &replay_walk(inputs, wanted, &known))
    })?;
    let mut grants = HashMap::new();
    // What follows the walk was a fifth of the audit, on one thread: the
    // commit index does not depend on the replay, nor the terms in force
    // on the authorities, so each pair runs side by side.
    let tip = head.id();
    let branch = std::thread::scope(|scope| {
        let branch = scope.spawn(|| Branch::of_walk(tip, &walked.commits));
        replay_log(walked.log, &walked.parsed, inputs.directory, &mut grants);
        crate::parallel::join(branch)
    });
    drop(walked.parsed);
    grants.retain(|path, _| committed.contains(path));
    let (authorities, in_force) = std::thread::scope(|scope| {
        let in_force = scope.spawn(|| terms_in_force(&branch, &grants));
        let approving = approving_commits(&grants);
        let authorities = Authorities::of_mainline(repository, &branch, &approving, inputs.policy);
        (authorities, crate::parallel::join(in_force))
    });
    let authorities = authorities?;
    let policy_change = policy_change::last_on_mainline(repository, &branch, inputs.policy)?;
    let signatures = signatures_if_asked(
        repository,
        inputs,
        &authorities,
        &grants,
        policy_change.as_ref(),
    )?;
    Ok(ChangeHistory {
        change: None,
        grants,
        committed,
        authorities,
        signatures,
        policy_change,
        in_force,
    })
}

/// The signatures of every commit that changed a judged grant, when this
/// run's policy or one judging an approval asks for signed commits.
fn signatures_if_asked(
    repository: &GrantRepository,
    inputs: &HistoryInputs,
    authorities: &Authorities,
    grants: &HashMap<PathBuf, GrantHistory>,
    policy_change: Option<&PolicyChange>,
) -> Result<HashMap<Oid, SignatureCheck>, HistoryError> {
    let policy_asks = policy_change
        .and_then(|change| change.before.as_ref())
        .is_some_and(|before| before.policy.approvals.evidence.value == Evidence::SignedCommit);
    if inputs.evidence != Evidence::SignedCommit
        && !authorities.any_asks_for(Evidence::SignedCommit)
        && !policy_asks
    {
        return Ok(HashMap::new());
    }
    // Commits that record approvals are verified; the others only where
    // a person of the policy signs with their key (authorship).
    let mut wanted = Wanted::default();
    for event in grants.values().flat_map(|history| &history.events) {
        if let Some(commit) = &event.commit {
            wanted.add(commit, !event.approvals.is_empty());
        }
    }
    if let Some(change) = policy_change {
        for stamp in &change.writers {
            wanted.add(stamp, false);
        }
        for stamp in &change.approvals {
            wanted.add(stamp, true);
        }
    }
    let known = |key: &KeyData| inputs.signing_keys.contains(key);
    check_signatures(repository, wanted, &known)
}

/// The commits that recorded an approval of a grant being judged.
fn approving_commits(grants: &HashMap<PathBuf, GrantHistory>) -> HashSet<Oid> {
    grants
        .values()
        .flat_map(|history| &history.events)
        .filter(|event| !event.approvals.is_empty())
        .filter_map(|event| Some(event.commit.as_ref()?.id))
        .collect()
}

/// Pull-request mode: the grants the commits since the fork point touched,
/// judged on those commits. A grant that existed at the fork point starts
/// from that version, with the approvals it had there counted as recorded
/// before the change (they were judged when they were merged); the author
/// of the fork-point commit wrote nothing of the change.
pub fn change_history(
    repository: &GrantRepository,
    base: &str,
    inputs: &HistoryInputs,
) -> Result<ChangeHistory, HistoryError> {
    let Some(head) = repository.head()? else {
        return Ok(ChangeHistory {
            change: Some(Change::default()),
            ..ChangeHistory::default()
        });
    };
    let fork = repository.fork_point(base, &head)?;
    let base_policy = repository.policy_blob(&fork)?;
    let committed = committed_grants(repository, &head)?;
    let commits = commits_since_fork(repository, head.id(), fork.id())?;
    let mut grants = HashMap::new();
    let known = KnownVersions::new();
    let Walked {
        log,
        parsed,
        commits: walked,
    } = walk_commits(repository, &commits, &replay_walk(inputs, |_| true, &known))?;
    replay_log(log, &parsed, inputs.directory, &mut grants);
    grants.retain(|path, _| committed.contains(path));
    let authorities = Authorities::of_fork(repository, &fork, inputs.now, inputs.policy)?;
    let mut reader = repository.reader()?;
    let (fork_files, head_files) = (
        reader.trees_of(&fork)?.policy,
        reader.trees_of(&head)?.policy,
    );
    drop(reader);
    let policy_change =
        policy_change::since_fork(repository, fork_files, head_files, &walked, inputs.policy)?;
    let signatures = signatures_if_asked(
        repository,
        inputs,
        &authorities,
        &grants,
        policy_change.as_ref(),
    )?;
    Ok(ChangeHistory {
        change: Some(Change {
            grants: grants.keys().cloned().collect(),
            base_policy,
        }),
        grants,
        committed,
        authorities,
        signatures,
        policy_change,
        in_force: HashMap::new(),
    })
}

/// Every grant file of HEAD's tree, with its blob id.
fn committed_grants(
    repository: &GrantRepository,
    head: &git2::Commit,
) -> Result<Committed, HistoryError> {
    let mut reader = repository.reader()?;
    let head_tree = reader.grants_tree(head)?;
    Ok(Committed(
        reader
            .grant_files(head_tree)?
            .into_iter()
            .map(|version| (version.path.into_os_string(), version.blob))
            .collect(),
    ))
}

/// The walk that records every change to a grant whose id `wanted`
/// accepts, with the versions in `known` taken as parsed, and every commit
/// walked.
fn replay_walk<'a, W: Fn(&str) -> bool + Sync>(
    inputs: &HistoryInputs<'a>,
    wanted: W,
    known: &'a KnownVersions,
) -> Walk<'a, W> {
    Walk {
        directory: inputs.directory,
        parents: Parents::All,
        wanted,
        versions: Some(known),
        record_commits: true,
        keep_signed: inputs.evidence == Evidence::SignedCommit,
    }
}

/// Records the changes of `log`, in order, by path. A grant first met
/// with a version before the change (in pull-request mode: one already on
/// the base branch) starts from that version; a removed grant's history
/// ends, and a grant added later at the same path starts afresh.
fn replay_log(
    log: CommitLog,
    parsed: &Parsed,
    directory: &Directory,
    histories: &mut HashMap<PathBuf, GrantHistory>,
) {
    let parsed_version = |version: &Version| parsed.get(&version.blob).cloned().flatten();
    for (stamp, changes) in log {
        // Every history leaves its old path before any arrives at a new
        // one, so two grants swapping paths in one commit stay apart.
        let left: Vec<_> =
            changes
                .iter()
                .map(|change| {
                    let before = change.before.as_ref()?;
                    Some(histories.remove(&before.path).unwrap_or_else(|| {
                        GrantHistory::from_base(parsed_version(before), directory)
                    }))
                })
                .collect();
        for (change, history) in changes.iter().zip(left) {
            let Some(after) = &change.after else {
                continue;
            };
            let mut history = history.unwrap_or_else(|| GrantHistory {
                added: Some(Arc::clone(&stamp)),
                events: Vec::new(),
            });
            history.record(&stamp, change, parsed, directory);
            histories.insert(after.path.clone(), history);
        }
    }
}

/// The commits HEAD has that the fork point has not, oldest first, in
/// libgit2's topological order (the order `traversal` gives the audit).
fn commits_since_fork(
    repository: &GrantRepository,
    head: Oid,
    fork: Oid,
) -> Result<Vec<Oid>, git2::Error> {
    let mut walk = repository.git().revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    walk.push(head)?;
    walk.hide(fork)?;
    walk.collect()
}

/// The event a change makes, or `None` when the grant says the same as
/// before (reformatting, comments, reordering approvers). For a merge,
/// `merged` holds the versions of the other parents: what the result shares
/// with any parent came from that parent's line of history, so the merge
/// records only approvals no parent had, and changes the terms only when
/// the result matches no parent's terms (a conflict resolution or an "evil
/// merge").
pub(super) fn classify(
    commit: &Arc<CommitStamp>,
    before: Option<Arc<GrantFile>>,
    merged: &[Option<Arc<GrantFile>>],
    after: Option<Arc<GrantFile>>,
    directory: &Directory,
) -> Option<Event> {
    let parents: Vec<Option<&GrantFile>> = std::iter::once(before.as_deref())
        .chain(merged.iter().map(Option::as_deref))
        .collect();
    let new = approvers(after.as_deref(), directory);
    let inherited: BTreeSet<String> = parents
        .iter()
        .flat_map(|parent| approvers(*parent, directory))
        .collect();
    let added: BTreeSet<String> = new.difference(&inherited).cloned().collect();
    // A merge that keeps one side's approvers withdraws nothing itself.
    let nothing_withdrawn =
        !merged.is_empty() || approvers(before.as_deref(), directory).is_subset(&new);
    let terms_kept = after.as_deref().is_some_and(|after| {
        parents
            .iter()
            .flatten()
            .any(|parent| same_terms(parent, after))
    });
    if terms_kept && nothing_withdrawn && added.is_empty() {
        return None;
    }
    // The approval act: the author adds their own name and nothing else.
    let author = commit.people.first();
    let approval_only =
        terms_kept && nothing_withdrawn && added.iter().all(|person| Some(person) == author);
    Some(Event {
        commit: Some(Arc::clone(commit)),
        substantive: !approval_only,
        approvals: added,
        version: after,
    })
}

/// Whether two versions grant the same thing, whoever approved them. The
/// destructuring is exhaustive, so a new grant field cannot be forgotten here.
pub fn same_terms(a: &GrantFile, b: &GrantFile) -> bool {
    let GrantFile {
        subject,
        role,
        reason,
        ticket,
        approvers: _,
        starts,
        expires,
    } = a;
    *subject == b.subject
        && *role == b.role
        && *reason == b.reason
        && *ticket == b.ticket
        && *starts == b.starts
        && *expires == b.expires
}

fn approvers(file: Option<&GrantFile>, directory: &Directory) -> BTreeSet<String> {
    file.map(|file| {
        file.approvers
            .iter()
            .map(|approver| directory.resolve(approver))
            .collect()
    })
    .unwrap_or_default()
}
