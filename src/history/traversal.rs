//! Every commit reachable from a tip, each read once, handed to the walk
//! as it is read, and at the end their order: the one libgit2's revwalk
//! gives with `Sort::TOPOLOGICAL | Sort::REVERSE` and nothing hidden
//! (libgit2 1.9, revwalk.c: `limit_list`, then `sort_in_topological_order`,
//! then the reversal), which decides the order in which the changes of
//! concurrent branches are replayed.
//!
//! libgit2's revwalk reads every commit before it gives the first, on one
//! thread, and the walk then read each commit again (a sixth of an audit).
//! Here the walk's threads compare trees while the commits are still being
//! read.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::{Scope, ScopedJoinHandle};

use git2::Oid;

use super::HistoryError;
use super::object::CommitObject;
use super::pack::ObjectReader;
use super::repository::GrantRepository;

/// Commits handed over at a time: enough that a walking thread's tree
/// cache carries from one commit to the next.
pub const BATCH: usize = 1024;

/// Batches read ahead of the walk at most, so that memory stays bounded
/// when reading outpaces comparing.
const QUEUED_BATCHES: usize = 4;

/// Consecutive commits in the order they were read, numbered from `first`.
pub struct Batch {
    pub first: usize,
    pub commits: Vec<CommitObject>,
}

/// A traversal under way on a thread of its own.
pub struct Traversal<'scope> {
    pub batches: Receiver<Batch>,
    /// The order, oldest first, as the numbers the commits were read under.
    pub order: ScopedJoinHandle<'scope, Result<Vec<usize>, HistoryError>>,
}

impl<'scope> Traversal<'scope> {
    /// Starts reading the commits reachable from `tip` through pack
    /// handles of its own: the walk's threads take `reopen`'s numbers from
    /// 0, one per core, and this one the next.
    pub fn start<'env>(
        scope: &'scope Scope<'scope, 'env>,
        repository: &GrantRepository,
        tip: Oid,
    ) -> Result<Self, HistoryError> {
        let own = repository.reopen(crate::parallel::cores())?;
        let (send, batches) = sync_channel(QUEUED_BATCHES);
        let order = scope.spawn(move || read_reachable(&mut own.objects()?, tip, &send));
        Ok(Self { batches, order })
    }
}

/// One commit of the graph, as the ordering needs it.
struct Node {
    time: i64,
    /// Its parents' ids until it is taken from the queue, then none.
    parent_ids: Vec<Oid>,
    /// Its parents' numbers, once it is taken from the queue.
    parents: Vec<usize>,
}

/// Reads the commits from `tip` in the order of libgit2's `limit_list`,
/// sending them in batches, and returns their topological order.
fn read_reachable(
    objects: &mut ObjectReader,
    tip: Oid,
    send: &SyncSender<Batch>,
) -> Result<Vec<usize>, HistoryError> {
    let mut graph = Graph {
        objects,
        send,
        nodes: Vec::new(),
        numbers: HashMap::new(),
        batch: Vec::with_capacity(BATCH),
    };
    let tip = graph.read(tip)?;
    // The order does not depend on the order of reading; reading newest
    // first, as libgit2's `limit_list` does (by committer time, a commit
    // behind those of the same time), hands the walk's threads runs of
    // neighbouring commits, whose trees are mostly the same.
    let mut queue = BinaryHeap::from([(graph.nodes[tip].time, Reverse(0), tip)]);
    let mut queued = 1;
    while let Some((_, _, next)) = queue.pop() {
        let parent_ids = std::mem::take(&mut graph.nodes[next].parent_ids);
        let mut parents = Vec::with_capacity(parent_ids.len());
        for id in parent_ids {
            let parent = match graph.numbers.get(&id) {
                Some(&known) => known,
                None => {
                    let parent = graph.read(id)?;
                    queue.push((graph.nodes[parent].time, Reverse(queued), parent));
                    queued += 1;
                    parent
                }
            };
            parents.push(parent);
        }
        graph.nodes[next].parents = parents;
    }
    graph.flush()?;
    Ok(topological_order(&graph.nodes, tip))
}

struct Graph<'a, 'r> {
    objects: &'a mut ObjectReader<'r>,
    send: &'a SyncSender<Batch>,
    nodes: Vec<Node>,
    numbers: HashMap<Oid, usize>,
    batch: Vec<CommitObject>,
}

impl Graph<'_, '_> {
    /// Reads commit `id`, numbers it, and hands it to the walk.
    fn read(&mut self, id: Oid) -> Result<usize, HistoryError> {
        let object = self.objects.read_commit(id)?;
        let number = self.nodes.len();
        self.nodes.push(Node {
            time: object.committer_time,
            parent_ids: object.parents.clone(),
            parents: Vec::new(),
        });
        self.numbers.insert(id, number);
        self.batch.push(object);
        if self.batch.len() == BATCH {
            self.flush()?;
        }
        Ok(number)
    }

    fn flush(&mut self) -> Result<(), HistoryError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let commits = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        let first = self.nodes.len() - commits.len();
        // The walk hangs up only when it failed, and reports its own error.
        self.send
            .send(Batch { first, commits })
            .map_err(|_| git2::Error::from_str("the walk of the history stopped").into())
    }
}

/// libgit2's `sort_in_topological_order` without time sorting, reversed.
/// Every commit but the tip is some commit's parent, so the tip is the one
/// place to start; from there it goes depth first, a parent given once
/// all its children are, in the order the children list their parents.
fn topological_order(nodes: &[Node], tip: usize) -> Vec<usize> {
    // libgit2 counts one more than the children not yet given.
    let mut in_degree = vec![1usize; nodes.len()];
    for node in nodes {
        for &parent in &node.parents {
            in_degree[parent] += 1;
        }
    }
    let mut stack = vec![tip];
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(next) = stack.pop() {
        for &parent in &nodes[next].parents {
            if in_degree[parent] == 0 {
                continue;
            }
            in_degree[parent] -= 1;
            if in_degree[parent] == 1 {
                stack.push(parent);
            }
        }
        in_degree[next] = 0;
        order.push(next);
    }
    order.reverse();
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use git2::{Repository, Signature, Sort, Time};

    use crate::history::pack::Packs;

    /// A history of `count` commits, each with one to three earlier parents
    /// and a committer time drawn from few values (ties and clock skew
    /// everywhere), its tip merging every commit no other one has as parent.
    fn tangled_history(repo: &Repository, count: usize) -> Oid {
        let tree = repo
            .find_tree(repo.treebuilder(None).unwrap().write().unwrap())
            .unwrap();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |below: usize| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as usize % below
        };
        let mut commits = Vec::new();
        let mut childless = Vec::new();
        for n in 0..count {
            let mut parents = Vec::new();
            for _ in 0..if n == 0 { 0 } else { 1 + next(3) } {
                let parent = commits[next(commits.len())];
                if !parents.contains(&parent) {
                    parents.push(parent);
                }
            }
            childless.retain(|id| !parents.contains(id));
            let id = commit(repo, &tree, &parents, 1_000 + next(8) as i64, n);
            childless.push(id);
            commits.push(id);
        }
        commit(repo, &tree, &childless, 1_000, count)
    }

    fn commit(repo: &Repository, tree: &git2::Tree, parents: &[Oid], time: i64, n: usize) -> Oid {
        let signature = Signature::new("A", "a@example.com", &Time::new(time, 0)).unwrap();
        let parents: Vec<_> = parents
            .iter()
            .map(|id| repo.find_commit(*id).unwrap())
            .collect();
        let parents: Vec<_> = parents.iter().collect();
        repo.commit(
            None,
            &signature,
            &signature,
            &format!("{n}"),
            tree,
            &parents,
        )
        .unwrap()
    }

    #[test]
    fn reads_every_commit_once_in_the_order_of_libgit2s_revwalk() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let tip = tangled_history(&repo, 300);
        let mut revwalk = repo.revwalk().unwrap();
        revwalk
            .set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
            .unwrap();
        revwalk.push(tip).unwrap();
        let theirs: Vec<Oid> = revwalk.collect::<Result<_, _>>().unwrap();

        let (send, batches) = sync_channel(8);
        let packs = Packs::default();
        let mut objects = ObjectReader::new(repo.odb().unwrap(), &packs);
        let order = read_reachable(&mut objects, tip, &send).unwrap();
        drop(send);
        let read: Vec<Oid> = batches
            .iter()
            .flat_map(|batch| batch.commits)
            .map(|c| c.id)
            .collect();
        let ours: Vec<Oid> = order.iter().map(|&number| read[number]).collect();
        assert_eq!(read.len(), theirs.len());
        assert_eq!(ours, theirs);
    }
}
