//! The default branch as the provisioning pipeline lived it: its
//! first-parent chain of commits (what `git log --first-parent` lists),
//! each a state of the branch, and the instant from which each state held.
//!
//! `lapse who --at T` reads the branch after its last commit dated at or
//! before `T`. Commit dates are claims and need not grow along the chain,
//! so a commit's changes hold from the earliest date of that commit and of
//! every commit after it: the first instant at which the state read at `T`
//! includes them. `who` and `audit` both take the times of each state from
//! here, which is what makes them agree on who had access when.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use git2::{Commit, Oid};

use super::HistoryError;
use super::authority::{Authority, PolicyCache};
use super::commit::commit_time;
use super::repository::GrantRepository;
use super::timeline::GrantHistory;
use super::walk::CommitInfo;

/// The first-parent chain of a branch tip, oldest first.
#[derive(Debug, Default)]
pub struct Mainline {
    ids: Vec<Oid>,
    /// Committer time of each commit, as written (a claim).
    times: Vec<DateTime<Utc>>,
    /// When each commit's state began to hold: the earliest committer time
    /// of it and of every later commit of the chain.
    held_from: Vec<DateTime<Utc>>,
}

impl Mainline {
    /// The chain from `tip` back to the root, read commit by commit.
    pub fn read(tip: Commit<'_>) -> Result<Self, git2::Error> {
        let mut chain = Vec::new();
        let mut commit = tip;
        loop {
            chain.push((commit.id(), commit_time(&commit)));
            if commit.parent_count() == 0 {
                break;
            }
            commit = commit.parent(0)?;
        }
        chain.reverse();
        Ok(Self::new(chain))
    }

    /// The chain from `tip`, from the commits a walk recorded.
    pub fn of_walk(tip: Oid, commits: &HashMap<Oid, &CommitInfo>) -> Self {
        let mut chain = Vec::new();
        let mut next = Some(tip);
        while let Some(info) = next.and_then(|id| commits.get(&id)) {
            chain.push((info.id, info.time));
            next = info.parents.first().copied();
        }
        chain.reverse();
        Self::new(chain)
    }

    fn new(chain: Vec<(Oid, DateTime<Utc>)>) -> Self {
        let mut held_from = vec![DateTime::<Utc>::MAX_UTC; chain.len()];
        let mut earliest = DateTime::<Utc>::MAX_UTC;
        for (slot, (_, time)) in held_from.iter_mut().zip(&chain).rev() {
            earliest = earliest.min(*time);
            *slot = earliest;
        }
        let (ids, times) = chain.into_iter().unzip();
        Self {
            ids,
            times,
            held_from,
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn ids(&self) -> &[Oid] {
        &self.ids
    }

    pub fn id(&self, state: usize) -> Oid {
        self.ids[state]
    }

    /// The committer time of the commit of state `state`, as written.
    pub fn time(&self, state: usize) -> DateTime<Utc> {
        self.times[state]
    }

    /// The instant from which state `state` (the branch after that commit)
    /// held.
    pub fn held_from(&self, state: usize) -> DateTime<Utc> {
        self.held_from[state]
    }

    /// The instant at which state `state` gave way to the next one; `None`
    /// for the tip, which holds still.
    pub fn held_until(&self, state: usize) -> Option<DateTime<Utc>> {
        self.held_from.get(state + 1).copied()
    }

    /// The state the branch was in at `at`: after its last commit dated at
    /// or before `at`. `None` before the first commit.
    pub fn state_at(&self, at: DateTime<Utc>) -> Option<usize> {
        self.held_from
            .partition_point(|from| *from <= at)
            .checked_sub(1)
    }
}

/// The commits a walk recorded, indexed once for everything that reads the
/// branch's shape (whose policy judges an approval, the policy change in
/// force, when terms were put in force, the ledger): by id, the tip's
/// first-parent chain, and the state of that chain that brought each
/// commit in. Each of them built these maps for itself before, a tenth of
/// an audit's time spent serially after the walk (issue 16's profile).
pub struct Branch<'a> {
    /// Every commit the walk recorded, in the order of the walk.
    pub commits: &'a [CommitInfo],
    by_id: HashMap<Oid, &'a CommitInfo>,
    pub mainline: Mainline,
    /// For every commit reachable from the tip, the state of the chain
    /// that brought it to the branch: the first-parent commit that reaches
    /// it first (what `git log --first-parent` shows as that merge's
    /// branch).
    pub introduced: HashMap<Oid, usize>,
}

impl<'a> Branch<'a> {
    /// The branch whose tip is `tip`, from the commits a walk recorded.
    pub fn of_walk(tip: Oid, commits: &'a [CommitInfo]) -> Self {
        let by_id: HashMap<Oid, &CommitInfo> = commits.iter().map(|info| (info.id, info)).collect();
        let mainline = Mainline::of_walk(tip, &by_id);
        let introduced = introducing_states(&mainline, &by_id);
        Self {
            commits,
            by_id,
            mainline,
            introduced,
        }
    }

    pub fn info(&self, id: &Oid) -> Option<&'a CommitInfo> {
        self.by_id.get(id).copied()
    }

    /// The first-parent commit that brought `commit` to the branch.
    pub fn introducing_commit(&self, commit: &Oid) -> Option<Oid> {
        let state = self.introduced.get(commit)?;
        Some(self.mainline.id(*state))
    }
}

/// Walking the first-parent chain oldest first, each state claims what its
/// commit reaches that no earlier state did.
fn introducing_states(
    mainline: &Mainline,
    commits: &HashMap<Oid, &CommitInfo>,
) -> HashMap<Oid, usize> {
    let mut introduced = HashMap::with_capacity(commits.len());
    for (state, id) in mainline.ids().iter().enumerate() {
        let mut pending = vec![*id];
        while let Some(id) = pending.pop() {
            if let Entry::Vacant(slot) = introduced.entry(id) {
                slot.insert(state);
                if let Some(info) = commits.get(&id) {
                    pending.extend(info.parents.iter().copied());
                }
            }
        }
    }
    introduced
}

/// When the terms each grant of `grants` has now were put in force on
/// `branch`: the instant from which the first-parent state that brought in
/// its last substantive change held. A grant's own commit dates are claims
/// of its author; this is the branch's.
pub fn terms_in_force(
    branch: &Branch,
    grants: &HashMap<PathBuf, GrantHistory>,
) -> HashMap<PathBuf, DateTime<Utc>> {
    grants
        .iter()
        .filter_map(|(path, history)| {
            let commit = history.last_substantive_change()?.commit.as_ref()?;
            let state = branch.introduced.get(&commit.id)?;
            Some((path.clone(), branch.mainline.held_from(*state)))
        })
        .collect()
}

/// The policy of each state of the branch that lapse reads it under: the
/// `lapse.yaml` of that state, parsed once per version; `None` where the
/// state has none, or one that does not parse (the caller's policy judges
/// then, as for any grant the history cannot tell about).
#[derive(Default)]
pub struct StatePolicies {
    cache: PolicyCache<'static>,
}

impl StatePolicies {
    pub fn of_blob(
        &mut self,
        repository: &GrantRepository,
        blob: Option<Oid>,
    ) -> Result<Option<Arc<Authority>>, HistoryError> {
        match blob {
            Some(blob) => self.cache.authority(repository, blob),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    fn chain(times: &[i64]) -> Mainline {
        let ids =
            (0..times.len()).map(|n| Oid::hash_object(git2::ObjectType::Blob, &[n as u8]).unwrap());
        Mainline::new(ids.zip(times.iter().map(|t| at(*t))).collect())
    }

    #[test]
    fn the_state_at_an_instant_is_after_the_last_commit_dated_at_or_before_it() {
        let mainline = chain(&[10, 20, 30]);
        assert_eq!(mainline.state_at(at(9)), None);
        assert_eq!(mainline.state_at(at(10)), Some(0));
        assert_eq!(mainline.state_at(at(29)), Some(1));
        assert_eq!(mainline.state_at(at(99)), Some(2));
        assert_eq!(mainline.held_until(1), Some(at(30)));
        assert_eq!(mainline.held_until(2), None);
    }

    #[test]
    fn a_commit_dated_before_its_parent_brings_the_parent_with_it() {
        // The second commit claims an earlier date than the first: at 7 the
        // branch is read after the second, which includes the first.
        let mainline = chain(&[10, 5, 20]);
        assert_eq!(mainline.state_at(at(7)), Some(1));
        assert_eq!(mainline.state_at(at(12)), Some(1));
        assert_eq!(mainline.held_from(0), at(5));
        assert_eq!(mainline.held_until(0), Some(at(5)));
    }
}
