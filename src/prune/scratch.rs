//! A scratch checkout of a commit lapse is about to put on a branch, so
//! that it can be judged exactly as `lapse render` will judge it once the
//! branch is merged. `verdict::judge` reads the policy and the grants from
//! files and the history from git; here the commit's grants repository is
//! written to a temporary directory whose git repository borrows the real
//! one's objects through `objects/info/alternates`
//! (https://git-scm.com/docs/gitrepository-layout) and whose detached HEAD
//! is the commit. The real repository's working tree, index, branches and
//! configuration are never read or written; the directory goes when the
//! `Scratch` is dropped.

use std::fs;
use std::path::{Path, PathBuf};

use git2::{Repository, Signature, Tree};
use tempfile::TempDir;

use crate::load::tree::MAX_FILE_BYTES;
use crate::load::{GRANTS_DIR, MAX_POLICY_BYTES, POLICY_FILE, TEMPLATES_DIR};

use super::PruneError;
use super::commit::Candidate;
use super::snapshot::{grant_blobs, grants_repository_tree, regular_files_in};

/// The candidate commit checked out in a temporary directory.
pub struct Scratch {
    // Kept for its `Drop`, which deletes the directory.
    _dir: TempDir,
    root: PathBuf,
}

impl Scratch {
    /// The grants repository of the checkout: where `lapse.yaml` is.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// Writes the candidate's `lapse.yaml`, `grants/` and `templates/` to a new
/// temporary repository whose HEAD is a commit of the candidate tree on top
/// of its base. Only what `lapse render` reads is written: regular files of
/// the sizes it accepts, under names git checks out (the others it refuses
/// or skips too, so leaving them out changes nothing it renders). A shallow
/// clone stays shallow, so the history judge says so instead of guessing.
pub fn check_out(repo: &Repository, candidate: &Candidate) -> Result<Scratch, PruneError> {
    let dir = tempfile::Builder::new()
        .prefix("lapse-scratch-")
        .tempdir()
        .map_err(|error| scratch_error(&error))?;
    borrow_objects(repo, dir.path())?;
    let scratch = Repository::open(dir.path())?;
    let tree = scratch.find_tree(candidate.tree)?;
    let parent = scratch.find_commit(candidate.base)?;
    let signature = Signature::now("lapse", "lapse@localhost")?;
    let commit = scratch.commit(
        None,
        &signature,
        &signature,
        "lapse: the branch as it will be merged",
        &tree,
        &[&parent],
    )?;
    scratch.set_head_detached(commit)?;
    let root = dir.path().join(candidate.prefix);
    let grants_repository =
        grants_repository_tree(&scratch, &scratch.find_commit(commit)?, candidate.prefix)?;
    write_files(&scratch, &grants_repository, &root)?;
    Ok(Scratch { _dir: dir, root })
}

/// A fresh repository in `dir` whose object database falls back on the
/// real repository's (and so on its alternates, as git does).
fn borrow_objects(repo: &Repository, dir: &Path) -> Result<(), PruneError> {
    let scratch = Repository::init(dir)?;
    let objects = repo
        .commondir()
        .join("objects")
        .canonicalize()
        .map_err(|error| scratch_error(&error))?;
    // The alternates file holds one path per line.
    let objects = objects
        .to_str()
        .filter(|path| !path.contains('\n'))
        .ok_or_else(|| PruneError::Scratch {
            reason: format!(
                "{} cannot be written in git's alternates file",
                objects.display()
            ),
        })?;
    let info = scratch.path().join("objects").join("info");
    fs::create_dir_all(&info)
        .and_then(|()| fs::write(info.join("alternates"), format!("{objects}\n")))
        .map_err(|error| scratch_error(&error))?;
    let shallow = repo.commondir().join("shallow");
    if shallow.is_file() {
        fs::copy(&shallow, scratch.path().join("shallow"))
            .map_err(|error| scratch_error(&error))?;
    }
    Ok(())
}

/// `lapse.yaml`, the grant files and the template overrides of `tree` (the
/// grants repository's tree) under `root`.
fn write_files(repo: &Repository, tree: &Tree, root: &Path) -> Result<(), PruneError> {
    let mut files = Vec::new();
    if let Some(entry) = tree.get_name(POLICY_FILE) {
        files.push((PathBuf::from(POLICY_FILE), entry.id(), MAX_POLICY_BYTES));
    }
    if let Some(entry) = tree.get_name(GRANTS_DIR) {
        let mut skipped = Vec::new();
        let blobs = grant_blobs(repo, entry.id(), &mut skipped)?;
        files.extend(
            blobs
                .into_iter()
                .map(|(path, id)| (path, id, MAX_FILE_BYTES)),
        );
    }
    for (name, id) in regular_files_in(repo, tree, Path::new(TEMPLATES_DIR))? {
        files.push((Path::new(TEMPLATES_DIR).join(name), id, MAX_FILE_BYTES));
    }
    for (path, id, limit) in files {
        let blob = repo.find_blob(id)?;
        if blob.size() as u64 > limit {
            continue;
        }
        let path = root.join(path);
        let written = match path.parent() {
            Some(parent) => fs::create_dir_all(parent),
            None => Ok(()),
        }
        .and_then(|()| fs::write(&path, blob.content()));
        written.map_err(|error| scratch_error(&error))?;
    }
    Ok(())
}

fn scratch_error(error: &std::io::Error) -> PruneError {
    PruneError::Scratch {
        reason: error.to_string(),
    }
}
