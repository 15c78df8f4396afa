//! The prune commit, made from trees in the object database: no checkout,
//! and the working tree, the index and the current branch are never read or
//! written, so a dirty checkout or a run on another branch is safe.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use git2::build::TreeUpdateBuilder;
use git2::{Commit, FileMode, Oid, Repository, Signature};

use crate::model::Grant;

use super::snapshot::GENERATED_DIR;
use super::{Plan, PruneError};

/// New contents of `generated/` for the grants that remain, keyed by path
/// relative to `generated/`. Supplied by the caller (the render module), so
/// prune knows nothing of Terraform.
pub type Regenerate<'a> =
    &'a dyn Fn(
        &[Grant],
    ) -> Result<BTreeMap<PathBuf, String>, Box<dyn std::error::Error + Send + Sync>>;

/// The tree of `base` without the plan's expired grant files and, when
/// given, with `generated/` replaced by `generated`, both at the grants
/// repository's place in the work tree. libgit2 drops directories that the
/// removals leave empty, as git itself would.
pub fn pruned_tree(
    repo: &Repository,
    base: &Commit,
    plan: &Plan,
    generated: Option<&BTreeMap<PathBuf, String>>,
) -> Result<Oid, PruneError> {
    let mut update = TreeUpdateBuilder::new();
    for grant in &plan.expired {
        update.remove(plan.prefix.join(&grant.path));
    }
    let generated_dir = plan.prefix.join(GENERATED_DIR);
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
        "lapse prune: remove expired grants",
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
