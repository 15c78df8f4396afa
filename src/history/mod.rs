//! The git history of the grants tree, read with git2 in one pass: which
//! commit changed which grant, by whom, and what the grant said before and
//! after. `rules::history` judges approvals from it; `lapse who` answers
//! "who had access at time T" from it.
//!
//! Reads only: lapse never shells out to git here, and never runs `git log`
//! per file. Each commit's tree is compared top-down with its parent's,
//! descending only into subtrees whose object ids differ, which is the same
//! work `git log --name-only` does. Because each commit is compared with
//! its own parents, `walk` hands the commits to every core while
//! `traversal` is still reading them (each commit read once, in `object`).
//! Every object comes from `pack`, which reads the pack files itself and
//! keeps the bases of delta chains that libgit2 rebuilds from the start for
//! every version of a directory; what it does not read goes to libgit2,
//! each thread through its own pack handles (`repository`).
//!
//! Grants are followed by id (the file stem), not by path, so `git mv` to
//! another directory keeps a grant's history; deleting a grant ends it, and
//! a grant added later under the same id starts afresh.
//!
//! Merges: `lapse check` visits every commit reachable from HEAD, merged
//! branches included, and compares each commit with its own parents. A
//! merge commit counts as changing a grant only where its result differs
//! from every parent (a conflict resolution or an "evil merge"), so merging
//! a branch is not authoring what the branch wrote; the branch's commits
//! are judged with their own authors. `lapse who` instead follows the first
//! parents of the default branch (`mainline`): the states the branch itself
//! went through, where a merged grant takes effect with the merge commit;
//! `lapse audit` reads both views in one walk.

pub mod activity;
pub mod authority;
mod cache;
pub mod commit;
pub mod diff;
pub mod ledger;
pub mod mainline;
pub mod object;
mod pack;
pub mod policy_change;
mod raw_tree;
pub mod repository;
mod revocation;
pub mod signature;
pub mod timeline;
mod traversal;
mod walk;

pub use activity::{ActiveAt, GrantRecord, grants_active_at};
pub use authority::{Authorities, Authority, Judged, LoadedPolicy};
pub use commit::CommitStamp;
pub use diff::{KnownVersions, blob_id};
pub use object::CommitObject;
pub use policy_change::PolicyChange;
pub use repository::{GrantRepository, discover_git, grants_prefix};
pub use signature::SignatureCheck;
pub use timeline::{
    Change, ChangeHistory, Event, GrantHistory, HistoryInputs, audit_history, change_history,
};

/// How to get the history lapse needs, said in every error about missing
/// history. actions/checkout fetches one commit unless told otherwise.
const FETCH_HINT: &str = "fetch the full history with `git fetch --unshallow` (in GitHub Actions: `fetch-depth: 0` on actions/checkout; in GitLab CI: `GIT_DEPTH: 0`)";

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("{} is not inside a git repository; {what} reads the git history", .root.display())]
    NotARepository {
        root: std::path::PathBuf,
        what: &'static str,
    },
    #[error(
        "{}: this git repository belongs to another user, and git and libgit2 (lapse's git reader) open such a repository only once it is trusted; if you trust it (a CI checkout made by another user, or in a container), run `git config --global --add safe.directory {}`",
        .top.display(), .top.display()
    )]
    NotOwned { top: std::path::PathBuf },
    #[error(
        "{} is inside a git repository whose work tree is {}; run lapse in that work tree, where the grants are committed",
        .root.display(), .workdir.display()
    )]
    OutsideWorkTree {
        root: std::path::PathBuf,
        workdir: std::path::PathBuf,
    },
    #[error(
        "the repository is a shallow clone, so the history that decides approvals is missing; {FETCH_HINT}"
    )]
    Shallow,
    #[error("--base {rev}: no such revision in this shallow clone; {FETCH_HINT}")]
    ShallowBase { rev: String },
    #[error(
        "--base {rev}: no such commit in the local repository; fetch it first (for example `git fetch origin main`), or {FETCH_HINT}"
    )]
    UnknownBase { rev: String },
    #[error(
        "--base {rev} shares no history with HEAD; check that it names the branch the change is going into"
    )]
    NoMergeBase { rev: String },
    #[error(
        "the repository is a partial clone (`git clone --filter`) that left out old versions of grant files, and libgit2 (lapse's git reader) cannot fetch them on demand as git does; fetch them with `git backfill` (git 2.49 or later), or clone without `--filter` (in GitHub Actions: drop `filter:` from actions/checkout and keep `fetch-depth: 0`)"
    )]
    PartialClone,
    // Not a `source`: libgit2's message is the whole story, and a source
    // would print it a second time.
    #[error("reading the git history: {}", .0.message())]
    Git(git2::Error),
}

impl From<git2::Error> for HistoryError {
    fn from(error: git2::Error) -> Self {
        Self::Git(error)
    }
}
