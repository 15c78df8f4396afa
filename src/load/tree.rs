//! Finding grant files on disk without being led astray: symbolic links are
//! refused rather than followed (a link could point at `/etc` or at another
//! repository's grants), oversized files are refused before they are read
//! into memory, and only `.yaml`/`.yml` files below `grants/` are grants.

use std::fs::{self, File};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

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

/// The parts of the tree under `root/grants_dir`, as paths relative to
/// `root` in path order; only the top directory is listed here, so that
/// the rest is listed and read on every core (`files_of`,
/// `read_grant_file`). Refusals come back as findings.
pub fn grant_tree_parts(root: &Path, grants_dir: &Path) -> (Vec<Part>, Vec<Diagnostic>) {
    let mut refusals = Vec::new();
    let parts = match fs::symlink_metadata(root.join(grants_dir)) {
        Ok(meta) if meta.file_type().is_symlink() => {
            refusals.push(refuse(
                grants_dir,
                "the grants directory is a symbolic link; lapse does not follow links",
            ));
            Vec::new()
        }
        Ok(meta)
            if meta.is_dir()
                && fs::symlink_metadata(root.join(grants_dir).join(".git")).is_ok() =>
        {
            refusals.push(refuse(
                grants_dir,
                "the grants directory is a git submodule or repository of its own, whose history lapse does not judge; commit the grant files in this repository",
            ));
            Vec::new()
        }
        Ok(meta) if meta.is_dir() => list_dir(root, grants_dir, 0, &mut refusals),
        // A repository without grants is valid; a `grants` that is not a
        // directory is a mistake that would otherwise hide every grant.
        Ok(_) => {
            refusals.push(refuse(grants_dir, "`grants` is not a directory"));
            Vec::new()
        }
        Err(_) => Vec::new(),
    };
    (parts, refusals)
}

/// The grant files of a part, in path order.
pub fn files_of(root: &Path, part: &Part, refusals: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    match part {
        Part::File(path) => files.push(path.clone()),
        Part::Dir(dir) => walk(root, dir, 1, &mut files, refusals),
    }
    files
}

/// Reads one grant file that `files_of` listed.
pub fn read_grant_file(root: &Path, path: &Path) -> Result<String, Diagnostic> {
    read_bounded(&root.join(path)).map_err(|reason| refuse(path, &reason))
}

fn walk(
    root: &Path,
    dir: &Path,
    depth: usize,
    files: &mut Vec<PathBuf>,
    refusals: &mut Vec<Diagnostic>,
) {
    for part in list_dir(root, dir, depth, refusals) {
        match part {
            Part::File(path) => files.push(path),
            Part::Dir(below) => walk(root, &below, depth + 1, files, refusals),
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

/// The grant files and directories directly in `dir`, in name order (so
/// that visiting them depth first lists the tree in path order without
/// comparing whole paths). Links are refused, never followed.
fn list_dir(root: &Path, dir: &Path, depth: usize, refusals: &mut Vec<Diagnostic>) -> Vec<Part> {
    if depth > MAX_DEPTH {
        refusals.push(refuse(
            dir,
            "the grants tree is nested too deeply (more than 16 levels)",
        ));
        return Vec::new();
    }
    let entries = match fs::read_dir(root.join(dir)) {
        Ok(entries) => entries,
        Err(error) => {
            refusals.push(refuse(dir, &format!("cannot read directory: {error}")));
            return Vec::new();
        }
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_cached_key(fs::DirEntry::file_name);
    let mut parts = Vec::new();
    for entry in entries {
        let relative = dir.join(entry.file_name());
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        let kind = disk_entry_kind(&entry, file_type);
        match classify_entry(entry.file_name().as_bytes(), kind) {
            Classified::Descend => parts.push(Part::Dir(relative)),
            Classified::Grant => parts.push(Part::File(relative)),
            Classified::Ignore => {}
            Classified::Refuse(reason) => refusals.push(refuse(&relative, reason)),
        }
    }
    parts
}

fn disk_entry_kind(entry: &fs::DirEntry, file_type: fs::FileType) -> EntryKind {
    if file_type.is_symlink() {
        EntryKind::Link {
            to_directory: fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()),
        }
    } else if file_type.is_dir() {
        // A checked-out submodule has a `.git` file (or directory) at its
        // top; a nested repository is the same thing to lapse.
        if fs::symlink_metadata(entry.path().join(".git")).is_ok() {
            EntryKind::Submodule
        } else {
            EntryKind::Directory
        }
    } else if file_type.is_file() {
        EntryKind::File
    } else {
        EntryKind::Special
    }
}

fn has_grant_extension(name: &[u8]) -> bool {
    name.ends_with(b".yaml") || name.ends_with(b".yml")
}

pub fn is_grant_file_name(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|name| has_grant_extension(name.as_bytes()))
}

/// Reads a grant-sized file (at most `MAX_FILE_BYTES`) as UTF-8.
pub fn read_bounded(path: &Path) -> Result<String, String> {
    read_at_most(path, MAX_FILE_BYTES)
}

/// Reads a file of at most `limit` bytes as UTF-8, reading no more than
/// one byte past the bound whatever the file's real size.
pub fn read_at_most(path: &Path, limit: u64) -> Result<String, String> {
    let file = open_not_following(path).map_err(|error| match error.raw_os_error() {
        Some(libc::ELOOP) => "it is a symbolic link; lapse does not follow links".to_owned(),
        _ => format!("cannot open: {error}"),
    })?;
    // Room for a whole grant up front: the file is then read in one call
    // plus the one that sees its end, without asking for its size first
    // (system calls are most of the cost of reading ten thousand grants).
    let mut bytes = Vec::with_capacity(INITIAL_READ_BYTES);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| format!("cannot read: {error}"))?;
    size_within(bytes.len(), limit)?;
    // The text is kept for snippets; the unused room goes to the next read.
    bytes.shrink_to_fit();
    String::from_utf8(bytes).map_err(|_| "the file is not valid UTF-8".to_owned())
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
