//! Which commit the prune branch starts from: the tip of the default
//! branch, as the remote sees it when lapse can tell.
//!
//! Without `--base`, the first of these that exists wins:
//! 1. `refs/remotes/<remote>/HEAD`, the remote's default branch as recorded
//!    by `git clone` (or `git remote set-head <remote> --auto`);
//! 2. the upstream of the current branch (actions/checkout creates the
//!    checked-out branch with `git checkout -B main refs/remotes/origin/main`,
//!    which records that upstream);
//! 3. `<remote>/main`, then `<remote>/master`;
//! 4. local `main`, then `master`.
//!
//! Remote branches come before local ones because the pull request goes to
//! the remote: a stale local `main` would give a commit on an old base.

use git2::{Commit, ErrorCode, Repository};

use super::PruneError;
use crate::uri::redact_credentials;

/// The base of the prune commit.
#[derive(Debug, Clone)]
pub struct Base {
    /// The branch name a pull request targets (`main`), when the base is a
    /// branch rather than a bare revision.
    pub branch: Option<String>,
    /// The revision or reference the base was read from, for messages.
    pub source: String,
    pub commit: git2::Oid,
}

impl Base {
    pub fn commit<'r>(&self, repo: &'r Repository) -> Result<Commit<'r>, PruneError> {
        Ok(repo.find_commit(self.commit)?)
    }
}

pub fn resolve_base(
    repo: &Repository,
    explicit: Option<&str>,
    remote: &str,
) -> Result<Base, PruneError> {
    match explicit {
        Some(spec) => from_revision(repo, spec),
        None => default_branch(repo, remote),
    }
}

fn from_revision(repo: &Repository, spec: &str) -> Result<Base, PruneError> {
    let (object, reference) = repo
        .revparse_ext(spec)
        .map_err(|_| PruneError::UnknownBase(spec.to_owned()))?;
    let commit = object
        .peel_to_commit()
        .map_err(|_| PruneError::UnknownBase(spec.to_owned()))?;
    // `HEAD` or `origin/HEAD` name the branch they point at.
    let resolved = reference.and_then(|r| r.resolve().ok());
    Ok(Base {
        branch: resolved
            .as_ref()
            .and_then(|r| r.name().ok())
            .and_then(branch_name),
        source: spec.to_owned(),
        commit: commit.id(),
    })
}

fn default_branch(repo: &Repository, remote: &str) -> Result<Base, PruneError> {
    let mut candidates = vec![format!("refs/remotes/{remote}/HEAD")];
    candidates.extend(current_upstream(repo));
    for name in ["main", "master"] {
        candidates.push(format!("refs/remotes/{remote}/{name}"));
    }
    for name in ["main", "master"] {
        candidates.push(format!("refs/heads/{name}"));
    }
    // `--push` may name a URL rather than a remote, which makes no valid
    // reference name: such candidates cannot exist.
    candidates.retain(|name| git2::Reference::is_valid_name(name));
    for candidate in &candidates {
        let reference = match repo.find_reference(candidate) {
            Ok(reference) => reference,
            Err(error) if error.code() == ErrorCode::NotFound => continue,
            Err(error) => return Err(error.into()),
        };
        let resolved = reference.resolve()?;
        let commit = resolved.peel_to_commit()?;
        return Ok(Base {
            branch: resolved.name().ok().and_then(branch_name),
            source: resolved.shorthand().unwrap_or(candidate).to_owned(),
            commit: commit.id(),
        });
    }
    Err(PruneError::NoDefaultBranch(redact_credentials(remote)))
}

/// The upstream reference of the checked-out branch, if any.
fn current_upstream(repo: &Repository) -> Option<String> {
    let head = repo.head().ok()?;
    if !head.is_branch() {
        return None;
    }
    let upstream = repo.branch_upstream_name(head.name().ok()?).ok()?;
    upstream.as_str().ok().map(str::to_owned)
}

/// `main` for `refs/heads/main` and for `refs/remotes/origin/main`.
fn branch_name(reference: &str) -> Option<String> {
    if let Some(local) = reference.strip_prefix("refs/heads/") {
        return Some(local.to_owned());
    }
    let remote_branch = reference.strip_prefix("refs/remotes/")?;
    let (_remote, branch) = remote_branch.split_once('/')?;
    Some(branch.to_owned())
}

#[cfg(test)]
mod tests {
    use super::branch_name;

    #[test]
    fn branch_names_drop_the_remote() {
        assert_eq!(branch_name("refs/heads/main").as_deref(), Some("main"));
        assert_eq!(
            branch_name("refs/remotes/origin/release/2026").as_deref(),
            Some("release/2026")
        );
        assert_eq!(branch_name("refs/tags/v1"), None);
    }
}
