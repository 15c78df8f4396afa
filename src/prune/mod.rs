//! The end of a grant's life: `lapse expiring` warns before it, `lapse
//! prune` removes the file after it through a branch and a pull request.
//!
//! Prune works on the object database only: it reads the grants of the
//! base commit, writes a commit whose tree lacks the expired ones, and
//! moves `refs/heads/<branch>` to it. What a person has checked out is never
//! read or changed.

pub mod base;
pub mod commit;
pub mod deliver;
pub mod message;
pub mod push;
pub mod regenerate;
pub mod scratch;
pub mod select;
pub mod snapshot;
pub mod summary;
pub mod window;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use git2::{Oid, Repository};

use crate::load::{self, POLICY_FILE};
use crate::model::{Grant, Policy};

pub use base::{Base, resolve_base};
pub use commit::{Candidate, Regenerate, TreeEdit};
pub use select::{Removal, RemovedGrant, Why};
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
    #[error(
        "cannot write the scratch copy of the branch that regenerating generated/ judges ({reason}); check that the temporary directory (TMPDIR) is writable"
    )]
    Scratch { reason: String },
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
    /// Grants whose access ended at or before this instant are removed:
    /// `--now` less the grace period.
    pub cutoff: DateTime<Utc>,
    pub removed: Vec<Removal>,
    pub remaining: Vec<Grant>,
    /// The base commit's policy, which decides contract ends and orphans.
    pub policy: Option<Policy>,
    /// Why the base commit's policy could not be used, when it could not.
    pub policy_problem: Option<String>,
    pub has_generated: bool,
    /// Names under `grants/` that were not read (`Snapshot::skipped`).
    pub skipped: Vec<String>,
}

impl Plan {
    /// The removed grants as readers see them, each with the command that
    /// would extend it, sized at `now`.
    pub fn removed(&self, now: DateTime<Utc>) -> Vec<RemovedGrant> {
        self.removed
            .iter()
            .map(|removal| removal.describe(self.policy.as_ref(), now))
            .collect()
    }

    /// The change to the base tree: the removed grant files.
    pub fn edit(&self) -> TreeEdit {
        TreeEdit {
            prefix: self.prefix.clone(),
            remove: self.removed.iter().map(|r| r.grant.path.clone()).collect(),
            write: Vec::new(),
        }
    }
}

/// Reads the base commit and selects what goes at `cutoff`
/// (`select::select`): a grant without a valid `expires` whose subject is
/// known, or a file that does not parse, stays.
pub fn plan(
    repo: &Repository,
    base: Base,
    prefix: PathBuf,
    cutoff: DateTime<Utc>,
) -> Result<Plan, PruneError> {
    let tree = snapshot::grants_repository_tree(repo, &base.commit(repo)?, &prefix)?;
    let snapshot = snapshot::read_snapshot(repo, &tree)?;
    let (policy, policy_problem) = match base_policy(repo, &tree)? {
        Ok(policy) => (Some(policy), None),
        Err(problem) => (None, Some(problem)),
    };
    let (removed, remaining) = select::select(snapshot.grants, policy.as_ref(), cutoff);
    Ok(Plan {
        base,
        prefix,
        cutoff,
        removed,
        remaining,
        policy,
        policy_problem,
        has_generated: snapshot.has_generated,
        skipped: snapshot.skipped,
    })
}

/// The policy of the grants repository tree `tree`, or why there is none.
pub fn base_policy(
    repo: &Repository,
    tree: &git2::Tree,
) -> Result<Result<Policy, String>, PruneError> {
    let Some(text) = snapshot::policy_text(repo, tree, Path::new(POLICY_FILE))? else {
        return Ok(Err(format!(
            "the base commit has no {POLICY_FILE} that lapse can read"
        )));
    };
    Ok(
        load::parse_policy(Path::new(POLICY_FILE), &text).map_err(|findings| {
            let first = findings.first().map(|f| f.one_line()).unwrap_or_default();
            format!("the base commit's {POLICY_FILE} does not load: {first}")
        }),
    )
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

/// One commit a lapse branch holds: what it changes in the base, and its
/// message.
#[derive(Debug)]
pub struct BranchCommit<'a> {
    pub base: &'a Base,
    pub edit: TreeEdit,
    /// Whether the base commits a `generated/` directory to refresh.
    pub has_generated: bool,
    pub message: String,
}

/// Writes the commit and points `refs/heads/<branch>` at it. `earlier`
/// lists commits an earlier run may have made (the local branch, the
/// remote's branch); one with the same parent and tree is reused, so a
/// rerun with nothing new changes no commit id, pushes nothing and starts
/// no CI on the pull request. `regenerate` is called only when the base
/// commits a `generated/` directory, with the edited tree it must match.
pub fn write_branch(
    repo: &Repository,
    change: &BranchCommit,
    branch: &str,
    regenerate: Option<Regenerate>,
    earlier: &[Oid],
) -> Result<Written, PruneError> {
    refuse_current_branch(repo, branch)?;
    let base = change.base.commit(repo)?;
    let edited = commit::edited_tree(repo, &base, &change.edit, None)?;
    let generated = match regenerate {
        Some(regenerate) if change.has_generated => {
            let candidate = Candidate {
                base: base.id(),
                tree: edited,
                prefix: &change.edit.prefix,
            };
            Some(regenerate(&candidate)?)
        }
        _ => None,
    };
    let tree = match &generated {
        Some(files) => commit::edited_tree(repo, &base, &change.edit, Some(files))?,
        None => edited,
    };
    let commit = commit::write_branch(repo, branch, &base, tree, &change.message, earlier)?;
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

    fn write(
        repo: &Repository,
        plan: &Plan,
        regenerate: Regenerate,
    ) -> Result<Written, PruneError> {
        let change = BranchCommit {
            base: &plan.base,
            edit: plan.edit(),
            has_generated: plan.has_generated,
            message: "prune".to_owned(),
        };
        write_branch(repo, &change, DEFAULT_BRANCH, Some(regenerate), &[])
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
        let regenerate = |candidate: &Candidate| {
            let tree = repo.find_tree(candidate.tree).unwrap();
            let grants = tree.get_name("grants").unwrap().to_object(&repo).unwrap();
            seen.borrow_mut().extend(
                grants
                    .peel_to_tree()
                    .unwrap()
                    .iter()
                    .map(|entry| entry.name().unwrap().to_owned()),
            );
            Ok(BTreeMap::from([
                (PathBuf::from("b.tf"), "new".to_owned()),
                (PathBuf::from("providers.tf"), "new".to_owned()),
            ]))
        };
        write(&repo, &plan, &regenerate).unwrap();
        assert_eq!(
            *seen.borrow(),
            ["b.yaml"],
            "regenerate sees the pruned tree"
        );
        assert_eq!(
            files(&repo, DEFAULT_BRANCH),
            ["generated/b.tf", "generated/providers.tf", "grants/b.yaml"]
        );
    }

    #[test]
    fn regenerate_is_not_called_when_the_repository_commits_no_generated_dir() {
        let (_dir, repo) = repository(&[("grants/a.yaml", EXPIRED), ("grants/b.yaml", ACTIVE)]);
        let plan = plan_at_2026_06(&repo);
        let regenerate = |_: &Candidate| -> Result<BTreeMap<PathBuf, String>, PruneError> {
            panic!("called without generated/")
        };
        write(&repo, &plan, &regenerate).unwrap();
        assert_eq!(files(&repo, DEFAULT_BRANCH), ["grants/b.yaml"]);
    }

    #[test]
    fn regenerated_paths_cannot_leave_generated() {
        let (_dir, repo) = repository(&[("grants/a.yaml", EXPIRED), ("generated/x.tf", "x")]);
        let plan = plan_at_2026_06(&repo);
        let regenerate = |_: &Candidate| {
            Ok(BTreeMap::from([(
                PathBuf::from("../grants/evil.yaml"),
                String::new(),
            )]))
        };
        let error = write(&repo, &plan, &regenerate).unwrap_err();
        assert!(
            matches!(error, PruneError::GeneratedPath(ref p) if p == Path::new("../grants/evil.yaml"))
        );
        assert!(repo.find_reference("refs/heads/lapse/prune").is_err());
    }
}
