//! Finding grant files on disk without being led astray: symbolic links are
//! refused rather than followed (a link could point at `/etc` or at another
//! repository's grants), oversized files are refused before they are read
//! into memory, and only `.yaml`/`.yml` files below `grants/` are grants.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, AtFlags, CWD, Mode, OFlags};

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::model::Position;

pub const REFUSED_FILE: Rule = Rule {
    id: "refused-file",
    severity: Severity::Error,
    summary: "a file in the grants tree that lapse refuses to read",
    help: "grants must be regular files under grants/, at most 64 KiB; replace links with the file itself",
};

/// Largest grant or policy file lapse reads. A grant is a dozen lines; the
/// bound stops a hostile file from exhausting memory.
pub const MAX_FILE_BYTES: u64 = 64 * 1024;

/// What a file read starts with room for: grants are a few hundred bytes.
const INITIAL_READ_BYTES: usize = 8 * 1024;

/// Deepest directory nesting under `grants/`; deeper trees are refused so a
/// crafted tree cannot exhaust the stack or file handles.
const MAX_DEPTH: usize = 16;

/// A piece of the grants tree that can be read on its own: a grant file
/// directly under `grants/`, or a directory with everything below it. The
/// parts in order, each read in order, give the tree in path order.
pub enum Part {
    File(PathBuf),
    Dir(PathBuf),
}

/// The grants directory, open, and its parts (paths relative to the
/// repository root, in path order). Everything below is opened relative to
/// the directory above it, never by a path from the root: the kernel then
/// resolves one name per file rather than the whole path (that took a
/// tenth off a `check --base` over ten thousand grants), and a directory
/// swapped for a link after it was listed is refused like a file would be,
/// as no path is resolved through it.
pub struct GrantsTree {
    dir: Option<OpenDirectory>,
    pub parts: Vec<Part>,
}

/// The parts of the tree under `root/grants_dir`; only the top directory
/// is listed here, so that the rest is listed and read on every core
/// (`read_part`). Refusals come back as findings.
pub fn grant_tree_parts(root: &Path, grants_dir: &Path) -> (GrantsTree, Vec<Diagnostic>) {
    let mut refusals = Vec::new();
    let mut tree = GrantsTree {
        dir: None,
        parts: Vec::new(),
    };
    match fs::symlink_metadata(root.join(grants_dir)) {
        Ok(meta) if meta.file_type().is_symlink() => refusals.push(refuse(
            grants_dir,
            "the grants directory is a symbolic link; lapse does not follow links",
        )),
        Ok(meta)
            if meta.is_dir()
                && fs::symlink_metadata(root.join(grants_dir).join(".git")).is_ok() =>
        {
            refusals.push(refuse(
                grants_dir,
                "the grants directory is a git submodule or repository of its own, whose history lapse does not judge; commit the grant files in this repository",
            ));
        }
        Ok(meta) if meta.is_dir() => match OpenDirectory::open(&root.join(grants_dir)) {
            Ok(dir) => {
                tree.parts = list_dir(&dir, grants_dir, 0, &mut refusals);
                tree.dir = Some(dir);
            }
            Err(error) => refusals.push(cannot_list(grants_dir, error)),
        },
        // A repository without grants is valid; a `grants` that is not a
        // directory is a mistake that would otherwise hide every grant.
        Ok(_) => refusals.push(refuse(grants_dir, "`grants` is not a directory")),
        Err(_) => {}
    }
    (tree, refusals)
}

/// Reads every grant file of a part, in path order, giving each path and
/// its text (or why it was refused) to `each_file`; refusals met listing
/// directories go to `refusals`.
pub fn read_part(
    tree: &GrantsTree,
    part: &Part,
    refusals: &mut Vec<Diagnostic>,
    each_file: &mut impl FnMut(PathBuf, Result<String, Diagnostic>),
) {
    let Some(grants) = &tree.dir else { return };
    match part {
        Part::File(path) => each_file(path.clone(), read_grant_in(grants, path)),
        Part::Dir(dir) => walk(grants, dir, 1, refusals, each_file),
    }
}

/// Reads the grant file `path` names in `dir`, the folder that holds it.
fn read_grant_in(dir: &OpenDirectory, path: &Path) -> Result<String, Diagnostic> {
    dir.read_file(path.file_name().unwrap_or_default())
        .map_err(|reason| refuse(path, &reason))
}

/// Lists `path` (a folder in `parent`) and reads what is below.
fn walk(
    parent: &OpenDirectory,
    path: &Path,
    depth: usize,
    refusals: &mut Vec<Diagnostic>,
    each_file: &mut impl FnMut(PathBuf, Result<String, Diagnostic>),
) {
    let dir = match parent.open_in(path.file_name().unwrap_or_default()) {
        Ok(dir) => dir,
        Err(error) => return refusals.push(cannot_list(path, error)),
    };
    for part in list_dir(&dir, path, depth, refusals) {
        match part {
            Part::File(file) => {
                let text = read_grant_in(&dir, &file);
                each_file(file, text);
            }
            Part::Dir(below) => walk(&dir, &below, depth + 1, refusals, each_file),
        }
    }
}

/// What an entry of the grants tree is, whether it is read from disk or
/// from a commit's tree object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Directory,
    /// A regular file (git modes 100644, 100755, and the legacy 100664 that
    /// git still reads as a regular file).
    File,
    /// A symbolic link (git mode 120000). `to_directory` is known on disk
    /// only.
    Link {
        to_directory: bool,
    },
    /// A git submodule: a commit entry (mode 160000) in a tree, a directory
    /// holding its own `.git` on disk.
    Submodule,
    /// A FIFO, socket or device.
    Special,
}

/// What lapse does with an entry of the grants tree. The disk loader and
/// the history walk both ask this one function, so a grant that is loaded
/// and rendered is always a grant whose history is judged: a name, mode or
/// kind that one of them skipped and the other read was how a grant could
/// be provisioned without its approvals ever being judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Classified {
    /// A directory to read below.
    Descend,
    /// A grant file.
    Grant,
    /// Not a grant (a README, say).
    Ignore,
    /// Something that could hold or pose as a grant but is not read: on
    /// disk a `refused-file` error, never a silent skip.
    Refuse(&'static str),
}

pub fn classify_entry(name: &[u8], kind: EntryKind) -> Classified {
    let grant_like = has_grant_extension(name);
    let could_hold_grants = matches!(
        kind,
        EntryKind::Directory | EntryKind::Submodule | EntryKind::Link { to_directory: true }
    );
    if std::str::from_utf8(name).is_err() {
        return if grant_like || could_hold_grants {
            // A grant id is ASCII and a path must survive being printed,
            // compared and committed intact.
            Classified::Refuse("the name is not valid UTF-8; rename it")
        } else {
            Classified::Ignore
        };
    }
    match kind {
        EntryKind::Directory => Classified::Descend,
        EntryKind::File if grant_like => Classified::Grant,
        EntryKind::Submodule => Classified::Refuse(
            "a git submodule: its grants would be loaded from another repository, whose history lapse does not judge; commit the grant files themselves",
        ),
        EntryKind::Link { .. } if grant_like || could_hold_grants => {
            Classified::Refuse("symbolic links are not followed; commit the grant file itself")
        }
        // A FIFO, socket or device cannot be committed, but one named like
        // a grant must not pass for an absent grant.
        EntryKind::Special if grant_like => Classified::Refuse("not a regular file"),
        _ => Classified::Ignore,
    }
}

/// The grant files and directories directly in `dir` (at `path`), in name
/// order (so that visiting them depth first lists the tree in path order
/// without comparing whole paths). Links are refused, never followed.
fn list_dir(
    dir: &OpenDirectory,
    path: &Path,
    depth: usize,
    refusals: &mut Vec<Diagnostic>,
) -> Vec<Part> {
    if depth > MAX_DEPTH {
        refusals.push(refuse(
            path,
            "the grants tree is nested too deeply (more than 16 levels)",
        ));
        return Vec::new();
    }
    let entries = match dir.entries() {
        Ok(entries) => entries,
        Err(error) => {
            refusals.push(cannot_list(path, error));
            return Vec::new();
        }
    };
    let mut parts = Vec::new();
    for (name, kind) in entries {
        let relative = path.join(&name);
        match classify_entry(name.as_bytes(), kind) {
            Classified::Descend => parts.push(Part::Dir(relative)),
            Classified::Grant => parts.push(Part::File(relative)),
            Classified::Ignore => {}
            Classified::Refuse(reason) => refusals.push(refuse(&relative, reason)),
        }
    }
    parts
}

/// The entries of a directory but `.` and `..`, by name, with the type
/// the directory listing gives.
fn entries_of(dir: BorrowedFd) -> std::io::Result<Vec<(OsString, rfs::FileType)>> {
    // `Dir` reads through a descriptor of its own, at the start.
    let mut entries = Vec::new();
    for entry in rfs::Dir::read_from(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            entries.push((OsStr::from_bytes(name).to_owned(), entry.file_type()));
        }
    }
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

/// What an entry is, asking the file system where the listing does not
/// say (some file systems give no type); `None` for an entry gone since.
fn disk_entry_kind(dir: BorrowedFd, name: &OsStr, listed: rfs::FileType) -> Option<EntryKind> {
    let file_type = match listed {
        rfs::FileType::Unknown => {
            let stat = rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW).ok()?;
            rfs::FileType::from_raw_mode(stat.st_mode)
        }
        known => known,
    };
    Some(match file_type {
        rfs::FileType::Symlink => EntryKind::Link {
            to_directory: rfs::statat(dir, name, AtFlags::empty())
                .is_ok_and(|stat| rfs::FileType::from_raw_mode(stat.st_mode).is_dir()),
        },
        // A checked-out submodule has a `.git` file (or directory) at its
        // top; a nested repository is the same thing to lapse.
        rfs::FileType::Directory => {
            if rfs::statat(dir, Path::new(name).join(".git"), AtFlags::SYMLINK_NOFOLLOW).is_ok() {
                EntryKind::Submodule
            } else {
                EntryKind::Directory
            }
        }
        rfs::FileType::RegularFile => EntryKind::File,
        _ => EntryKind::Special,
    })
}

/// A directory of the repository opened without following a link, whose
/// entries are listed, read and opened relative to it: a directory swapped
/// for a link once opened is never read through. The grants tree,
/// `templates/` (a template decides what Terraform runs) and render's
/// output folder are reached this way.
pub struct OpenDirectory(OwnedFd);

impl OpenDirectory {
    /// Opens `path`; a link there is `ELOOP`.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        open_directory(CWD, path).map(Self)
    }

    /// Its entries but `.` and `..`, in name order, with what each is; an
    /// entry gone since the listing is left out.
    pub fn entries(&self) -> std::io::Result<Vec<(OsString, EntryKind)>> {
        let dir = self.0.as_fd();
        Ok(entries_of(dir)?
            .into_iter()
            .filter_map(|(name, listed)| {
                let kind = disk_entry_kind(dir, &name, listed)?;
                Some((name, kind))
            })
            .collect())
    }

    /// Reads the file `name` in it as a grant file is read: at most
    /// `MAX_FILE_BYTES` of UTF-8, no link followed, no FIFO waited on.
    pub fn read_file(&self, name: &OsStr) -> Result<String, String> {
        self.open_file(name)
            .map_err(|error| open_failure(&error))
            .and_then(|file| read_open(file, MAX_FILE_BYTES))
    }

    /// Opens the file `name` in it for reading, not following a link and
    /// not waiting on a FIFO.
    pub fn open_file(&self, name: &OsStr) -> std::io::Result<File> {
        open_file(self.0.as_fd(), name)
    }

    /// Opens the folder `name` in it; a link there is `ELOOP`.
    pub fn open_in(&self, name: &OsStr) -> std::io::Result<Self> {
        open_directory(self.0.as_fd(), name).map(Self)
    }

    /// The descriptor, for operations relative to the folder (`*at`).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

/// Opens the directory `name` in `dir` (a path, from `CWD`), refusing a
/// link in its last component (`ELOOP`).
fn open_directory(
    dir: BorrowedFd,
    name: impl rustix::path::Arg + Copy,
) -> std::io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    match rfs::openat(dir, name, flags, Mode::empty()) {
        // Linux answers a link under `O_DIRECTORY | O_NOFOLLOW` with
        // `ENOTDIR`, as it checks the kind first: tell the two apart.
        Err(rustix::io::Errno::NOTDIR)
            if rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
                .is_ok_and(|stat| rfs::FileType::from_raw_mode(stat.st_mode).is_symlink()) =>
        {
            Err(rustix::io::Errno::LOOP.into())
        }
        opened => Ok(opened?),
    }
}

/// Opens the file `name` in `dir` for reading, as `open_not_following`
/// does.
fn open_file(dir: BorrowedFd, name: &OsStr) -> std::io::Result<File> {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    Ok(File::from(rfs::openat(dir, name, flags, Mode::empty())?))
}

fn cannot_list(path: &Path, error: std::io::Error) -> Diagnostic {
    let reason = match error.raw_os_error() {
        Some(libc::ELOOP) => "it is a symbolic link; lapse does not follow links".to_owned(),
        _ => format!("cannot read directory: {error}"),
    };
    refuse(path, &reason)
}

fn has_grant_extension(name: &[u8]) -> bool {
    name.ends_with(b".yaml") || name.ends_with(b".yml")
}

pub fn is_grant_file_name(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|name| has_grant_extension(name.as_bytes()))
}

/// Reads a file of at most `limit` bytes as UTF-8, reading no more than
/// one byte past the bound whatever the file's real size.
pub fn read_at_most(path: &Path, limit: u64) -> Result<String, String> {
    let file = open_not_following(path).map_err(|error| open_failure(&error))?;
    read_open(file, limit)
}

/// Why a file could not be opened, for a finding.
fn open_failure(error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(libc::ELOOP) => "it is a symbolic link; lapse does not follow links".to_owned(),
        _ => format!("cannot open: {error}"),
    }
}

/// Reads an open file of at most `limit` bytes as UTF-8.
fn read_open(file: File, limit: u64) -> Result<String, String> {
    // Read into this thread's scratch buffer, with room for a whole grant
    // up front: the file is then read in one call plus the one that sees
    // its end, without asking for its size first, and the text is copied
    // out at its exact size. A fresh buffer per file, shrunk after, was a
    // tenth of reading ten thousand grants (allocator growth on every
    // thread), system calls most of the rest.
    SCRATCH.with_borrow_mut(|bytes| {
        bytes.clear();
        file.take(limit + 1)
            .read_to_end(bytes)
            .map_err(|error| format!("cannot read: {error}"))?;
        size_within(bytes.len(), limit)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| "the file is not valid UTF-8".to_owned())
    })
}

thread_local! {
    /// What `read_open` reads into; it keeps the capacity of the largest
    /// file the thread read (at most a policy's bound).
    static SCRATCH: std::cell::RefCell<Vec<u8>> =
        std::cell::RefCell::new(Vec::with_capacity(INITIAL_READ_BYTES));
}

/// Opens a file for reading without following a link in its last component
/// and without waiting on a FIFO: the tree is listed before it is read, and
/// a file swapped for a link (to `/etc/shadow`, or to another repository's
/// grants) or for a FIFO in between is refused rather than followed, and
/// is not waited on for ever.
pub fn open_not_following(path: &Path) -> std::io::Result<File> {
    File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

pub fn check_size(len: usize) -> Result<(), String> {
    size_within(len, MAX_FILE_BYTES)
}

fn size_within(len: usize, limit: u64) -> Result<(), String> {
    if len as u64 > limit {
        Err(format!("the file is larger than {} KiB", limit / 1024))
    } else {
        Ok(())
    }
}

fn refuse(path: &Path, reason: &str) -> Diagnostic {
    REFUSED_FILE.at(path, Position::new(1, 1), reason)
}
