//! Tamper evidence for the history an audit reads. A checkpoint lists the
//! commits one run read (ids with their times); the next run reports every
//! listed commit the default branch no longer reaches. A force push that
//! rewrote access history (dropped a grant, an approval, a removal) makes
//! new commits, so the old ones drop out of reach and show up here.
//!
//! The checkpoint is only as safe as where it is kept: commit it, or keep
//! it as a CI artifact where whoever can force-push cannot also rewrite it.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use git2::Oid;
use serde::{Deserialize, Serialize};

use crate::model::timestamp::format_timestamp;

/// A checkpoint of 20,000 commits is about 1.5 MB; this bounds what a
/// hostile file can make lapse read (about two million commits).
const MAX_CHECKPOINT_BYTES: u64 = 160 << 20;

/// The format version of checkpoint files.
const CHECKPOINT_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointFile {
    version: u32,
    /// The branch and tip read, for a person reading the file.
    branch: String,
    written: String,
    commits: Vec<Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    commit: String,
    time: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("cannot read the checkpoint {}: {source}", .path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "the checkpoint {} is larger than {} MiB, which no audit writes; point --checkpoint at the file a previous `lapse audit` wrote",
        .path.display(), MAX_CHECKPOINT_BYTES >> 20
    )]
    TooLarge { path: PathBuf },
    #[error(
        "the checkpoint {} is not one `lapse audit` wrote ({message}); point --checkpoint at such a file, or remove it to start a new one",
        .path.display()
    )]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write the checkpoint {}: {source}", .path.display())]
    Write { path: PathBuf, source: io::Error },
}

/// A commit a checkpoint listed that the branch no longer reaches.
#[derive(Debug, Clone, Serialize)]
pub struct Unreachable {
    pub commit: String,
    pub time: String,
}

/// What `--verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub checkpoint: String,
    /// Whether a previous checkpoint was there to verify against.
    pub previous: bool,
    /// How many commits it listed.
    pub checked: usize,
    pub unreachable: Vec<Unreachable>,
}

impl Verification {
    /// Whether the history was rewritten since the checkpoint.
    pub fn rewritten(&self) -> bool {
        !self.unreachable.is_empty()
    }

    /// One sentence for a report.
    pub fn summary(&self) -> String {
        if !self.previous {
            return format!(
                "No checkpoint at {} yet: nothing to verify against; this run writes the first.",
                self.checkpoint
            );
        }
        if self.rewritten() {
            return format!(
                "HISTORY REWRITTEN: {} of the {} commits listed in the checkpoint {} are no longer reachable from the branch (a force push replaced them): {}",
                self.unreachable.len(),
                self.checked,
                self.checkpoint,
                self.unreachable
                    .iter()
                    .map(|gone| format!("{} ({})", gone.commit, gone.time))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        format!(
            "Verified: all {} commits of the checkpoint {} are still on the branch.",
            self.checked, self.checkpoint
        )
    }
}

/// Compares the checkpoint at `path` (if there is one) with `reachable`,
/// the commits the branch reaches now.
pub fn verify(path: &Path, reachable: &HashSet<Oid>) -> Result<Verification, CheckpointError> {
    let checkpoint = read(path)?;
    let previous = checkpoint.is_some();
    let entries = checkpoint.map(|file| file.commits).unwrap_or_default();
    let mut unreachable = Vec::new();
    for entry in &entries {
        let id = Oid::from_str(&entry.commit)
            .ok()
            .filter(|_| entry.commit.len() == 40)
            .ok_or_else(|| CheckpointError::Invalid {
                path: path.to_path_buf(),
                message: format!("{:?} is not a commit id", entry.commit),
            })?;
        if !reachable.contains(&id) {
            unreachable.push(Unreachable {
                commit: entry.commit.clone(),
                time: entry.time.clone(),
            });
        }
    }
    Ok(Verification {
        checkpoint: path.display().to_string(),
        previous,
        checked: entries.len(),
        unreachable,
    })
}

fn read(path: &Path) -> Result<Option<CheckpointFile>, CheckpointError> {
    let read_error = |source| CheckpointError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = match fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(read_error(error)),
    };
    let mut text = String::new();
    file.take(MAX_CHECKPOINT_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(read_error)?;
    if text.len() as u64 > MAX_CHECKPOINT_BYTES {
        return Err(CheckpointError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    let file: CheckpointFile =
        serde_json::from_str(&text).map_err(|error| CheckpointError::Invalid {
            path: path.to_path_buf(),
            message: error.to_string(),
        })?;
    if file.version != CHECKPOINT_VERSION {
        return Err(CheckpointError::Invalid {
            path: path.to_path_buf(),
            message: format!(
                "version {}, where this lapse writes {CHECKPOINT_VERSION}",
                file.version
            ),
        });
    }
    Ok(Some(file))
}

/// Writes the checkpoint of `commits` (every commit the branch reaches,
/// with its time) to `path`, replacing it whole: the new file is written
/// beside it and renamed over it, so a failed run leaves the old one.
pub fn write(
    path: &Path,
    branch: &str,
    commits: &[(Oid, DateTime<Utc>)],
    now: DateTime<Utc>,
) -> Result<(), CheckpointError> {
    let file = CheckpointFile {
        version: CHECKPOINT_VERSION,
        branch: branch.to_owned(),
        written: format_timestamp(&now),
        commits: commits
            .iter()
            .map(|(id, time)| Entry {
                commit: id.to_string(),
                time: format_timestamp(time),
            })
            .collect(),
    };
    let write_error = |source| CheckpointError::Write {
        path: path.to_path_buf(),
        source,
    };
    let text = serde_json::to_string_pretty(&file)
        .map_err(|error| write_error(io::Error::other(error)))?;
    let mut staging = path.as_os_str().to_owned();
    staging.push(format!(".{}.tmp", std::process::id()));
    let staging = PathBuf::from(staging);
    fs::write(&staging, format!("{text}\n")).map_err(write_error)?;
    fs::rename(&staging, path).map_err(|error| {
        let _ = fs::remove_file(&staging);
        write_error(error)
    })
}
