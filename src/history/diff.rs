//! Which grant files a commit changed, found by comparing trees top-down:
//! a subtree whose object id is the same on both sides is skipped unread,
//! so a commit costs in proportion to what it changed, not to the size of
//! the grants tree.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use git2::{Commit, FileMode, ObjectType, Odb, Oid, Repository, Tree, TreeEntry};

use crate::load::{GRANTS_DIR, tree::MAX_FILE_BYTES};
use crate::load::{grant::grant_id_of, parse_grant};
use crate::model::GrantFile;

/// Deepest nesting below `grants/` that is followed, as on disk
/// (`load::tree`): a crafted tree cannot exhaust the stack.
const MAX_DEPTH: usize = 16;

/// One version of a grant file as committed.
#[derive(Debug, Clone)]
pub struct Version {
    /// Relative to the directory holding `lapse.yaml`.
    pub path: PathBuf,
    pub blob: Oid,
    /// `None` when this version is not a valid grant (a parse error, too
    /// large, not UTF-8): any change to or from it counts as substantive.
    pub file: Option<Rc<GrantFile>>,
}

/// What a commit did to one grant id; a rename (`git mv`) is one change
/// with the old path before and the new path after.
#[derive(Debug, Clone)]
pub struct GrantChange {
    pub id: String,
    pub before: Option<Version>,
    pub after: Option<Version>,
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
}

/// Reads grant trees and blobs, caching what a walk asks for again: parsed
/// grant versions by blob id, and the trees of the previous commit (the
/// parent side of the next comparison in a walk over linear history).
pub struct TreeReader<'r> {
    repo: &'r Repository,
    odb: Odb<'r>,
    /// Components from the git work tree root to `grants/`.
    grants_path: Vec<String>,
    versions: HashMap<Oid, Option<Rc<GrantFile>>>,
    recent_trees: HashMap<Oid, Rc<Tree<'r>>>,
    older_trees: HashMap<Oid, Rc<Tree<'r>>>,
}

struct BlobChange {
    path: PathBuf,
    old: Option<Oid>,
    new: Option<Oid>,
}

impl<'r> TreeReader<'r> {
    /// `prefix` is where `lapse.yaml` lives inside the git work tree.
    pub fn new(repo: &'r Repository, prefix: &Path) -> Result<Self, git2::Error> {
        let mut grants_path: Vec<String> = prefix
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        grants_path.push(GRANTS_DIR.to_owned());
        Ok(Self {
            repo,
            odb: repo.odb()?,
            grants_path,
            versions: HashMap::new(),
            recent_trees: HashMap::new(),
            older_trees: HashMap::new(),
        })
    }

    /// What `commit` changed in the grants tree, compared with its parents.
    pub fn commit_changes(
        &mut self,
        commit: &Commit,
        parents: Parents,
    ) -> Result<Vec<GrantChange>, git2::Error> {
        self.age_tree_cache();
        let after = self.grants_tree(commit)?;
        let mut parent_ids = commit.parent_ids();
        let first = match parent_ids.next() {
            Some(id) => self.grants_tree(&self.repo.find_commit(id)?)?,
            None => None,
        };
        let mut changes = self.changes_between(first, after)?;
        if parents == Parents::All {
            for other in parent_ids {
                let other = self.grants_tree(&self.repo.find_commit(other)?)?;
                let differs: HashSet<String> = self
                    .changes_between(other, after)?
                    .into_iter()
                    .map(|change| change.id)
                    .collect();
                changes.retain(|change| differs.contains(&change.id));
            }
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
            self.diff_trees(before, after, &mut PathBuf::from(GRANTS_DIR), 0, &mut blobs)?;
        }
        self.group_by_grant(blobs)
    }

    /// The id of `grants/` in the commit's tree, if it has one.
    pub fn grants_tree(&mut self, commit: &Commit) -> Result<Option<Oid>, git2::Error> {
        let mut tree = commit.tree_id();
        for index in 0..self.grants_path.len() {
            let parent = self.tree(tree)?;
            let Some(entry) = parent.get_name(&self.grants_path[index]) else {
                return Ok(None);
            };
            if entry.kind() != Some(ObjectType::Tree) {
                return Ok(None);
            }
            tree = entry.id();
        }
        Ok(Some(tree))
    }

    /// Every grant file in a grants tree, as versions keyed by grant id.
    pub fn versions_in(&mut self, grants: Option<Oid>) -> Result<Vec<GrantChange>, git2::Error> {
        self.changes_between(None, grants)
    }

    fn age_tree_cache(&mut self) {
        self.older_trees = std::mem::take(&mut self.recent_trees);
    }

    fn tree(&mut self, id: Oid) -> Result<Rc<Tree<'r>>, git2::Error> {
        if let Some(tree) = self.recent_trees.get(&id) {
            return Ok(Rc::clone(tree));
        }
        let tree = match self.older_trees.get(&id) {
            Some(tree) => Rc::clone(tree),
            None => Rc::new(self.repo.find_tree(id)?),
        };
        self.recent_trees.insert(id, Rc::clone(&tree));
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
        let before = before.map(|id| self.tree(id)).transpose()?;
        let after = after.map(|id| self.tree(id)).transpose()?;
        let mut old = before.iter().flat_map(|t| t.iter()).peekable();
        let mut new = after.iter().flat_map(|t| t.iter()).peekable();
        loop {
            let order = match (old.peek(), new.peek()) {
                (None, None) => break,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(a), Some(b)) => git_order(a, b),
            };
            let (a, b) = match order {
                Ordering::Less => (old.next(), None),
                Ordering::Greater => (None, new.next()),
                Ordering::Equal => (old.next(), new.next()),
            };
            if a.as_ref().map(TreeEntry::id) != b.as_ref().map(TreeEntry::id) {
                self.entry_changed(a, b, dir, depth, out)?;
            }
        }
        Ok(())
    }

    /// Two entries of the same name (or one missing) whose ids differ.
    fn entry_changed(
        &mut self,
        old: Option<TreeEntry>,
        new: Option<TreeEntry>,
        dir: &mut PathBuf,
        depth: usize,
        out: &mut Vec<BlobChange>,
    ) -> Result<(), git2::Error> {
        let Some(name) = old.as_ref().or(new.as_ref()).and_then(|e| e.name().ok()) else {
            return Ok(());
        };
        dir.push(name);
        let subtree = |e: &Option<TreeEntry>| {
            e.as_ref()
                .filter(|e| e.kind() == Some(ObjectType::Tree))
                .map(TreeEntry::id)
        };
        let (old_tree, new_tree) = (subtree(&old), subtree(&new));
        if old_tree.is_some() || new_tree.is_some() {
            self.diff_trees(old_tree, new_tree, dir, depth + 1, out)?;
        } else if crate::load::tree::is_grant_file_name(dir) {
            // Symbolic links and submodules are not grants, in history as on disk.
            let file = |e: &Option<TreeEntry>| {
                e.as_ref()
                    .filter(|e| {
                        let mode = e.filemode();
                        mode == i32::from(FileMode::Blob)
                            || mode == i32::from(FileMode::BlobExecutable)
                    })
                    .map(TreeEntry::id)
            };
            out.push(BlobChange {
                path: dir.clone(),
                old: file(&old),
                new: file(&new),
            });
        }
        dir.pop();
        Ok(())
    }

    /// Blob changes to grant changes: the grant id is the file stem, so a
    /// file moved to another directory is the same grant.
    fn group_by_grant(&mut self, blobs: Vec<BlobChange>) -> Result<Vec<GrantChange>, git2::Error> {
        let mut by_id: BTreeMap<String, GrantChange> = BTreeMap::new();
        for blob in blobs {
            let Ok(id) = grant_id_of(&blob.path) else {
                continue;
            };
            let before = blob
                .old
                .map(|oid| self.version(&blob.path, oid))
                .transpose()?;
            let after = blob
                .new
                .map(|oid| self.version(&blob.path, oid))
                .transpose()?;
            let change = by_id.entry(id.clone()).or_insert(GrantChange {
                id,
                before: None,
                after: None,
            });
            change.before = change.before.take().or(before);
            change.after = change.after.take().or(after);
        }
        Ok(by_id
            .into_values()
            .filter(|c| {
                let same = |a: &Version, b: &Version| a.blob == b.blob && a.path == b.path;
                !matches!((&c.before, &c.after), (Some(a), Some(b)) if same(a, b))
            })
            .collect())
    }

    fn version(&mut self, path: &Path, blob: Oid) -> Result<Version, git2::Error> {
        let file = match self.versions.get(&blob) {
            Some(file) => file.clone(),
            None => {
                let file = self.parse_blob(path, blob)?;
                self.versions.insert(blob, file.clone());
                file
            }
        };
        Ok(Version {
            path: path.to_path_buf(),
            blob,
            file,
        })
    }

    /// Parses a committed grant with the same strict parser and size bound
    /// as files on disk.
    fn parse_blob(&self, path: &Path, blob: Oid) -> Result<Option<Rc<GrantFile>>, git2::Error> {
        let (size, _) = self.odb.read_header(blob)?;
        if size as u64 > MAX_FILE_BYTES {
            return Ok(None);
        }
        let blob = self.repo.find_blob(blob)?;
        let Ok(text) = std::str::from_utf8(blob.content()) else {
            return Ok(None);
        };
        Ok(parse_grant(path, text)
            .ok()
            .map(|grant| Rc::new(grant.file)))
    }
}

/// Git's order of tree entries: by name, a directory's name compared as if
/// it ended in `/` (`base_name_compare` in git's tree.c). Both sides of a
/// comparison are sorted this way, so one merge pass pairs equal names.
fn git_order(a: &TreeEntry, b: &TreeEntry) -> Ordering {
    let terminator = |e: &TreeEntry| {
        if e.kind() == Some(ObjectType::Tree) {
            b'/'
        } else {
            0
        }
    };
    let (a_name, b_name) = (a.name_bytes(), b.name_bytes());
    let common = a_name.len().min(b_name.len());
    a_name[..common].cmp(&b_name[..common]).then_with(|| {
        let a_next = a_name.get(common).copied().unwrap_or_else(|| terminator(a));
        let b_next = b_name.get(common).copied().unwrap_or_else(|| terminator(b));
        a_next.cmp(&b_next)
    })
}
