//! The grants as they are on the base commit, read from the object
//! database. Prune judges what the default branch holds, never the working
//! tree, which may be dirty or on another branch.

use std::path::{Path, PathBuf};

use git2::{FileMode, ObjectType, Repository, Tree, TreeWalkMode, TreeWalkResult};

use crate::load::tree::{check_size, is_grant_file_name};
use crate::load::{GRANTS_DIR, parse_grant};
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
}

pub fn read_snapshot(repo: &Repository, tree: &Tree) -> Result<Snapshot, PruneError> {
    let has_generated = tree
        .get_name(GENERATED_DIR)
        .is_some_and(|entry| entry.kind() == Some(ObjectType::Tree));
    let grants = match tree.get_name(GRANTS_DIR) {
        Some(entry) if entry.kind() == Some(ObjectType::Tree) => {
            let subtree = entry.to_object(repo)?.peel_to_tree()?;
            read_grants(repo, &subtree)?
        }
        _ => Vec::new(),
    };
    Ok(Snapshot {
        grants,
        has_generated,
    })
}

/// Regular grant files below `grants/`, the same set `lapse check` reads on
/// disk: symbolic links (mode 120000) and oversized blobs are skipped.
fn read_grants(repo: &Repository, grants_tree: &Tree) -> Result<Vec<Grant>, PruneError> {
    let mut blobs: Vec<(PathBuf, git2::Oid)> = Vec::new();
    grants_tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        let regular = matches!(
            entry.filemode(),
            m if m == i32::from(FileMode::Blob) || m == i32::from(FileMode::BlobExecutable)
        );
        if let (true, Some(name)) = (regular, entry.name().ok()) {
            let path = Path::new(GRANTS_DIR).join(dir).join(name);
            if is_grant_file_name(&path) {
                blobs.push((path, entry.id()));
            }
        }
        TreeWalkResult::Ok
    })?;
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

/// The text of the regular file at `path` in `tree`, if there is one; bounded
/// like every file lapse reads.
pub fn file_text(
    repo: &Repository,
    tree: &Tree,
    path: &Path,
) -> Result<Option<String>, PruneError> {
    let Ok(entry) = tree.get_path(path) else {
        return Ok(None);
    };
    if entry.filemode() != i32::from(FileMode::Blob) {
        return Ok(None);
    }
    blob_text(repo, entry.id())
}

/// `(file name, text)` of the regular files directly in `dir` of `tree`:
/// the template overrides a render at this commit would use.
pub fn files_in(
    repo: &Repository,
    tree: &Tree,
    dir: &Path,
) -> Result<Vec<(String, String)>, PruneError> {
    let Ok(entry) = tree.get_path(dir) else {
        return Ok(Vec::new());
    };
    let Ok(subtree) = entry.to_object(repo)?.peel_to_tree() else {
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    for entry in subtree.iter() {
        if entry.filemode() != i32::from(FileMode::Blob) {
            continue;
        }
        if let (Ok(name), Some(text)) = (entry.name(), blob_text(repo, entry.id())?) {
            files.push((name.to_owned(), text));
        }
    }
    Ok(files)
}

fn blob_text(repo: &Repository, oid: git2::Oid) -> Result<Option<String>, PruneError> {
    let blob = repo.find_blob(oid)?;
    if check_size(blob.size()).is_err() {
        return Ok(None);
    }
    Ok(std::str::from_utf8(blob.content()).ok().map(str::to_owned))
}
