//! `lapse audit`'s one pass over the history of the default branch, read
//! in two views at once. The branch's own view is its first-parent chain:
//! the states the provisioning pipeline applied, where a merged pull
//! request takes effect with its merge (`lapse who` reads the same). The
//! authors' view is every commit merged into it, each compared with all
//! its parents as `lapse check` compares them: who requested, approved or
//! changed a grant, and in which commit.
//!
//! Grants are followed by path through renames on the branch, and kept
//! after they are removed: the audit answers for access that no longer
//! exists, unlike `lapse check`, which follows only the grants HEAD holds.
//! A commit's changes are tied to the grant on the branch through the
//! first-parent commit that brought the commit in: the commits of a merged
//! pull request are replayed just before their merge, so a grant's life on
//! the branch takes up what they wrote.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use git2::Oid;

use crate::model::{Directory, GrantFile};

use super::HistoryError;
use super::commit::CommitStamp;
use super::diff::{GrantChange, KnownVersions, Parents, Version};
use super::mainline::{Branch, Mainline};
use super::repository::GrantRepository;
use super::timeline::{Event, classify};
use super::traversal::Traversal;
use super::walk::{Parsed, Walk, Walked, walk_traversal};

/// What the history of a branch says about every grant it ever held.
#[derive(Debug, Default)]
pub struct Ledger {
    pub mainline: Mainline,
    /// The blob id of `lapse.yaml` in each state of the branch.
    pub policies: Vec<Option<Oid>>,
    /// Every commit read, oldest first, with its committer time: what a
    /// checkpoint records, to tell later whether this history was rewritten.
    pub commits: Vec<(Oid, DateTime<Utc>)>,
    /// Every grant the branch ever held, in the order it arrived.
    pub lives: Vec<Life>,
    /// The commits that changed a grant, by id.
    pub stamps: HashMap<Oid, Arc<CommitStamp>>,
}

/// One grant's time on the branch: from the state that added it to the
/// state that removed it, followed through renames.
#[derive(Debug, Clone)]
pub struct Life {
    pub id: String,
    /// Each version the branch held, from the state that brought it.
    pub versions: Vec<Held>,
    /// The state that removed the grant from the branch, if one did.
    pub removed: Option<usize>,
    /// What the commits that wrote it did, in the order they reached the
    /// branch.
    pub events: Vec<Recorded>,
}

/// A version of a grant as the branch held it from state `state` on.
#[derive(Debug, Clone)]
pub struct Held {
    pub state: usize,
    pub path: PathBuf,
    pub blob: Oid,
    /// `None` when this version is not a valid grant (it gives no access).
    pub file: Option<Arc<GrantFile>>,
}

/// One commit's change to a grant, and the state that brought the commit
/// to the branch.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub event: Event,
    pub state: usize,
    /// Whether this commit created the file (the request).
    pub added: bool,
}

/// The authors' view of one file while the replay follows it.
#[derive(Default)]
struct Written {
    path: PathBuf,
    events: Vec<Recorded>,
    /// How many of `events` a life on the branch has taken up.
    adopted: usize,
}

impl Ledger {
    /// Reads every commit reachable from `tip` once, on every core.
    /// `directory` resolves identities (this run's policy); `keep_signed`
    /// keeps signed commits' bytes for their signature check.
    pub fn read(
        repository: &GrantRepository,
        tip: Oid,
        directory: &Directory,
        keep_signed: bool,
    ) -> Result<Self, HistoryError> {
        repository.require_full_history()?;
        let known = KnownVersions::new();
        let walk = Walk {
            directory,
            parents: Parents::Both,
            wanted: |_: &str| true,
            versions: Some(&known),
            record_commits: true,
            keep_signed,
        };
        let Walked {
            log,
            parsed,
            commits,
        } = std::thread::scope(|scope| {
            let traversal = Traversal::start(scope, repository, tip)?;
            walk_traversal(repository, traversal, &walk)
        })?;
        let branch = Branch::of_walk(tip, &commits);
        let mainline = &branch.mainline;
        let policies = mainline
            .ids()
            .iter()
            .map(|id| branch.info(id).and_then(|info| info.policy.policy))
            .collect();
        let mut replay = Replay::new(&parsed, directory, mainline.len());
        let mut groups = group_by_state(log, &branch.introduced, mainline.len());
        for (state, group) in groups.iter_mut().enumerate() {
            let id = mainline.id(state);
            let own = group
                .iter()
                .find(|(stamp, _)| stamp.id == id)
                .map(|(_, changes)| changes.clone());
            for (stamp, changes) in group.iter() {
                replay.authors_commit(stamp, changes, state);
            }
            let brought = branch
                .info(&id)
                .and_then(|info| info.first_parent_changes.clone())
                .or(own)
                .unwrap_or_default();
            replay.branch_state(&brought, state);
        }
        let stamps = groups
            .into_iter()
            .flatten()
            .map(|(stamp, _)| (stamp.id, stamp))
            .collect();
        Ok(Self {
            policies,
            commits: commits.iter().map(|info| (info.id, info.time)).collect(),
            lives: replay.lives,
            stamps,
            mainline: branch.mainline,
        })
    }
}

/// The log cut into one group per state of the branch: the commits that
/// state brought in, parents before children, the state's own commit last.
/// Replaying the groups in order is a topological order (whatever a state
/// brings in descends only from what it and earlier states brought).
fn group_by_state(
    log: Vec<(Arc<CommitStamp>, Vec<GrantChange>)>,
    introduced: &HashMap<Oid, usize>,
    states: usize,
) -> Vec<Vec<(Arc<CommitStamp>, Vec<GrantChange>)>> {
    let mut groups = vec![Vec::new(); states];
    for (stamp, changes) in log {
        if let Some(group) = introduced.get(&stamp.id).and_then(|s| groups.get_mut(*s)) {
            group.push((stamp, changes));
        }
    }
    groups
}

struct Replay<'a> {
    parsed: &'a Parsed,
    directory: &'a Directory,
    /// The authors' view: each file followed, by index, and where each is.
    written: Vec<Written>,
    written_at: HashMap<PathBuf, usize>,
    /// Files the authors' view changed in the current group.
    touched: HashSet<usize>,
    /// The branch's view: each grant's life, and which life is at each path.
    lives: Vec<Life>,
    on_branch: HashMap<PathBuf, usize>,
    /// Lives the current state removed, by their last path.
    removed_now: HashMap<PathBuf, usize>,
}

impl<'a> Replay<'a> {
    fn new(parsed: &'a Parsed, directory: &'a Directory, states: usize) -> Self {
        Self {
            parsed,
            directory,
            written: Vec::new(),
            written_at: HashMap::new(),
            touched: HashSet::new(),
            lives: Vec::with_capacity(states.min(1 << 16)),
            on_branch: HashMap::new(),
            removed_now: HashMap::new(),
        }
    }

    fn file(&self, version: Option<&Version>) -> Option<Arc<GrantFile>> {
        self.parsed.get(&version?.blob).cloned().flatten()
    }

    /// One commit of the authors' view, as `lapse check` classifies it.
    /// Every file leaves its old path before any arrives at a new one, so
    /// two files swapping paths in one commit stay apart.
    fn authors_commit(&mut self, stamp: &Arc<CommitStamp>, changes: &[GrantChange], state: usize) {
        let left: Vec<Option<usize>> = changes
            .iter()
            .map(|change| self.written_at.remove(&change.before.as_ref()?.path))
            .collect();
        for (change, followed) in changes.iter().zip(left) {
            let Some(after) = &change.after else {
                if let Some(index) = followed {
                    self.touched.insert(index);
                }
                continue;
            };
            let added = followed.is_none() && change.before.is_none();
            let index = followed.unwrap_or_else(|| {
                self.written.push(Written::default());
                self.written.len() - 1
            });
            let merged: Vec<_> = change
                .merged
                .iter()
                .map(|version| self.file(version.as_ref()))
                .collect();
            let event = classify(
                stamp,
                self.file(change.before.as_ref()),
                &merged,
                self.file(Some(after)),
                self.directory,
            );
            let written = &mut self.written[index];
            written.path = after.path.clone();
            if let Some(event) = event {
                written.events.push(Recorded {
                    event,
                    state,
                    added,
                });
            }
            self.written_at.insert(after.path.clone(), index);
            self.touched.insert(index);
        }
    }

    /// The branch's own change in state `state` (against the state
    /// before), then the authors' events of this group taken up by the
    /// grants they wrote.
    fn branch_state(&mut self, changes: &[GrantChange], state: usize) {
        let left: Vec<Option<usize>> = changes
            .iter()
            .map(|change| self.on_branch.remove(&change.before.as_ref()?.path))
            .collect();
        for (change, life) in changes.iter().zip(left) {
            match (&change.after, life) {
                (Some(after), life) => {
                    let held = Held {
                        state,
                        path: after.path.clone(),
                        blob: after.blob,
                        file: self.file(Some(after)),
                    };
                    let life = life.unwrap_or_else(|| {
                        self.lives.push(Life {
                            id: change.id.clone(),
                            versions: Vec::new(),
                            removed: None,
                            events: Vec::new(),
                        });
                        self.lives.len() - 1
                    });
                    self.lives[life].versions.push(held);
                    self.on_branch.insert(after.path.clone(), life);
                }
                (None, Some(life)) => {
                    self.lives[life].removed = Some(state);
                    if let Some(before) = &change.before {
                        self.removed_now.insert(before.path.clone(), life);
                    }
                }
                (None, None) => {}
            }
        }
        for index in std::mem::take(&mut self.touched) {
            let written = &mut self.written[index];
            let life = self
                .on_branch
                .get(&written.path)
                .or_else(|| self.removed_now.get(&written.path));
            if let Some(&life) = life {
                let new = &written.events[written.adopted..];
                self.lives[life].events.extend_from_slice(new);
                written.adopted = written.events.len();
            }
        }
        self.removed_now.clear();
    }
}
