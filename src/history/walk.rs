//! Walking commits on every core: what each commit changed in the grants
//! tree, in the order of the history. Each commit is compared with its own
//! parents, so a list of commits can be cut into pieces that threads walk
//! at the same time, and the commits a traversal reads can be walked as
//! they arrive, in batches.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use chrono::{DateTime, Utc};
use git2::Oid;

use crate::model::{Directory, GrantFile};

use super::HistoryError;
use super::commit::CommitStamp;
use super::diff::{GrantChange, KnownVersions, Parents, PolicyFiles, TreeReader, parse_version};
use super::object::CommitObject;
use super::repository::GrantRepository;
use super::traversal::{Batch, Traversal};

/// Parsed grant versions by blob id; `None` for a version that is not a
/// valid grant.
pub type Parsed = HashMap<Oid, Option<Arc<GrantFile>>>;

/// Each commit that changed a wanted grant, with those changes, in the
/// order of the walk.
pub type CommitLog = Vec<LogEntry>;

/// One commit that changed a wanted grant, with those changes.
pub type LogEntry = (Arc<CommitStamp>, Vec<GrantChange>);

/// What a walk records.
pub struct Walk<'a, W> {
    pub directory: &'a Directory,
    /// Which parents each commit is compared with.
    pub parents: Parents,
    /// The grants whose changes are kept, by id.
    pub wanted: W,
    /// Whether to parse every version the kept changes contain, taking
    /// those given here as parsed; `None` reads no versions at all.
    pub versions: Option<&'a KnownVersions>,
    /// Whether to keep every commit's parents and policy files
    /// (`Walked::commits`), for the rules that judge the branch's shape
    /// and its policy changes.
    pub record_commits: bool,
    /// Whether the stamps of signed commits keep the commits' bytes, for a
    /// run whose policy asks for signed commits.
    pub keep_signed: bool,
}

/// One walked commit, as the authority and policy-change rules need it.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub id: Oid,
    pub parents: Vec<Oid>,
    /// Committer time, as written in the commit (a claim).
    pub time: DateTime<Utc>,
    pub policy: PolicyFiles,
    /// Whether the commit's policy files differ from every parent's: it
    /// wrote part of a policy change (a merge only when it edits them).
    pub changes_policy: bool,
    /// Who made it, for the commits that change the policy or carry an
    /// owner's approval of it.
    pub stamp: Option<Arc<CommitStamp>>,
    /// For a merge walked with `Parents::Both`, its changes to wanted
    /// grants against its first parent alone: what it brought to the
    /// branch it was made on.
    pub first_parent_changes: Option<Vec<GrantChange>>,
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct Walked {
    pub log: CommitLog,
    pub parsed: Parsed,
    /// Every commit walked, in the order of the walk, when the walk records
    /// them.
    pub commits: Vec<CommitInfo>,
}

/// What one thread walked: each commit's entries under the number it
/// was handed over with, and the versions it parsed.
#[derive(Default)]
struct Walker {
    log: Vec<(usize, LogEntry)>,
    commits: Vec<(usize, CommitInfo)>,
    parsed: Parsed,
}

/// The changes `commits` (oldest first, parents before children) made to
/// wanted grants, in that order, and the versions they contain, parsed when
/// the walk asks for them.
pub fn walk_commits<W: Fn(&str) -> bool + Sync>(
    repository: &GrantRepository,
    commits: &[Oid],
    walk: &Walk<'_, W>,
) -> Result<Walked, HistoryError> {
    let threads = crate::parallel::cores();
    // Later commits cost more than early ones (their directories hold more
    // grants), so a thread that finishes early takes the next piece rather
    // than each thread owning a fixed half. A piece's first commits miss
    // the tree cache, so pieces are not made smaller than needed.
    let piece_size = commits.len().div_ceil(threads * 8).max(64);
    let pieces: Vec<(usize, &[Oid])> = commits
        .chunks(piece_size)
        .enumerate()
        .map(|(index, piece)| (index * piece_size, piece))
        .collect();
    let next_piece = AtomicUsize::new(0);
    let take = || {
        pieces
            .get(next_piece.fetch_add(1, Ordering::Relaxed))
            .copied()
    };
    let workers = threads.min(pieces.len());
    // A pull request's few commits are one piece: walked here, without a
    // second repository handle or a thread.
    let walkers = if workers <= 1 {
        vec![walk_pieces(repository, take, walk)]
    } else {
        on_threads(repository, workers, |own| walk_pieces(own, take, walk))
    };
    let walkers = walkers.into_iter().collect::<Result<_, _>>()?;
    Ok(assemble(walkers, |number| number))
}

/// The changes every commit of `traversal` made to wanted grants, in the
/// traversal's order, walked on every core while it reads them.
pub fn walk_traversal<W: Fn(&str) -> bool + Sync>(
    repository: &GrantRepository,
    traversal: Traversal<'_>,
    walk: &Walk<'_, W>,
) -> Result<Walked, HistoryError> {
    let batches = Mutex::new(traversal.batches);
    let take = || {
        let batches = batches.lock().unwrap_or_else(PoisonError::into_inner);
        batches.recv().ok()
    };
    let walkers = on_threads(repository, crate::parallel::cores(), |own| {
        walk_batches(own, take, walk)
    });
    // Every walker is done; the traversal, if they failed, stops at its
    // next batch.
    drop(batches);
    let order = crate::parallel::join(traversal.order);
    let walkers = walkers.into_iter().collect::<Result<_, _>>()?;
    let order = order?;
    let mut rank = vec![0; order.len()];
    for (position, number) in order.into_iter().enumerate() {
        rank[number] = position;
    }
    Ok(assemble(walkers, |number| rank[number]))
}

/// `work` on `threads` threads, each with a repository handle of its own
/// (`GrantRepository::reopen`, numbered from 0).
fn on_threads<R: Send>(
    repository: &GrantRepository,
    threads: usize,
    work: impl Fn(&GrantRepository) -> Result<R, HistoryError> + Sync,
) -> Vec<Result<R, HistoryError>> {
    let work = &work;
    thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                let own = repository.reopen(thread);
                scope.spawn(move || work(&own?))
            })
            .collect();
        crate::parallel::join_all(workers)
    })
}

/// Every walker's entries in one walk, ordered by `rank` of their numbers.
fn assemble(walkers: Vec<Walker>, rank: impl Fn(usize) -> usize) -> Walked {
    let mut log = Vec::new();
    let mut commits = Vec::new();
    let mut walked = Walked::default();
    for walker in walkers {
        log.extend(walker.log);
        commits.extend(walker.commits);
        walked.parsed.extend(walker.parsed);
    }
    log.sort_by_key(|(number, _)| rank(*number));
    commits.sort_by_key(|(number, _)| rank(*number));
    walked.log = log.into_iter().map(|(_, entry)| entry).collect();
    walked.commits = commits.into_iter().map(|(_, info)| info).collect();
    walked
}

/// Walks the pieces of commit ids `take` gives this thread, with one
/// reader so that its caches carry over from piece to piece.
fn walk_pieces<'p, W: Fn(&str) -> bool>(
    repository: &GrantRepository,
    take: impl Fn() -> Option<(usize, &'p [Oid])>,
    walk: &Walk<'_, W>,
) -> Result<Walker, HistoryError> {
    let mut reader = repository.reader()?;
    let mut walker = Walker::default();
    while let Some((first, piece)) = take() {
        for (number, id) in (first..).zip(piece) {
            let commit = reader.read_commit(*id)?;
            walker.walk_commit(&mut reader, number, &commit, walk)?;
        }
    }
    Ok(walker)
}

/// Walks the batches of read commits `take` gives this thread.
fn walk_batches<W: Fn(&str) -> bool>(
    repository: &GrantRepository,
    take: impl Fn() -> Option<Batch>,
    walk: &Walk<'_, W>,
) -> Result<Walker, HistoryError> {
    let mut reader = repository.reader()?;
    let mut walker = Walker::default();
    while let Some(batch) = take() {
        // A batch comes newest first; a tree is parsed fastest as a version
        // of its parent's (`RawTree::parse_like`), so its parent goes first.
        for (offset, commit) in batch.commits.iter().enumerate().rev() {
            let number = batch.first + offset;
            walker.walk_commit(&mut reader, number, commit, walk)?;
        }
    }
    Ok(walker)
}

impl Walker {
    /// Records what `commit`, handed over as `number`, changed in wanted
    /// grants, parsing the versions they contain when the walk asks for
    /// them.
    fn walk_commit<W: Fn(&str) -> bool>(
        &mut self,
        reader: &mut TreeReader,
        number: usize,
        commit: &CommitObject,
        walk: &Walk<'_, W>,
    ) -> Result<(), HistoryError> {
        let (mut changes, mut first_parent_changes) = match walk.parents {
            Parents::Both if commit.parents.len() > 1 => {
                let first = reader.first_parent_changes(commit)?;
                (
                    reader.own_merge_changes(commit, first.clone())?,
                    Some(first),
                )
            }
            parents => (reader.commit_changes(commit, parents)?, None),
        };
        // Kept until the walk ends, one list per commit: most commits change
        // one grant, and a list grown by `push` holds room for four (at
        // 200,000 commits, 108 MB where 27 MB are used; heaptrack).
        changes.retain(|change| (walk.wanted)(&change.id));
        changes.shrink_to_fit();
        if let Some(first) = &mut first_parent_changes {
            first.retain(|change| (walk.wanted)(&change.id));
            first.shrink_to_fit();
            if let Some(known) = walk.versions {
                parse_versions(reader, first, known, &mut self.parsed)?;
            }
        }
        if walk.record_commits {
            let info = commit_info(reader, commit, walk, first_parent_changes)?;
            self.commits.push((number, info));
        }
        if changes.is_empty() {
            return Ok(());
        }
        if let Some(known) = walk.versions {
            parse_versions(reader, &changes, known, &mut self.parsed)?;
        }
        let stamp = Arc::new(stamp_of(commit, walk));
        self.log.push((number, (stamp, changes)));
        Ok(())
    }
}

/// Who made `commit`, with its bytes when the walk keeps signed commits'.
fn stamp_of<W>(commit: &CommitObject, walk: &Walk<'_, W>) -> CommitStamp {
    if walk.keep_signed {
        CommitStamp::read_keeping_signed(commit, walk.directory)
    } else {
        CommitStamp::read(commit, walk.directory)
    }
}

const TRAILER_KEY: &[u8] = b"lapse-approves";

fn commit_info<W>(
    reader: &mut TreeReader,
    commit: &CommitObject,
    walk: &Walk<'_, W>,
    first_parent_changes: Option<Vec<GrantChange>>,
) -> Result<CommitInfo, git2::Error> {
    let policy = reader.trees_of_object(commit)?.policy;
    let parents = commit.parents.clone();
    let mut changes_policy = true;
    for parent in &parents {
        changes_policy &= reader.trees_of_id(*parent)?.policy != policy;
    }
    // Reading who made a commit parses its message; most commits neither
    // change the policy nor mention an approval of it.
    let mentions_approval = commit
        .message()
        .windows(TRAILER_KEY.len())
        .any(|window| window.eq_ignore_ascii_case(TRAILER_KEY));
    let stamp = (changes_policy || mentions_approval).then(|| Arc::new(stamp_of(commit, walk)));
    Ok(CommitInfo {
        id: commit.id,
        parents,
        time: commit.time(),
        policy,
        changes_policy,
        stamp,
        first_parent_changes,
    })
}

fn parse_versions(
    reader: &mut TreeReader,
    changes: &[GrantChange],
    known: &KnownVersions,
    parsed: &mut Parsed,
) -> Result<(), HistoryError> {
    let versions = changes.iter().flat_map(|change| {
        let merged = change.merged.iter().flatten();
        change.before.iter().chain(&change.after).chain(merged)
    });
    for version in versions {
        if let Entry::Vacant(slot) = parsed.entry(version.blob) {
            let file = match known.get(&version.blob) {
                Some(file) => Some(Arc::clone(file)),
                None => {
                    let text = reader.grant_text(version.blob)?;
                    parse_version(&version.path, text.as_deref())
                }
            };
            slot.insert(file);
        }
    }
    Ok(())
}
