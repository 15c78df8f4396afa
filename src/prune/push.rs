//! Pushing the prune branch with the git CLI rather than libgit2:
//! actions/checkout leaves its token in git config as
//! `http.https://github.com/.extraheader` (see actions/checkout's
//! `persist-credentials`), which only the git CLI honours. The CLI also
//! takes a token written into an https remote URL, credential helpers and
//! SSH agents, so every way a CI authenticates git works unchanged.

use std::path::Path;
use std::process::{Command, Output};

use git2::Oid;

use super::PruneError;
use crate::uri::redact_credentials;

/// Fails early, with the fix, when `remote` is neither a configured remote
/// nor a URL or path that git can push to directly.
pub fn ensure_remote(repo: &git2::Repository, remote: &str) -> Result<(), PruneError> {
    let direct = remote.contains(':') || remote.contains('/');
    if direct || repo.find_remote(remote).is_ok() {
        Ok(())
    } else {
        Err(PruneError::NoSuchRemote(redact_credentials(remote)))
    }
}

/// The commit the remote's `refs/heads/<branch>` points at, if it exists.
pub fn remote_tip(repo_dir: &Path, remote: &str, branch: &str) -> Result<Option<Oid>, PruneError> {
    let output = git(
        repo_dir,
        &[
            "ls-remote",
            "--heads",
            "--",
            remote,
            &format!("refs/heads/{branch}"),
        ],
    )?;
    if !output.status.success() {
        return Err(PruneError::RemoteUnreachable {
            remote: redact_credentials(remote),
            reason: reason(&output.stderr),
        });
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let tip = stdout
        .lines()
        .find_map(|line| line.split_whitespace().next())
        .and_then(|hex| Oid::from_str(hex).ok());
    Ok(tip)
}

/// Brings the remote's `branch` into the object database (FETCH_HEAD
/// only: no branch, no remote-tracking ref, no working tree changes), so
/// the commit of an earlier run can be recognised and reused.
pub fn fetch_branch(repo_dir: &Path, remote: &str, branch: &str) -> Result<(), PruneError> {
    let output = git(
        repo_dir,
        &[
            "fetch",
            "--quiet",
            "--no-tags",
            "--",
            remote,
            &format!("refs/heads/{branch}"),
        ],
    )?;
    if output.status.success() {
        Ok(())
    } else {
        Err(PruneError::RemoteUnreachable {
            remote: redact_credentials(remote),
            reason: reason(&output.stderr),
        })
    }
}

/// Force-pushes `branch`, but only over the tip read just before
/// (`expected`, or "must not exist"): two prune jobs racing cannot silently
/// overwrite each other, and a rerun reads the new tip and repairs.
pub fn push_branch(
    repo_dir: &Path,
    remote: &str,
    branch: &str,
    expected: Option<Oid>,
) -> Result<(), PruneError> {
    let refname = format!("refs/heads/{branch}");
    let lease = format!(
        "--force-with-lease={refname}:{}",
        expected.map(|oid| oid.to_string()).unwrap_or_default()
    );
    let refspec = format!("{refname}:{refname}");
    let output = git(
        repo_dir,
        &["push", "--porcelain", &lease, "--", remote, &refspec],
    )?;
    if output.status.success() {
        Ok(())
    } else {
        Err(PruneError::PushRejected {
            remote: redact_credentials(remote),
            branch: branch.to_owned(),
            reason: rejection(&output.stdout).unwrap_or_else(|| reason(&output.stderr)),
        })
    }
}

fn git(repo_dir: &Path, args: &[&str]) -> Result<Output, PruneError> {
    Command::new("git")
        .arg("-C")
        .arg(repo_dir)
        .args(args)
        // A CI job has no one to type a password: fail instead of waiting.
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|error| PruneError::GitMissing(error.to_string()))
}

/// Why the remote refused the ref, from `--porcelain` output: a line
/// `!<TAB>src:dst<TAB>[rejected] (reason)`.
fn rejection(stdout: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stdout);
    let line = text.lines().find(|line| line.starts_with('!'))?;
    line.splitn(3, '\t').nth(2).map(redact_credentials)
}

/// The line of git's complaint that names the problem (the first `fatal:`
/// or `error:`, else the last line), with credentials in URLs hidden: with
/// a token in the remote URL, git may echo the URL.
fn reason(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    let line = lines
        .clone()
        .find(|line| line.starts_with("fatal:") || line.starts_with("error:"))
        .or_else(|| lines.next_back())
        .unwrap_or("git gave no reason");
    redact_credentials(line)
}
