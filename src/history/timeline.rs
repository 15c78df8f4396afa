//! Each grant's story as the rules need it: which commits changed it, by
//! whom, whether each change was substantive or only an approver adding
//! their own approval, and when each approval was recorded.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use git2::{ObjectType, Oid, Sort};

use crate::model::{Directory, GrantFile};

use super::HistoryError;
use super::commit::CommitStamp;
use super::diff::{GrantChange, KnownVersions, Parents, Version, parse_version};
use super::repository::GrantRepository;
use super::walk::{Parsed, Walk, walk_commits};

/// One commit's change to a grant.
#[derive(Debug, Clone)]
pub struct Event {
    pub commit: Arc<CommitStamp>,
    /// Anything but the commit author adding their own approval.
    pub substantive: bool,
    /// People whose approval this commit recorded (resolved identities).
    pub approvals: BTreeSet<String>,
}

/// The history of a grant's current life: from the commit that added it
/// (after its last removal, if the id was used before) to HEAD, in
/// topological order, parents before children.
#[derive(Debug, Clone, Default)]
pub struct GrantHistory {
    /// The commit that added the grant; `None` in pull-request mode for a
    /// grant that already existed at the fork point.
    pub added: Option<Arc<CommitStamp>>,
    pub events: Vec<Event>,
}

impl GrantHistory {
    /// The first substantive change `person` authored or co-authored.
    pub fn substantive_change_by(&self, person: &str) -> Option<&Event> {
        self.events
            .iter()
            .find(|event| event.substantive && event.commit.is_by(person))
    }

    /// The last commit that recorded `person`'s approval, with its position.
    pub fn approval_of(&self, person: &str) -> Option<(usize, &Event)> {
        self.events
            .iter()
            .enumerate()
            .rfind(|(_, event)| event.approvals.contains(person))
    }

    /// The last substantive change, with its position.
    pub fn last_substantive_change(&self) -> Option<(usize, &Event)> {
        self.events
            .iter()
            .enumerate()
            .rfind(|(_, event)| event.substantive)
    }

    fn record(
        &mut self,
        commit: &Arc<CommitStamp>,
        change: &GrantChange,
        parsed: &Parsed,
        directory: &Directory,
    ) {
        let Some(after) = &change.after else {
            // Removed: a grant later added under the same id is a new grant
            // with its own approvals.
            *self = Self::default();
            return;
        };
        if change.before.is_none() {
            *self = Self {
                added: Some(Arc::clone(commit)),
                events: Vec::new(),
            };
        }
        let file = |version: &Version| parsed.get(&version.blob).cloned().flatten();
        let before = change.before.as_ref().and_then(file);
        if let Some(event) = classify(commit, before.as_deref(), file(after).as_deref(), directory)
        {
            self.events.push(event);
        }
    }
}

/// What the history says about the grants of a run.
#[derive(Debug, Default)]
pub struct ChangeHistory {
    /// In pull-request mode, what the change is; `None` in audit mode.
    pub change: Option<Change>,
    pub grants: HashMap<String, GrantHistory>,
}

/// What a pull request changes since its fork point.
#[derive(Debug, Default)]
pub struct Change {
    /// The grants whose content HEAD changed or added.
    pub grants: HashSet<String>,
    /// The blob id of `lapse.yaml` at the fork point: the policy the base
    /// branch's grants were judged against.
    pub base_policy: Option<Oid>,
}

impl Change {
    /// Whether `policy` (the text this run judges against, committed or
    /// not) differs from the base branch's.
    pub fn edits_policy(&self, policy: &str) -> bool {
        Oid::hash_object(ObjectType::Blob, policy.as_bytes()).ok() != self.base_policy
    }
}

/// Audit mode: every grant's history over every commit reachable from HEAD,
/// merged branches included. Only grants that HEAD still holds are judged,
/// so the versions of grants removed since (most of a long history, once
/// prune has done its work) are never read or parsed.
///
/// `known` is called once the commits are listed, so the caller can be
/// parsing the files on disk meanwhile; the versions it returns are not
/// read from git again.
pub fn audit_history(
    repository: &GrantRepository,
    directory: &Directory,
    known: impl FnOnce() -> KnownVersions,
) -> Result<HashMap<String, GrantHistory>, HistoryError> {
    repository.require_full_history()?;
    let mut histories = HashMap::new();
    let Some(head) = repository.head()? else {
        return Ok(histories);
    };
    let mut reader = repository.reader()?;
    let head_tree = reader.grants_tree(&head)?;
    let current: HashSet<String> = reader
        .changes_between(None, head_tree)?
        .into_iter()
        .map(|change| change.id)
        .collect();
    drop(reader);
    let commits = commits_oldest_first(repository, head.id(), None)?;
    let wanted = |id: &str| current.contains(id);
    replay(
        repository,
        &commits,
        directory,
        wanted,
        &known(),
        &mut histories,
    )?;
    Ok(histories)
}

/// Pull-request mode: the grants HEAD changed since it left `base`, judged
/// on the commits of the change. A grant that existed at the fork point
/// starts from that version, with the approvals it had there counted as
/// recorded before the change (they were judged when they were merged).
pub fn change_history(
    repository: &GrantRepository,
    base: &str,
    directory: &Directory,
) -> Result<ChangeHistory, HistoryError> {
    let Some(head) = repository.head()? else {
        return Ok(ChangeHistory {
            change: Some(Change::default()),
            grants: HashMap::new(),
        });
    };
    let fork = repository.fork_point(base, &head)?;
    let base_policy = repository.policy_blob(&fork)?;
    let mut reader = repository.reader()?;
    let (fork_tree, head_tree) = (reader.grants_tree(&fork)?, reader.grants_tree(&head)?);
    let fork_stamp = Arc::new(CommitStamp::read(&fork, directory));
    let mut changed = HashSet::new();
    let mut grants = HashMap::new();
    for change in reader.changes_between(fork_tree, head_tree)? {
        let Some(after) = &change.after else { continue };
        let before_blob = change.before.as_ref().map(|before| before.blob);
        if before_blob == Some(after.blob) {
            continue; // moved, not changed
        }
        let mut history = GrantHistory::default();
        if let Some(before) = &change.before {
            let text = reader.grant_text(before.blob)?;
            let file = parse_version(&before.path, text.as_deref());
            history.events.push(Event {
                commit: Arc::clone(&fork_stamp),
                substantive: true,
                approvals: approvers(file.as_deref(), directory),
            });
        }
        changed.insert(change.id.clone());
        grants.insert(change.id, history);
    }
    drop(reader);
    let commits = commits_oldest_first(repository, head.id(), Some(fork.id()))?;
    let wanted = |id: &str| changed.contains(id);
    let known = KnownVersions::new();
    replay(repository, &commits, directory, wanted, &known, &mut grants)?;
    Ok(ChangeHistory {
        change: Some(Change {
            grants: changed,
            base_policy,
        }),
        grants,
    })
}

/// Records, in order, every change of `commits` to a grant `wanted`
/// accepts, with the versions in `known` taken as parsed.
fn replay<W: Fn(&str) -> bool + Sync>(
    repository: &GrantRepository,
    commits: &[Oid],
    directory: &Directory,
    wanted: W,
    known: &KnownVersions,
    histories: &mut HashMap<String, GrantHistory>,
) -> Result<(), HistoryError> {
    let walk = Walk {
        directory,
        parents: Parents::All,
        wanted,
        versions: Some(known),
    };
    let (log, parsed) = walk_commits(repository, commits, &walk)?;
    for (stamp, changes) in log {
        for change in &changes {
            histories
                .entry(change.id.clone())
                .or_default()
                .record(&stamp, change, &parsed, directory);
        }
    }
    Ok(())
}

fn commits_oldest_first(
    repository: &GrantRepository,
    head: Oid,
    hide: Option<Oid>,
) -> Result<Vec<Oid>, git2::Error> {
    let mut walk = repository.git().revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    walk.push(head)?;
    if let Some(hide) = hide {
        walk.hide(hide)?;
    }
    walk.collect()
}

/// The event a change makes, or `None` when the grant says the same thing
/// as before (reformatting, comments, reordering approvers).
fn classify(
    commit: &Arc<CommitStamp>,
    old_file: Option<&GrantFile>,
    new_file: Option<&GrantFile>,
    directory: &Directory,
) -> Option<Event> {
    let old = approvers(old_file, directory);
    let new = approvers(new_file, directory);
    let added: BTreeSet<String> = new.difference(&old).cloned().collect();
    let nothing_withdrawn = old.is_subset(&new);
    let terms_kept = match (old_file, new_file) {
        (Some(old_file), Some(new_file)) => same_terms(old_file, new_file),
        _ => false,
    };
    if terms_kept && nothing_withdrawn && added.is_empty() {
        return None;
    }
    // The approval act: the author adds their own name and nothing else.
    let author = commit.people.first();
    let approval_only =
        terms_kept && nothing_withdrawn && added.iter().all(|person| Some(person) == author);
    Some(Event {
        commit: Arc::clone(commit),
        substantive: !approval_only,
        approvals: added,
    })
}

/// Whether two versions grant the same thing, whoever approved them. The
/// destructuring is exhaustive, so a new grant field cannot be forgotten here.
fn same_terms(a: &GrantFile, b: &GrantFile) -> bool {
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
