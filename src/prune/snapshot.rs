//! The grants as they are on the base commit, read from the object
//! database. Prune judges what the default branch holds, never the working
//! tree, which may be dirty or on another branch.

use std::path::{Path, PathBuf};

use git2::{Commit, FileMode, ObjectType, Oid, Repository, Tree, TreeEntry};

use crate::load::tree::{check_size, is_grant_file_name};
use crate::load::{GRANTS_DIR, MAX_POLICY_BYTES, parse_grant};
use crate::model::Grant;

use super::PruneError;

/// Where `lapse render` writes, when a repository commits its output.
pub const GENERATED_DIR: &str = "generated";

/// What prune needs to know about the base commit.
#[derive(Debug)]
pub struct Snapshot {
    /// Every grant file that parses. A file that does not parse is left out,
    /// so it can never be selected for removal: nothing is pruned on a guess.
    pub grants: Vec<Grant>,
    /// Whether the base tree commits a `generated/` directory to refresh.
    pub has_generated: bool,
    /// Entries under `grants/` whose names prune cannot take for a path
    /// (not UTF-8, or a name git would never check out), shown lossily.
    /// `lapse check` refuses them; prune reads none of them and removes
    /// none, and says so instead of failing the run for every grant.
    pub skipped: Vec<String>,
}

/// The tree of the grants repository in `commit`: the directory at
/// `prefix` (see `history::grants_prefix`), the whole tree when it is empty.
pub fn grants_repository_tree<'r>(
    repo: &'r Repository,
    commit: &Commit<'r>,
    prefix: &Path,
) -> Result<Tree<'r>, PruneError> {
    let tree = commit.tree()?;
    if prefix.as_os_str().is_empty() {
        return Ok(tree);
    }
    let missing = || PruneError::NoGrantsRepository {
        prefix: prefix.to_path_buf(),
        commit: commit.id(),
    };
    let entry = tree.get_path(prefix).map_err(|_| missing())?;
    entry.to_object(repo)?.into_tree().map_err(|_| missing())
}

/// `tree` is the grants repository's tree (`grants_repository_tree`).
pub fn read_snapshot(repo: &Repository, tree: &Tree) -> Result<Snapshot, PruneError> {
    let has_generated = tree
        .get_name(GENERATED_DIR)
        .is_some_and(|entry| entry.kind() == Some(ObjectType::Tree));
    let mut skipped = Vec::new();
    let blobs = match tree.get_name(GRANTS_DIR) {
        Some(entry) if entry.kind() == Some(ObjectType::Tree) => {
            grant_blobs(repo, entry.id(), &mut skipped)?
        }
        _ => Vec::new(),
    };
    Ok(Snapshot {
        grants: read_grants(repo, blobs)?,
        has_generated,
        skipped,
    })
}

/// Regular grant files below `grants/`, the same set `lapse check` reads on
/// disk: symbolic links (mode 120000), submodules and oversized blobs are
/// skipped. Walked with a stack of tree ids rather than libgit2's tree
/// walk, which ends the whole walk with a callback error at the first
/// directory name that is not UTF-8; the names it cannot read go to
/// `skipped` instead.
pub(super) fn grant_blobs(
    repo: &Repository,
    grants_tree: Oid,
    skipped: &mut Vec<String>,
) -> Result<Vec<(PathBuf, Oid)>, PruneError> {
    let mut blobs = Vec::new();
    let mut pending = vec![(PathBuf::from(GRANTS_DIR), grants_tree)];
    while let Some((dir, id)) = pending.pop() {
        for entry in repo.find_tree(id)?.iter() {
            let Some(name) = path_name(entry.name_bytes()) else {
                let name = String::from_utf8_lossy(entry.name_bytes());
                skipped.push(format!("{}/{name}", dir.display()));
                continue;
            };
            let path = dir.join(name);
            match entry.kind() {
                Some(ObjectType::Tree) => pending.push((path, entry.id())),
                Some(ObjectType::Blob) if is_regular_file(&entry) && is_grant_file_name(&path) => {
                    blobs.push((path, entry.id()));
                }
                _ => {}
            }
        }
    }
    Ok(blobs)
}

fn read_grants(repo: &Repository, blobs: Vec<(PathBuf, Oid)>) -> Result<Vec<Grant>, PruneError> {
    let mut grants = Vec::with_capacity(blobs.len());
    for (path, oid) in blobs {
        let Some(text) = blob_text(repo, oid)? else {
            continue;
        };
        if let Ok(grant) = parse_grant(&path, &text) {
            grants.push(grant);
        }
    }
    grants.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(grants)
}

/// A tree entry name usable as one path component: UTF-8, as every path
/// lapse reports is, and not one that git refuses to check out (empty,
/// `.`, `..`, or holding a `/`), which a crafted tree object can contain.
fn path_name(bytes: &[u8]) -> Option<&str> {
    let name = std::str::from_utf8(bytes).ok()?;
    let checkable = !matches!(name, "" | "." | "..") && !name.contains(['/', '\0']);
    checkable.then_some(name)
}

/// A regular file as git checks it out. libgit2 reports every `100xxx`
/// mode as 100644 or 100755 (`normalize_filemode` in its tree.c), as git's
/// checkout treats them, so the legacy 100664 counts here too.
fn is_regular_file(entry: &TreeEntry) -> bool {
    [
        FileMode::Blob,
        FileMode::BlobExecutable,
        FileMode::BlobGroupWritable,
    ]
    .into_iter()
    .any(|mode| entry.filemode() == i32::from(mode))
}

/// `(file name, blob id)` of the regular files directly in `dir` of `tree`
/// whose names are UTF-8.
pub(super) fn regular_files_in(
    repo: &Repository,
    tree: &Tree,
    dir: &Path,
) -> Result<Vec<(String, Oid)>, PruneError> {
    let Ok(entry) = tree.get_path(dir) else {
        return Ok(Vec::new());
    };
    let Ok(subtree) = entry.to_object(repo)?.peel_to_tree() else {
        return Ok(Vec::new());
    };
    Ok(subtree
        .iter()
        .filter(is_regular_file)
        .filter_map(|entry| Some((path_name(entry.name_bytes())?.to_owned(), entry.id())))
        .collect())
}

/// The text of the policy at `path` of `tree` (`lapse.yaml` at the grants
/// repository's place), if it is a regular file of at most the size
/// `lapse check` reads.
pub fn policy_text(
    repo: &Repository,
    tree: &Tree,
    path: &Path,
) -> Result<Option<String>, PruneError> {
    let Some(entry) = tree.get_path(path).ok().filter(is_regular_file) else {
        return Ok(None);
    };
    let blob = repo.find_blob(entry.id())?;
    if blob.size() as u64 > MAX_POLICY_BYTES {
        return Ok(None);
    }
    Ok(std::str::from_utf8(blob.content()).ok().map(str::to_owned))
}

fn blob_text(repo: &Repository, oid: git2::Oid) -> Result<Option<String>, PruneError> {
    let blob = repo.find_blob(oid)?;
    if check_size(blob.size()).is_err() {
        return Ok(None);
    }
    Ok(std::str::from_utf8(blob.content()).ok().map(str::to_owned))
}
