//! The end of a grant's life: `lapse expiring` warns before it, `lapse
//! prune` removes the file after it through a branch and a pull request.
//!
//! Prune works on the object database only: it reads the grants of the
//! base commit, writes a commit whose tree lacks the expired ones, and
//! moves `refs/heads/<branch>` to it. What a person has checked out is never
//! read or changed.

pub mod base;
pub mod commit;
pub mod message;
pub mod push;
pub mod snapshot;
pub mod summary;
pub mod window;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use git2::{Oid, Repository};

use crate::model::Grant;

pub use base::{Base, resolve_base};
pub use commit::Regenerate;
pub use summary::GrantSummary;
pub use window::ExpiryWindow;

/// The branch prune writes when `--branch` is not given.
pub const DEFAULT_BRANCH: &str = "lapse/prune";

#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    // Not a `source`: libgit2's message is the whole story, and a source
    // would print it a second time.
    // libgit2 may quote a URL it was given, credentials and all.
    #[error("git: {}", crate::uri::redact_credentials(.0.message()))]
    Git(git2::Error),
    #[error(
        "--base {0}: no such commit or branch here; fetch it first (git fetch origin) or name an existing branch"
    )]
    UnknownBase(String),
    #[error(
        "cannot tell the default branch: there is no {0}/HEAD, no upstream of the current branch and no main or master branch; pass --base BRANCH, for example --base {0}/main"
    )]
    NoDefaultBranch(String),
    #[error(
        "`{0}` is not a valid branch name; pass --branch with a name git accepts, such as lapse/prune"
    )]
    InvalidBranch(String),
    #[error(
        "the current branch is {0}, the branch prune rewrites; check out the default branch, or pass --branch with another name"
    )]
    OnPruneBranch(String),
    #[error("regenerating generated/ failed: {0}")]
    Regenerate(String),
    #[error("regenerating generated/ returned the path {}, which is not inside generated/", .0.display())]
    GeneratedPath(PathBuf),
    #[error(
        "there is no remote named `{0}`: add it with `git remote add {0} URL`, or pass --push the name of an existing remote"
    )]
    NoSuchRemote(String),
    #[error(
        "cannot read the remote `{remote}`: {reason}; check its URL (git remote -v) and the credentials git uses for it"
    )]
    RemoteUnreachable { remote: String, reason: String },
    #[error(
        "pushing {branch} to `{remote}` was refused: {reason}; check that the credentials may push (GitHub: contents: write) and that no branch protection covers {branch}, then rerun lapse prune"
    )]
    PushRejected {
        remote: String,
        branch: String,
        reason: String,
    },
    #[error("cannot run git ({0}): lapse pushes with the git CLI, install it")]
    GitMissing(String),
    #[error(
        "the base commit {commit} has no directory {}, where this grants repository lies in the git work tree; commit it there, or pass --base a commit that has it",
        .prefix.display()
    )]
    NoGrantsRepository { prefix: PathBuf, commit: Oid },
}

impl From<git2::Error> for PruneError {
    fn from(error: git2::Error) -> Self {
        Self::Git(error)
    }
}

/// What a prune run would do, decided before anything is written.
#[derive(Debug)]
pub struct Plan {
    pub base: Base,
    /// Where the grants repository lies in the git work tree (empty at its
    /// top); grant paths are relative to it, as `lapse check` prints them.
    pub prefix: PathBuf,
    /// Grants expired at or before this instant are removed: `--now` less
    /// the grace period.
    pub cutoff: DateTime<Utc>,
    pub expired: Vec<Grant>,
    pub remaining: Vec<Grant>,
    pub has_generated: bool,
    /// Names under `grants/` that were not read (`Snapshot::skipped`).
    pub skipped: Vec<String>,
}

impl Plan {
    /// The removed grants as readers see them.
    pub fn removed(&self) -> Vec<GrantSummary> {
        self.expired
            .iter()
            .filter_map(|grant| grant.expires_at().map(|at| GrantSummary::of(grant, at)))
            .collect()
    }
}

/// Reads the base commit and selects what has expired at `cutoff`. Only
/// `Grant::has_expired_at` selects: a grant without a valid `expires`, or a
/// file that does not parse, stays.
pub fn plan(
    repo: &Repository,
    base: Base,
    prefix: PathBuf,
    cutoff: DateTime<Utc>,
) -> Result<Plan, PruneError> {
    let tree = snapshot::grants_repository_tree(repo, &base.commit(repo)?, &prefix)?;
    let snapshot = snapshot::read_snapshot(repo, &tree)?;
    let (expired, remaining) = snapshot
        .grants
        .into_iter()
        .partition(|grant| grant.has_expired_at(cutoff));
    Ok(Plan {
        base,
        prefix,
        cutoff,
        expired,
        remaining,
        has_generated: snapshot.has_generated,
        skipped: snapshot.skipped,
    })
}

/// Refuses branch names git would refuse, before anything is written.
pub fn check_branch_name(branch: &str) -> Result<(), PruneError> {
    if git2::Reference::is_valid_name(&format!("refs/heads/{branch}")) {
        Ok(())
    } else {
        Err(PruneError::InvalidBranch(branch.to_owned()))
    }
}

/// The prune commit as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub commit: Oid,
    /// Whether `generated/` was refreshed for the remaining grants.
    pub regenerated: bool,
}

/// Writes the prune commit and points `refs/heads/<branch>` at it.
/// `earlier` lists commits an earlier run may have made (the local branch,
/// the remote's branch); one with the same parent and tree is reused, so a
/// rerun with nothing new changes no commit id, pushes nothing and starts
/// no CI on the pull request. `regenerate` is called only when the base commits
/// a `generated/` directory.
pub fn write_branch(
    repo: &Repository,
    plan: &Plan,
    branch: &str,
    regenerate: Option<Regenerate>,
    earlier: &[Oid],
) -> Result<Written, PruneError> {
    refuse_current_branch(repo, branch)?;
    let generated = match regenerate {
        Some(regenerate) if plan.has_generated => Some(
            regenerate(&plan.remaining)
                .map_err(|error| PruneError::Regenerate(error.to_string()))?,
        ),
        _ => None,
    };
    let base = plan.base.commit(repo)?;
    let tree = commit::pruned_tree(repo, &base, plan, generated.as_ref())?;
    let message = message::commit_message(&plan.removed());
    let commit = commit::write_branch(repo, branch, &base, tree, &message, earlier)?;
    Ok(Written {
        commit,
        regenerated: generated.is_some(),
    })
}

/// The commit `refs/heads/<branch>` points at, if the branch exists.
pub fn branch_tip(repo: &Repository, branch: &str) -> Option<Oid> {
    repo.find_reference(&format!("refs/heads/{branch}"))
        .ok()?
        .peel_to_commit()
        .ok()
        .map(|commit| commit.id())
}

/// Moving the checked-out branch would change what the person has checked
/// out under their feet, which prune promises never to do.
fn refuse_current_branch(repo: &Repository, branch: &str) -> Result<(), PruneError> {
    let current = repo
        .head()
        .ok()
        .and_then(|head| head.name().ok().map(str::to_owned));
    if current.as_deref() == Some(format!("refs/heads/{branch}").as_str()) {
        return Err(PruneError::OnPruneBranch(branch.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use git2::{Repository, Signature};

    use super::*;
    use crate::model::timestamp::parse_timestamp;

    const EXPIRED: &str = "subject: a@example.com\nrole: r\nexpires: 2026-01-01T00:00:00Z\n";
    const ACTIVE: &str = "subject: b@example.com\nrole: r\nexpires: 2027-01-01T00:00:00Z\n";

    /// A repository whose `main` holds `files`, made through git2 alone.
    fn repository(files: &[(&str, &str)]) -> (tempfile::TempDir, Repository) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        commit_files(&repo, files);
        (dir, repo)
    }

    fn commit_files(repo: &Repository, files: &[(&str, &str)]) {
        let mut update = git2::build::TreeUpdateBuilder::new();
        for (path, text) in files {
            let blob = repo.blob(text.as_bytes()).unwrap();
            update.upsert(path, blob, git2::FileMode::Blob);
        }
        let empty = repo
            .find_tree(repo.treebuilder(None).unwrap().write().unwrap())
            .unwrap();
        let tree = repo
            .find_tree(update.create_updated(repo, &empty).unwrap())
            .unwrap();
        let signature = Signature::now("t", "t@example.com").unwrap();
        repo.commit(
            Some("refs/heads/main"),
            &signature,
            &signature,
            "grants",
            &tree,
            &[],
        )
        .unwrap();
    }

    fn plan_at_2026_06(repo: &Repository) -> Plan {
        let base = resolve_base(repo, Some("main"), "origin").unwrap();
        let cutoff = parse_timestamp("2026-06-01T00:00:00Z").unwrap();
        plan(repo, base, PathBuf::new(), cutoff).unwrap()
    }

    fn files(repo: &Repository, branch: &str) -> Vec<String> {
        let tree = repo
            .revparse_single(branch)
            .unwrap()
            .peel_to_tree()
            .unwrap();
        let mut paths = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob) {
                paths.push(format!("{dir}{}", entry.name().unwrap()));
            }
            git2::TreeWalkResult::Ok
        })
        .unwrap();
        paths
    }

    #[test]
    fn regenerate_replaces_generated_with_what_the_remaining_grants_need() {
        let (_dir, repo) = repository(&[
            ("grants/a.yaml", EXPIRED),
            ("grants/b.yaml", ACTIVE),
            ("generated/a.tf", "old"),
            ("generated/providers.tf", "old"),
        ]);
        let plan = plan_at_2026_06(&repo);
        let seen = RefCell::new(Vec::new());
        let regenerate = |remaining: &[Grant]| {
            seen.borrow_mut()
                .extend(remaining.iter().map(|g| g.id.clone()));
            Ok(BTreeMap::from([
                (PathBuf::from("b.tf"), "new".to_owned()),
                (PathBuf::from("providers.tf"), "new".to_owned()),
            ]))
        };
        write_branch(&repo, &plan, DEFAULT_BRANCH, Some(&regenerate), &[]).unwrap();
        assert_eq!(*seen.borrow(), ["b"]);
        assert_eq!(
            files(&repo, DEFAULT_BRANCH),
            ["generated/b.tf", "generated/providers.tf", "grants/b.yaml"]
        );
    }

    #[test]
    fn regenerate_is_not_called_when_the_repository_commits_no_generated_dir() {
        let (_dir, repo) = repository(&[("grants/a.yaml", EXPIRED), ("grants/b.yaml", ACTIVE)]);
        let plan = plan_at_2026_06(&repo);
        let regenerate = |_: &[Grant]| -> Result<
            BTreeMap<PathBuf, String>,
            Box<dyn std::error::Error + Send + Sync>,
        > { panic!("called without generated/") };
        write_branch(&repo, &plan, DEFAULT_BRANCH, Some(&regenerate), &[]).unwrap();
        assert_eq!(files(&repo, DEFAULT_BRANCH), ["grants/b.yaml"]);
    }

    #[test]
    fn regenerated_paths_cannot_leave_generated() {
        let (_dir, repo) = repository(&[("grants/a.yaml", EXPIRED), ("generated/x.tf", "x")]);
        let plan = plan_at_2026_06(&repo);
        let regenerate = |_: &[Grant]| {
            Ok(BTreeMap::from([(
                PathBuf::from("../grants/evil.yaml"),
                String::new(),
            )]))
        };
        let error = write_branch(&repo, &plan, DEFAULT_BRANCH, Some(&regenerate), &[]).unwrap_err();
        assert!(
            matches!(error, PruneError::GeneratedPath(ref p) if p == Path::new("../grants/evil.yaml"))
        );
        assert!(repo.find_reference("refs/heads/lapse/prune").is_err());
    }
}
