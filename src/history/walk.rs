//! Walking a list of commits on every core: what each commit changed in
//! the grants tree, in the order of the list. Each commit is compared with
//! its own parents, so the list can be cut into pieces that threads walk at
//! the same time.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use chrono::{DateTime, Utc};
use git2::{Oid, Repository};

use crate::model::{Directory, GrantFile};

use super::HistoryError;
use super::commit::CommitStamp;
use super::diff::{GrantChange, KnownVersions, Parents, PolicyFiles, TreeReader, parse_version};
use super::repository::GrantRepository;

/// Parsed grant versions by blob id; `None` for a version that is not a
/// valid grant.
pub type Parsed = HashMap<Oid, Option<Arc<GrantFile>>>;

/// Each commit that changed a wanted grant, with those changes, in the
/// order of the walk.
pub type CommitLog = Vec<(Arc<CommitStamp>, Vec<GrantChange>)>;

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

/// One piece of the walk, as a thread returns it.
struct Piece {
    index: usize,
    log: CommitLog,
    commits: Vec<CommitInfo>,
}

/// The changes `commits` (oldest first, parents before children) made to
/// wanted grants, in that order, and the versions they contain, parsed when
/// the walk asks for them.
pub fn walk_commits<W: Fn(&str) -> bool + Sync>(
    repository: &GrantRepository,
    commits: &[Oid],
    walk: &Walk<'_, W>,
) -> Result<Walked, HistoryError> {
    let threads = thread::available_parallelism().map_or(1, usize::from);
    // Later commits cost more than early ones (their directories hold more
    // grants), so a thread that finishes early takes the next piece rather
    // than each thread owning a fixed half. A piece's first commits miss
    // the tree cache, so pieces are not made smaller than needed.
    let piece_size = commits.len().div_ceil(threads * 8).max(64);
    let pieces: Vec<&[Oid]> = commits.chunks(piece_size).collect();
    let next_piece = AtomicUsize::new(0);
    let workers = threads.min(pieces.len());
    // A pull request's few commits are one piece: walked here, without a
    // second repository handle or a thread.
    let results: Vec<_> = if workers <= 1 {
        vec![walk_pieces(repository, &pieces, &next_piece, walk)]
    } else {
        thread::scope(|scope| {
            let workers: Vec<_> = (0..workers)
                .map(|thread| {
                    let (pieces, next_piece) = (&pieces, &next_piece);
                    let own = repository.reopen(thread);
                    scope.spawn(move || walk_pieces(&own?, pieces, next_piece, walk))
                })
                .collect();
            crate::parallel::join_all(workers)
        })
    };
    let mut done = Vec::with_capacity(pieces.len());
    let mut walked = Walked::default();
    for result in results {
        let (worker_pieces, worker_parsed) = result?;
        done.extend(worker_pieces);
        walked.parsed.extend(worker_parsed);
    }
    done.sort_unstable_by_key(|piece| piece.index);
    for piece in done {
        walked.log.extend(piece.log);
        walked.commits.extend(piece.commits);
    }
    Ok(walked)
}

/// Walks the pieces this thread takes, with one reader so that its caches
/// carry over from piece to piece. Returns each piece's log by piece number
/// and the versions parsed.
fn walk_pieces<W: Fn(&str) -> bool>(
    repository: &GrantRepository,
    pieces: &[&[Oid]],
    next_piece: &AtomicUsize,
    walk: &Walk<'_, W>,
) -> Result<(Vec<Piece>, Parsed), HistoryError> {
    let mut reader = repository.reader()?;
    let mut parsed = Parsed::new();
    let mut done = Vec::new();
    loop {
        let index = next_piece.fetch_add(1, Ordering::Relaxed);
        let Some(piece) = pieces.get(index) else {
            return Ok((done, parsed));
        };
        let mut walked = walk_piece(repository.git(), &mut reader, piece, walk, &mut parsed)?;
        walked.index = index;
        done.push(walked);
    }
}

/// The changes to wanted grants of each commit of `piece`, parsing into
/// `parsed` the versions they contain when the walk asks for them.
fn walk_piece<W: Fn(&str) -> bool>(
    git: &Repository,
    reader: &mut TreeReader,
    piece: &[Oid],
    walk: &Walk<'_, W>,
    parsed: &mut Parsed,
) -> Result<Piece, HistoryError> {
    let mut done = Piece {
        index: 0,
        log: Vec::new(),
        commits: Vec::new(),
    };
    for id in piece {
        let commit = git.find_commit(*id)?;
        let (mut changes, mut first_parent_changes) = match walk.parents {
            Parents::Both if commit.parent_count() > 1 => {
                let first = reader.first_parent_changes(&commit)?;
                (
                    reader.own_merge_changes(&commit, first.clone())?,
                    Some(first),
                )
            }
            parents => (reader.commit_changes(&commit, parents)?, None),
        };
        changes.retain(|change| (walk.wanted)(&change.id));
        if let Some(first) = &mut first_parent_changes {
            first.retain(|change| (walk.wanted)(&change.id));
            if let Some(known) = walk.versions {
                parse_versions(reader, first, known, parsed)?;
            }
        }
        if walk.record_commits {
            done.commits
                .push(commit_info(reader, &commit, walk, first_parent_changes)?);
        }
        if changes.is_empty() {
            continue;
        }
        if let Some(known) = walk.versions {
            parse_versions(reader, &changes, known, parsed)?;
        }
        let stamp = Arc::new(stamp_of(&commit, walk));
        done.log.push((stamp, changes));
    }
    Ok(done)
}

/// Who made `commit`, with its bytes when the walk keeps signed commits'.
fn stamp_of<W>(commit: &git2::Commit, walk: &Walk<'_, W>) -> CommitStamp {
    if walk.keep_signed {
        CommitStamp::read_keeping_signed(commit, walk.directory)
    } else {
        CommitStamp::read(commit, walk.directory)
    }
}

const TRAILER_KEY: &[u8] = b"lapse-approves";

fn commit_info<W>(
    reader: &mut TreeReader,
    commit: &git2::Commit,
    walk: &Walk<'_, W>,
    first_parent_changes: Option<Vec<GrantChange>>,
) -> Result<CommitInfo, git2::Error> {
    let policy = reader.trees_of(commit)?.policy;
    let parents: Vec<Oid> = commit.parent_ids().collect();
    let mut changes_policy = true;
    for parent in &parents {
        changes_policy &= reader.trees_of_id(*parent)?.policy != policy;
    }
    // Reading who made a commit parses its message; most commits neither
    // change the policy nor mention an approval of it.
    let mentions_approval = commit
        .message_bytes()
        .windows(TRAILER_KEY.len())
        .any(|window| window.eq_ignore_ascii_case(TRAILER_KEY));
    let stamp = (changes_policy || mentions_approval).then(|| Arc::new(stamp_of(commit, walk)));
    Ok(CommitInfo {
        id: commit.id(),
        parents,
        time: super::commit::commit_time(commit),
        policy,
        changes_policy,
        stamp,
        first_parent_changes,
    })
}

fn parse_versions(
    reader: &TreeReader,
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
