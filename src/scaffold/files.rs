//! Writing the files `lapse init` and `lapse codeowners --write` make, and
//! reading the one `codeowners --check` compares: inside the repository
//! only, never through a symbolic link (git stores links, and one could
//! lead a write out of the repository), and never over a file `init`
//! finds already there.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

/// Files `codeowners --check` reads are small; a bigger one is not ours.
const MAX_READ: u64 = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{}: must be a relative path inside the repository", .0.display())]
    OutsideRepository(PathBuf),
    #[error("{}: a symbolic link is on the way; lapse does not write through links", .0.display())]
    Link(PathBuf),
    #[error("{}: already exists; lapse init never overwrites a file (move it away or remove it)", .0.display())]
    Exists(PathBuf),
    #[error("{}: larger than 1 MiB", .0.display())]
    TooLarge(PathBuf),
    #[error("{}: {source}", .path.display())]
    Io { path: PathBuf, source: io::Error },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> FileError + '_ {
    move |source| FileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `relative` under `root`, after checking it stays inside and that no
/// existing component below the root is a symbolic link.
fn checked(root: &Path, relative: &Path) -> Result<PathBuf, FileError> {
    let plain = relative
        .components()
        .all(|component| matches!(component, Component::Normal(_)));
    if !plain || relative.as_os_str().is_empty() {
        return Err(FileError::OutsideRepository(relative.to_path_buf()));
    }
    let mut path = root.to_path_buf();
    for component in relative.components() {
        path.push(component);
        match fs::symlink_metadata(&path) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                return Err(FileError::Link(relative.to_path_buf()));
            }
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => break,
            Err(error) => return Err(io_error(relative)(error)),
        }
    }
    Ok(root.join(relative))
}

fn create_parents(root: &Path, relative: &Path) -> Result<PathBuf, FileError> {
    let path = checked(root, relative)?;
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io_error(relative))?;
    }
    // A directory made by someone else between the check and the write
    // could be a link; look again now that the folders exist.
    checked(root, relative)
}

/// Creates a new file; an existing one (or a link in its place) is an error.
pub fn create_new(root: &Path, relative: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let path = create_parents(root, relative)?;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .map_err(|error| match error.kind() {
            io::ErrorKind::AlreadyExists => FileError::Exists(relative.to_path_buf()),
            _ => io_error(relative)(error),
        })?;
    file.write_all(bytes).map_err(io_error(relative))
}

/// Writes a file, replacing what is there unless it is a link.
pub fn replace_file(root: &Path, relative: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let path = create_parents(root, relative)?;
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .map_err(io_error(relative))?;
    file.write_all(bytes).map_err(io_error(relative))
}

/// The file's bytes, or `None` when it does not exist.
pub fn read_bounded(root: &Path, relative: &Path) -> Result<Option<Vec<u8>>, FileError> {
    let path = checked(root, relative)?;
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&path)
    {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io_error(relative)(error)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_READ + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error(relative))?;
    if bytes.len() as u64 > MAX_READ {
        return Err(FileError::TooLarge(relative.to_path_buf()));
    }
    Ok(Some(bytes))
}
