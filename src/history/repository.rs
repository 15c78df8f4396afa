//! The git repository that holds a grants directory, and the checks that
//! the history lapse is about to read is really there.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use git2::{Commit, ErrorClass, ErrorCode, ObjectType, Oid, Repository};

use crate::load::POLICY_FILE;

use super::HistoryError;
use super::diff::TreeReader;
use super::pack::{ObjectReader, Packs};

pub struct GrantRepository {
    repo: Repository,
    /// Where `lapse.yaml` lives inside the work tree (empty at the root), so
    /// a grants directory inside a monorepo is found in every commit.
    prefix: PathBuf,
    /// The indexes of its packs, opened when a walk first needs them and
    /// shared by every handle `reopen` makes.
    packs: Arc<OnceLock<Packs>>,
}

/// The git repository enclosing `dir`, or `None` when there is none. One
/// that libgit2 refuses to open (another user's, or a broken one) is an
/// error: taking it for "no repository" would skip the history rules.
pub fn discover_git(dir: &Path) -> Result<Option<Repository>, HistoryError> {
    match Repository::discover(dir) {
        Ok(repo) => Ok(Some(repo)),
        Err(error) if error.code() == ErrorCode::NotFound => Ok(None),
        Err(error) if error.code() == ErrorCode::Owner => Err(HistoryError::NotOwned {
            top: top_directory(dir),
        }),
        Err(error) => Err(error.into()),
    }
}

/// Where the grants repository at `root` (the directory of `lapse.yaml`)
/// lies inside `repo`'s work tree: empty at its top, `infra/access` in a
/// monorepo. Every command reads the grants, `lapse.yaml`, `templates/`
/// and `generated/` of a commit at this prefix, so they all agree on where
/// the grants are. `None` for a bare repository, which has no work tree.
/// A root the work tree does not hold (`core.worktree` elsewhere) is an
/// error: it has no history in this repository, and judging it without
/// one would pass what its history rejects.
pub fn grants_prefix(repo: &Repository, root: &Path) -> Result<Option<PathBuf>, HistoryError> {
    let Some(workdir) = repo.workdir() else {
        return Ok(None);
    };
    let outside = || HistoryError::OutsideWorkTree {
        root: root.to_path_buf(),
        workdir: workdir.to_path_buf(),
    };
    let (Ok(canonical_root), Ok(canonical_workdir)) = (root.canonicalize(), workdir.canonicalize())
    else {
        return Err(outside());
    };
    let prefix = canonical_root
        .strip_prefix(canonical_workdir)
        .map_err(|_| outside())?;
    Ok(Some(prefix.to_path_buf()))
}

/// The work tree that `.git` marks above `dir` (what `safe.directory`
/// names); `dir` itself when none is found.
fn top_directory(dir: &Path) -> PathBuf {
    dir.canonicalize()
        .ok()
        .and_then(|dir| {
            dir.ancestors()
                .find(|ancestor| ancestor.join(".git").exists())
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| dir.to_path_buf())
}

impl GrantRepository {
    /// The repository enclosing `root`, if any; a bare repository has no
    /// work tree to hold `lapse.yaml`, so it does not count.
    pub fn discover(root: &Path) -> Result<Option<Self>, HistoryError> {
        // libgit2 re-hashes every object it reads by default; git itself
        // does not (it checks hashes in `git fsck`), and on a walk of the
        // whole history the hashing was a quarter of lapse's time. Reads
        // stay bounded and parsed strictly whatever the bytes are.
        git2::opts::strict_hash_verification(false);
        // The walk reads each commit and tree once per thread, so libgit2's
        // object cache (per handle, up to 256 MB) never hits; it only
        // held every commit of the history in memory, once per thread.
        git2::opts::enable_caching(false);
        let Some(repo) = discover_git(root)? else {
            return Ok(None);
        };
        let Some(prefix) = grants_prefix(&repo, root)? else {
            return Ok(None);
        };
        Ok(Some(Self {
            repo,
            prefix,
            packs: Arc::default(),
        }))
    }

    /// Like `discover`, for commands that cannot work without history.
    pub fn open(root: &Path, what: &'static str) -> Result<Self, HistoryError> {
        Self::discover(root)?.ok_or_else(|| HistoryError::NotARepository {
            root: root.to_path_buf(),
            what,
        })
    }

    /// A shallow clone cuts history off at an arbitrary commit: the authors
    /// of older changes are unknown, so judging approvals on it would pass
    /// silently what a full history rejects.
    pub fn require_full_history(&self) -> Result<(), HistoryError> {
        if self.repo.is_shallow() {
            Err(HistoryError::Shallow)
        } else {
            Ok(())
        }
    }

    /// The commit HEAD points at; `None` before the first commit.
    pub fn head(&self) -> Result<Option<Commit<'_>>, HistoryError> {
        match self.repo.head() {
            Ok(head) => Ok(Some(head.peel_to_commit()?)),
            Err(error) if error.code() == git2::ErrorCode::UnbornBranch => Ok(None),
            Err(error) if error.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Where HEAD's branch left the `--base` revision: the change under
    /// review is what HEAD has on top of it (`base...HEAD`, the way a forge
    /// shows a pull request).
    pub fn fork_point(&self, rev: &str, head: &Commit) -> Result<Commit<'_>, HistoryError> {
        let base = self
            .repo
            .revparse_single(rev)
            .and_then(|object| object.peel_to_commit())
            .map_err(|_| self.missing_base(rev))?;
        match self.repo.merge_base(base.id(), head.id()) {
            Ok(id) => Ok(self.repo.find_commit(id)?),
            Err(_) if self.repo.is_shallow() => Err(self.missing_base(rev)),
            Err(_) => Err(HistoryError::NoMergeBase {
                rev: rev.to_owned(),
            }),
        }
    }

    /// Says what an object missing from the object database means here: in
    /// a partial clone it was left out on purpose, and the fix is to fetch
    /// it; anywhere else libgit2's own message stands.
    pub fn explain_missing(&self, error: HistoryError) -> HistoryError {
        match error {
            HistoryError::Git(ref git)
                if git.code() == ErrorCode::NotFound
                    && git.class() == ErrorClass::Odb
                    && self.is_partial_clone() =>
            {
                HistoryError::PartialClone
            }
            other => other,
        }
    }

    /// Whether a remote promises objects this clone left out, as
    /// `git clone --filter` records it (older git: `extensions.partialClone`).
    fn is_partial_clone(&self) -> bool {
        let Ok(config) = self.repo.config() else {
            return false;
        };
        if config.get_string("extensions.partialclone").is_ok() {
            return true;
        }
        let mut promisors = Vec::new();
        if let Ok(entries) = config.entries(Some(r"remote\..*\.promisor")) {
            let _ = entries.for_each(|entry| {
                promisors.extend(entry.name().ok().map(str::to_owned));
            });
        }
        promisors
            .iter()
            .any(|name| config.get_bool(name).unwrap_or(false))
    }

    /// The blob id of `lapse.yaml` in `commit`, if it holds one.
    pub fn policy_blob(&self, commit: &Commit) -> Result<Option<Oid>, HistoryError> {
        match commit.tree()?.get_path(&self.prefix.join(POLICY_FILE)) {
            Ok(entry) => Ok((entry.kind() == Some(ObjectType::Blob)).then(|| entry.id())),
            Err(error) if error.code() == ErrorCode::NotFound => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    fn missing_base(&self, rev: &str) -> HistoryError {
        let rev = rev.to_owned();
        if self.repo.is_shallow() {
            HistoryError::ShallowBase { rev }
        } else {
            HistoryError::UnknownBase { rev }
        }
    }

    /// Another handle on the same repository, for walking thread number
    /// `thread` (a git2 handle may move between threads but not be shared),
    /// reading objects through pack file handles of its own.
    ///
    /// libgit2 keeps one handle per pack file for the whole process, found
    /// by its path, and takes that handle's locks on every object read; two
    /// threads walking the history then wait on each other more than they
    /// read (measured: two walkers were slower than one). So each thread
    /// opens the object directory under a path of its own (`objects`,
    /// `./objects`, `././objects`, ...): the same files, but its own pack
    /// handles, windows and delta cache. libgit2 reads the alternates and the
    /// commit graph of that directory as it does for the repository itself.
    pub fn reopen(&self, thread: usize) -> Result<Self, HistoryError> {
        let repo = Repository::open(self.repo.path())?;
        let mut objects = self.repo.commondir().to_path_buf();
        objects.extend(std::iter::repeat_n(".", thread));
        objects.push("objects");
        // A path libgit2 cannot take as text keeps the shared handles,
        // which is slower but reads the same objects.
        if let Some(objects) = objects.to_str().filter(|_| thread > 0) {
            let odb = git2::Odb::new()?;
            odb.add_disk_alternate(objects)?;
            repo.set_odb(&odb)?;
        }
        Ok(Self {
            repo,
            prefix: self.prefix.clone(),
            packs: Arc::clone(&self.packs),
        })
    }

    pub fn git(&self) -> &Repository {
        &self.repo
    }

    pub fn reader(&self) -> Result<TreeReader<'_>, HistoryError> {
        Ok(TreeReader::new(self.objects()?, &self.prefix))
    }

    /// A reader of the repository's objects, for one thread.
    pub fn objects(&self) -> Result<ObjectReader<'_>, HistoryError> {
        let packs = self
            .packs
            .get_or_init(|| Packs::open(&self.repo.commondir().join("objects")));
        Ok(ObjectReader::new(self.repo.odb()?, packs))
    }
}
