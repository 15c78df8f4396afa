//! The commit of a lapse branch (prune, offboard), made from trees in the
//! object database: no checkout, and the working tree, the index and the
//! current branch are never read or written, so a dirty checkout or a run
//! on another branch is safe.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use git2::build::TreeUpdateBuilder;
use git2::{Commit, FileMode, Oid, Repository, Signature};

use super::PruneError;
use super::snapshot::GENERATED_DIR;

/// New contents of `generated/` for a candidate tree, keyed by path
/// relative to `generated/`. Supplied by the caller (`prune::regenerate`
/// judges and renders), so this module knows nothing of Terraform.
pub type Regenerate<'a> = &'a dyn Fn(&Candidate) -> Result<BTreeMap<PathBuf, String>, PruneError>;

/// The tree a lapse branch will commit, before `generated/` is refreshed:
/// what regeneration judges, as `lapse render` would judge it after merge.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The base commit, the new commit's parent.
    pub base: Oid,
    /// The whole tree, with the edit applied.
    pub tree: Oid,
    /// Where the grants repository lies in that tree.
    pub prefix: &'a Path,
}

/// What a lapse branch changes in the base tree, relative to the grants
/// repository's place in the work tree.
#[derive(Debug, Clone, Default)]
pub struct TreeEdit {
    pub prefix: PathBuf,
    /// Files removed (grant files).
    pub remove: Vec<PathBuf>,
    /// Files replaced by this text (`lapse.yaml`).
    pub write: Vec<(PathBuf, String)>,
}

/// The tree of `base` with `edit` applied and, when given, `generated/`
/// replaced by `generated`. libgit2 drops directories that the removals
/// leave empty, as git itself would.
pub fn edited_tree(
    repo: &Repository,
    base: &Commit,
    edit: &TreeEdit,
    generated: Option<&BTreeMap<PathBuf, String>>,
) -> Result<Oid, PruneError> {
    let mut update = TreeUpdateBuilder::new();
    for path in &edit.remove {
        update.remove(edit.prefix.join(path));
    }
    for (path, text) in &edit.write {
        let blob = repo.blob(text.as_bytes())?;
        update.upsert(edit.prefix.join(path), blob, FileMode::Blob);
    }
    let generated_dir = edit.prefix.join(GENERATED_DIR);
    match generated {
        Some(files) if files.is_empty() => {
            update.remove(&generated_dir);
        }
        Some(files) => {
            let subtree = generated_tree(repo, files)?;
            update.upsert(&generated_dir, subtree, FileMode::Tree);
        }
        None => {}
    }
    Ok(update.create_updated(repo, &base.tree()?)?)
}

fn generated_tree(repo: &Repository, files: &BTreeMap<PathBuf, String>) -> Result<Oid, PruneError> {
    let empty = repo.find_tree(repo.treebuilder(None)?.write()?)?;
    let mut update = TreeUpdateBuilder::new();
    for (path, text) in files {
        if !is_plain_relative(path) {
            return Err(PruneError::GeneratedPath(path.clone()));
        }
        let blob = repo.blob(text.as_bytes())?;
        update.upsert(path, blob, FileMode::Blob);
    }
    Ok(update.create_updated(repo, &empty)?)
}

/// A path that stays inside `generated/`: no root, no `..`, not empty.
fn is_plain_relative(path: &Path) -> bool {
    path.components().next().is_some()
        && path.components().all(|c| matches!(c, Component::Normal(_)))
}

/// Points `refs/heads/<branch>` at a commit of `tree` on top of `base`.
/// An existing commit with the same parent and tree (the local branch, or
/// the remote's copy of it from an earlier run) is reused, so a rerun with
/// nothing new changes no commit id, pushes nothing and re-triggers no CI.
pub fn write_branch(
    repo: &Repository,
    branch: &str,
    base: &Commit,
    tree: Oid,
    message: &str,
    earlier: &[Oid],
) -> Result<Oid, PruneError> {
    let commit = match reusable_commit(repo, base.id(), tree, earlier) {
        Some(existing) => existing,
        None => {
            let signature = signature(repo)?;
            let tree = repo.find_tree(tree)?;
            repo.commit(None, &signature, &signature, message, &tree, &[base])?
        }
    };
    repo.reference(
        &format!("refs/heads/{branch}"),
        commit,
        true,
        &format!("lapse: {}", message.lines().next().unwrap_or_default()),
    )?;
    Ok(commit)
}

fn reusable_commit(repo: &Repository, base: Oid, tree: Oid, earlier: &[Oid]) -> Option<Oid> {
    earlier.iter().find_map(|id| {
        let commit = repo.find_commit(*id).ok()?;
        let same = commit.tree_id() == tree && commit.parent_ids().eq([base]);
        same.then(|| commit.id())
    })
}

/// The identity from git config (`user.name`, `user.email`), else a
/// recognisable default: CI runners usually configure none.
fn signature(repo: &Repository) -> Result<Signature<'static>, PruneError> {
    match repo.signature() {
        Ok(signature) => Ok(signature.to_owned()),
        Err(_) => Ok(Signature::now("lapse", "lapse@localhost")?),
    }
}
