//! Which grant files a commit changed, found by comparing trees top-down:
//! a subtree whose object id is the same on both sides is skipped unread,
//! so a commit costs in proportion to what it changed, not to the size of
//! the grants tree.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use git2::{Commit, ObjectType, Oid};

use super::cache::{RecentCache, Weight};
use super::object::CommitObject;
use super::pack::ObjectReader;
use super::raw_tree::{RawEntry, RawTree, git_order};
use crate::load::grant::{grant_id_of, has_grant_id};
use crate::load::parse_grant;
use crate::load::tree::{Classified, MAX_FILE_BYTES, classify_entry};
use crate::load::{GRANTS_DIR, MODULES_DIR, POLICY_FILE, TEMPLATES_DIR};
use crate::model::GrantFile;

/// Deepest nesting below `grants/` that is followed, as on disk
/// (`load::tree`): a crafted tree cannot exhaust the stack.
const MAX_DEPTH: usize = 16;

/// Most tree entries one comparison may visit. A tree object can name the
/// same subtree any number of times, so a few kilobytes of crafted trees
/// (a thousand entries per level, each the same subtree) stand for more
/// paths than any walk can finish; 50,000 grants are about 50,000 entries.
const MAX_ENTRIES_PER_COMPARISON: usize = 2_000_000;

/// One version of a grant file as committed.
#[derive(Debug, Clone)]
pub struct Version {
    /// Relative to the directory holding `lapse.yaml`.
    pub path: PathBuf,
    pub blob: Oid,
}

/// What a commit did to one grant file. A grant is followed by its path;
/// a rename (`git mv`, the same id leaving one path and arriving at
/// another in one commit) is one change with the old path before and the
/// new path after. Keying by path rather than id is what keeps a second
/// file with the same id (a decoy, deleted later) from ending or resetting
/// the real grant's history.
#[derive(Debug, Clone)]
pub struct GrantChange {
    pub id: String,
    pub before: Option<Version>,
    pub after: Option<Version>,
    /// For a merge commit compared with every parent: the grant's version
    /// in each parent after the first (`None` where a parent lacks it).
    /// What a merge brings from a branch was written on that branch, so
    /// approvals found in any parent are not recorded by the merge.
    pub merged: Vec<Option<Version>>,
}

impl GrantChange {
    /// The path the grant has after the commit (before it, if removed).
    pub fn key(&self) -> &Path {
        match (&self.after, &self.before) {
            (Some(after), _) => &after.path,
            (None, Some(before)) => &before.path,
            (None, None) => Path::new(""),
        }
    }
}

/// Which parents a merge commit is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parents {
    /// The first parent only: what the merge brought to the branch (`lapse who`).
    First,
    /// Every parent: a grant counts as changed by the merge itself only where
    /// the result differs from all parents (a conflict resolution or an
    /// "evil merge"); changes merged from a branch belong to that branch's
    /// own commits, which the walk visits too (like `git log --cc`).
    All,
    /// Every parent as `All`, and for a merge also the changes against its
    /// first parent alone (`CommitInfo::first_parent_changes`): what the
    /// merge brought to the branch. `lapse audit` reads both views, who
    /// wrote what and what the default branch held, in one walk.
    Both,
}

/// Trees kept parsed between commits, per generation (so at most twice as
/// many per walking thread): at most 128 trees and at most 8 MiB. A
/// commit's parent side is the tree the previous commit touching that
/// directory produced, so keeping the recently used trees means most
/// directories are read once per version rather than twice. 128 trees of
/// 500-grant directories are about 4 MB; by count alone, 128 versions of
/// a directory of 50,000 grants were 330 MB. One version of every
/// directory of 50,000 grants is about 3 MB however they are spread.
const TREE_CACHE_BYTES: usize = 8 << 20;
const TREE_CACHE_TREES: usize = 128;

/// Commits whose grants tree is remembered: a commit's parent is almost
/// always one of the commits walked just before it, so its grants tree is
/// known without reading the parent commit and its root tree again.
const COMMIT_CACHE_SIZE: usize = 1024;

/// Reads grant trees and blobs, caching recently used trees.
pub struct TreeReader<'r> {
    objects: ObjectReader<'r>,
    /// Components from the git work tree root to the directory holding
    /// `lapse.yaml` and `grants/`.
    prefix: Vec<String>,
    trees: RecentCache<Oid, Arc<RawTree>>,
    /// The grants tree and policy files of recently read commits, by
    /// commit id.
    commit_trees: RecentCache<Oid, CommitTrees>,
    /// Tree entries the current comparison may still visit.
    budget: usize,
}

/// The ids of the files that make the policy in a commit: `lapse.yaml`
/// and the `templates/` and `modules/` trees beside it. A change to any of
/// them changes what every grant means (and needs `owners`' approval).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PolicyFiles {
    pub policy: Option<Oid>,
    pub templates: Option<Oid>,
    pub modules: Option<Oid>,
}

/// What lapse reads of a commit's tree.
#[derive(Debug, Clone, Copy, Default)]
pub struct CommitTrees {
    pub grants: Option<Oid>,
    pub policy: PolicyFiles,
}

impl Weight for Arc<RawTree> {
    fn weight(&self) -> usize {
        // A small tree counts as 1/128 of the cache, so that no more than
        // 128 are kept, however small.
        self.heap_bytes().max(TREE_CACHE_BYTES / TREE_CACHE_TREES)
    }
}

impl Weight for CommitTrees {
    fn weight(&self) -> usize {
        1
    }
}

struct BlobChange {
    path: PathBuf,
    old: Option<Oid>,
    new: Option<Oid>,
}

impl<'r> TreeReader<'r> {
    /// `prefix` is where `lapse.yaml` lives inside the git work tree.
    pub fn new(objects: ObjectReader<'r>, prefix: &Path) -> Self {
        let prefix: Vec<String> = prefix
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        Self {
            objects,
            prefix,
            trees: RecentCache::new(TREE_CACHE_BYTES),
            commit_trees: RecentCache::new(COMMIT_CACHE_SIZE),
            budget: MAX_ENTRIES_PER_COMPARISON,
        }
    }

    /// What `commit` changed in the grants tree, compared with its parents.
    pub fn commit_changes(
        &mut self,
        commit: &CommitObject,
        parents: Parents,
    ) -> Result<Vec<GrantChange>, git2::Error> {
        let changes = self.first_parent_changes(commit)?;
        match parents {
            Parents::First => Ok(changes),
            Parents::All | Parents::Both => self.own_merge_changes(commit, changes),
        }
    }

    /// What `commit` changed compared with its first parent (with every
    /// grant for a root commit).
    pub fn first_parent_changes(
        &mut self,
        commit: &CommitObject,
    ) -> Result<Vec<GrantChange>, git2::Error> {
        let after = self.trees_of_object(commit)?.grants;
        let first = match commit.parents.first() {
            Some(id) => self.grants_tree_of(*id)?,
            None => None,
        };
        self.changes_between(first, after)
    }

    /// Of `changes` (against the first parent), those where a merge
    /// commit's result differs from every other parent too.
    pub fn own_merge_changes(
        &mut self,
        commit: &CommitObject,
        mut changes: Vec<GrantChange>,
    ) -> Result<Vec<GrantChange>, git2::Error> {
        let after = self.trees_of_object(commit)?.grants;
        for other in commit.parents.iter().skip(1) {
            let other = self.grants_tree_of(*other)?;
            let mut differs: HashMap<PathBuf, Option<Version>> = self
                .changes_between(other, after)?
                .into_iter()
                .map(|change| (change.key().to_path_buf(), change.before))
                .collect();
            // A grant that is the same as in this parent came from it.
            changes.retain_mut(|change| match differs.remove(change.key()) {
                Some(version) => {
                    change.merged.push(version);
                    true
                }
                None => false,
            });
        }
        Ok(changes)
    }

    /// The grant changes between two grants trees (`None`: no grants tree).
    pub fn changes_between(
        &mut self,
        before: Option<Oid>,
        after: Option<Oid>,
    ) -> Result<Vec<GrantChange>, git2::Error> {
        let mut blobs = Vec::new();
        if before != after {
            self.budget = MAX_ENTRIES_PER_COMPARISON;
            self.diff_trees(before, after, &mut PathBuf::from(GRANTS_DIR), 0, &mut blobs)?;
        }
        Ok(Self::group_by_grant(blobs))
    }

    /// Every grant file of the grants tree `tree`: what
    /// `changes_between(None, tree)` finds arriving, without pairing the
    /// arrivals into grants, which was most of the cost of listing HEAD's
    /// 10,000 grants in every `check --base`.
    pub fn grant_files(&mut self, tree: Option<Oid>) -> Result<Vec<Version>, git2::Error> {
        let mut blobs = Vec::new();
        if tree.is_some() {
            self.budget = MAX_ENTRIES_PER_COMPARISON;
            self.diff_trees(None, tree, &mut PathBuf::from(GRANTS_DIR), 0, &mut blobs)?;
        }
        Ok(blobs
            .into_iter()
            .filter(|change| has_grant_id(&change.path))
            .filter_map(|change| {
                Some(Version {
                    blob: change.new?,
                    path: change.path,
                })
            })
            .collect())
    }

    /// The id of `grants/` in the commit's tree, if it has one.
    pub fn grants_tree(&mut self, commit: &Commit) -> Result<Option<Oid>, git2::Error> {
        Ok(self.trees_of(commit)?.grants)
    }

    /// The grants tree and policy files of `commit`.
    pub fn trees_of(&mut self, commit: &Commit) -> Result<CommitTrees, git2::Error> {
        self.trees_of_parts(commit.id(), commit.tree_id())
    }

    /// Like `trees_of`, for a commit the walk read.
    pub fn trees_of_object(&mut self, commit: &CommitObject) -> Result<CommitTrees, git2::Error> {
        self.trees_of_parts(commit.id, commit.tree)
    }

    /// The grants tree and policy files of commit `id`, whose tree is
    /// `tree`.
    fn trees_of_parts(&mut self, id: Oid, tree: Oid) -> Result<CommitTrees, git2::Error> {
        if let Some(known) = self.commit_trees.get(id) {
            return Ok(known);
        }
        let mut dir = Some(tree);
        for index in 0..self.prefix.len() {
            let Some(parent) = dir else { break };
            let parent = self.tree(parent)?;
            dir = parent
                .get(&self.prefix[index])
                .filter(|entry| entry.is_tree())
                .map(|entry| parent.id(entry));
        }
        let trees = match dir {
            Some(dir) => {
                let dir = self.tree(dir)?;
                let entry = |name: &str, tree: bool| {
                    dir.get(name)
                        .filter(|entry| entry.is_tree() == tree)
                        .map(|entry| dir.id(entry))
                };
                CommitTrees {
                    grants: entry(GRANTS_DIR, true),
                    policy: PolicyFiles {
                        policy: entry(POLICY_FILE, false),
                        templates: entry(TEMPLATES_DIR, true),
                        modules: entry(MODULES_DIR, true),
                    },
                }
            }
            None => CommitTrees::default(),
        };
        self.commit_trees.insert(id, trees);
        Ok(trees)
    }

    /// Like `grants_tree`, for a commit known by id (a parent).
    fn grants_tree_of(&mut self, commit: Oid) -> Result<Option<Oid>, git2::Error> {
        Ok(self.trees_of_id(commit)?.grants)
    }

    /// Commit `id`, read as the trees are.
    pub fn read_commit(&mut self, id: Oid) -> Result<CommitObject, git2::Error> {
        self.objects.read_commit(id)
    }

    /// Like `trees_of`, for a commit known by id (a parent).
    pub fn trees_of_id(&mut self, commit: Oid) -> Result<CommitTrees, git2::Error> {
        match self.commit_trees.get(commit) {
            Some(known) => Ok(known),
            None => {
                let commit = self.read_commit(commit)?;
                self.trees_of_object(&commit)
            }
        }
    }

    fn tree(&mut self, id: Oid) -> Result<Arc<RawTree>, git2::Error> {
        self.tree_like(id, None)
    }

    /// The tree `id`, parsed as a version of `like` when it is read.
    fn tree_like(&mut self, id: Oid, like: Option<&RawTree>) -> Result<Arc<RawTree>, git2::Error> {
        if let Some(tree) = self.trees.get(id) {
            return Ok(tree);
        }
        let object = self.objects.read(id)?;
        if object.kind != ObjectType::Tree {
            return Err(git2::Error::from_str(
                "expected a tree object in the history",
            ));
        }
        let tree = Arc::new(match like {
            Some(like) => RawTree::parse_like(&object.data, like)?,
            None => RawTree::parse(&object.data)?,
        });
        self.trees.insert(id, Arc::clone(&tree));
        Ok(tree)
    }

    fn diff_trees(
        &mut self,
        before: Option<Oid>,
        after: Option<Oid>,
        dir: &mut PathBuf,
        depth: usize,
        out: &mut Vec<BlobChange>,
    ) -> Result<(), git2::Error> {
        if depth > MAX_DEPTH {
            return Ok(());
        }
        let empty = Arc::new(RawTree::parse(&[])?);
        let old = before
            .map(|id| self.tree(id))
            .transpose()?
            .unwrap_or_else(|| Arc::clone(&empty));
        let new = after
            .map(|id| self.tree_like(id, Some(&old)))
            .transpose()?
            .unwrap_or(empty);
        let (old_entries, new_entries) = (old.entries(), new.entries());
        let visits = old_entries.len() + new_entries.len();
        self.budget = self.budget.checked_sub(visits).ok_or_else(|| {
            git2::Error::from_str(
                "a grants tree in the history names more than 2,000,000 entries (a crafted tree that repeats one subtree many times); lapse refuses to judge it",
            )
        })?;
        // Entries both versions share at the start and at the end are the
        // same (bytes, so mode, name and id), which the merge below would
        // pass over one pair at a time: it starts after the first and
        // stops before the last. Stopping early decides as the whole merge
        // does as long as what is left of one side sorts before the shared
        // end; where it does not (only in a tree out of git's order), the
        // merge goes on over the shared end too.
        let (shared_start, shared_end) = old.shared_entries(&new);
        let (mut i, mut j) = (shared_start, shared_start);
        let (mut old_end, mut new_end) = (
            old_entries.len() - shared_end,
            new_entries.len() - shared_end,
        );
        while i < old_end || j < new_end {
            let order = match (old_entries.get(i), new_entries.get(j)) {
                (Some(a), Some(b)) if i < old_end && j < new_end => git_order(&old, a, &new, b),
                _ => {
                    let shared = old_entries.get(old_end);
                    let before_shared = |tree: &RawTree, entry: &RawEntry| {
                        shared.is_none_or(|shared| {
                            git_order(tree, entry, &old, shared) == Ordering::Less
                        })
                    };
                    let in_order = match (old_entries.get(i), new_entries.get(j)) {
                        (Some(a), _) if i < old_end => before_shared(&old, a),
                        (_, Some(b)) if j < new_end => before_shared(&new, b),
                        _ => true,
                    };
                    if !in_order {
                        (old_end, new_end) = (old_entries.len(), new_entries.len());
                        continue;
                    }
                    if i < old_end {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                }
            };
            let (a, b) = match order {
                Ordering::Less => (old_entries.get(i), None),
                Ordering::Greater => (None, new_entries.get(j)),
                Ordering::Equal => (old_entries.get(i), new_entries.get(j)),
            };
            i += usize::from(a.is_some());
            j += usize::from(b.is_some());
            let same = match (a, b) {
                (Some(a), Some(b)) => old.id_bytes(a) == new.id_bytes(b) && a.kind() == b.kind(),
                _ => false,
            };
            if !same {
                let side = |tree: &RawTree, entry: Option<&RawEntry>| {
                    entry.map(|entry| {
                        (
                            classify_entry(tree.name(entry), entry.kind()),
                            tree.id(entry),
                        )
                    })
                };
                let (old_side, new_side) = (side(&old, a), side(&new, b));
                let name = a.map(|a| old.name(a)).or(b.map(|b| new.name(b)));
                // Only names that are grants or directories to descend are
                // UTF-8 by `classify_entry`; anything else is not followed,
                // and on disk it is refused (`load::tree`), never loaded.
                let Some(name) = name.and_then(|name| std::str::from_utf8(name).ok()) else {
                    continue;
                };
                dir.push(name);
                self.entry_changed(old_side, new_side, dir, depth, out)?;
                dir.pop();
            }
        }
        Ok(())
    }

    /// An entry at `dir` whose id differs between the two sides; each side
    /// is how the entry classifies, with its id, or absent.
    fn entry_changed(
        &mut self,
        old: Option<(Classified, Oid)>,
        new: Option<(Classified, Oid)>,
        dir: &mut PathBuf,
        depth: usize,
        out: &mut Vec<BlobChange>,
    ) -> Result<(), git2::Error> {
        let of = |side: Option<(Classified, Oid)>, wanted: Classified| {
            side.filter(|(classified, _)| *classified == wanted)
                .map(|(_, id)| id)
        };
        let (old_tree, new_tree) = (of(old, Classified::Descend), of(new, Classified::Descend));
        if old_tree.is_some() || new_tree.is_some() {
            self.diff_trees(old_tree, new_tree, dir, depth + 1, out)?;
        }
        let (old_file, new_file) = (of(old, Classified::Grant), of(new, Classified::Grant));
        if old_file.is_some() || new_file.is_some() {
            out.push(BlobChange {
                path: dir.clone(),
                old: old_file,
                new: new_file,
            });
        }
        Ok(())
    }

    /// Blob changes to grant changes: a file that leaves one path and a
    /// file with the same id (the file stem) that arrives at another in the
    /// same commit is one grant moved (`git mv` to another directory).
    /// Files are paired in path order when one commit moves several files
    /// of one id; every other blob change is its own grant change.
    fn group_by_grant(blobs: Vec<BlobChange>) -> Vec<GrantChange> {
        let version = |path: &Path, blob: Oid| Version {
            path: path.to_path_buf(),
            blob,
        };
        let mut changes = Vec::new();
        let mut arrivals: BTreeMap<String, Vec<Version>> = BTreeMap::new();
        let mut departures: BTreeMap<String, Vec<Version>> = BTreeMap::new();
        for blob in blobs {
            let Ok(id) = grant_id_of(&blob.path) else {
                continue;
            };
            match (blob.old, blob.new) {
                (Some(old), Some(new)) => changes.push(GrantChange {
                    id,
                    before: Some(version(&blob.path, old)),
                    after: Some(version(&blob.path, new)),
                    merged: Vec::new(),
                }),
                (None, Some(new)) => arrivals
                    .entry(id)
                    .or_default()
                    .push(version(&blob.path, new)),
                (Some(old), None) => departures
                    .entry(id)
                    .or_default()
                    .push(version(&blob.path, old)),
                (None, None) => {}
            }
        }
        for (id, left) in departures {
            let mut arrived = arrivals.remove(&id).unwrap_or_default().into_iter();
            for before in left {
                changes.push(GrantChange {
                    id: id.clone(),
                    before: Some(before),
                    after: arrived.next(),
                    merged: Vec::new(),
                });
            }
            changes.extend(arrived.map(|after| GrantChange {
                id: id.clone(),
                before: None,
                after: Some(after),
                merged: Vec::new(),
            }));
        }
        for (id, arrived) in arrivals {
            changes.extend(arrived.into_iter().map(|after| GrantChange {
                id: id.clone(),
                before: None,
                after: Some(after),
                merged: Vec::new(),
            }));
        }
        changes.sort_by(|a, b| a.key().cmp(b.key()));
        changes
    }

    /// The text of a committed grant file, read with the same size bound
    /// as files on disk; `None` when it is too large, not UTF-8, or not a
    /// blob at all (a crafted tree can say otherwise).
    pub fn grant_text(&mut self, blob: Oid) -> Result<Option<String>, git2::Error> {
        let limit = usize::try_from(MAX_FILE_BYTES).unwrap_or(usize::MAX);
        let Some(blob) = self.objects.read_at_most(blob, limit)? else {
            return Ok(None);
        };
        if blob.kind != ObjectType::Blob {
            return Ok(None);
        }
        // The reader keeps only bases, so the bytes are usually this
        // call's alone and become the text without a copy.
        Ok(String::from_utf8(Arc::unwrap_or_clone(blob.data)).ok())
    }
}

/// Grant versions parsed already, by blob id: the files on disk are most
/// of the versions HEAD holds, so the walk need not read and parse those
/// again.
pub type KnownVersions = HashMap<Oid, Arc<GrantFile>>;

/// The blob id git gives `text` (SHA-1 of `blob <length>\0` and the text):
/// how a file on disk is matched with a committed version.
///
/// Plain SHA-1 rather than libgit2's collision-detecting SHA-1DC, which was
/// a tenth of a `check --base` over ten thousand files; the `sha1` crate
/// uses the CPU's SHA instructions. The check is not needed here: these are
/// files on disk, compared with ids that git computed (with detection)
/// when the objects entered the repository, so a colliding text on disk
/// could only make a file the user edited look committed, to that user.
pub fn blob_id(text: &str) -> Oid {
    use sha1::{Digest, Sha1};
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", text.len()));
    hasher.update(text);
    // A SHA-1 digest is always an object id's length.
    Oid::from_bytes(&hasher.finalize()).unwrap_or(Oid::ZERO_SHA1)
}

/// Parses a committed grant with the same strict parser as files on disk.
/// `None` when this version is not a valid grant: any change to or from it
/// then counts as substantive.
pub fn parse_version(path: &Path, text: Option<&str>) -> Option<Arc<GrantFile>> {
    parse_grant(path, text?)
        .ok()
        .map(|grant| Arc::new(grant.file))
}
