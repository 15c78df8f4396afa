//! Fixtures shared by the prune tests: a grants repository with a bare
//! `origin` next to it, the real binary, and a fake forge on 127.0.0.1.

#![allow(dead_code)] // each test crate uses a different part of the kit

pub mod forge;
pub mod git_http;

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::common::{Run, lapse_with_env};

pub const NOW: &str = "2026-12-10T12:00:00Z";
/// After this, `current-deploy` has expired too.
pub const LATER: &str = "2026-12-21T00:00:00Z";

pub const POLICY: &str = "\
version: 1
defaults:
  warn_before: 7d
people:
  alex@example.com: {github: alex-gh}
  sam@example.com: {github: sam-gh}
  maria@example.com: {github: maria-gh}
roles:
  deployer:
    description: Push to the payments repository
    approvers: [maria@example.com]
    github:
      repository: octo/payments
      permission: push
";

fn grant(subject: &str, expires: Option<&str>) -> String {
    let mut text = format!(
        "subject: {subject}\nrole: deployer\nreason: Deploy the payments service\napprovers: [maria@example.com]\n"
    );
    if let Some(expires) = expires {
        text.push_str(&format!("expires: {expires}\n"));
    }
    text
}

/// The grants every fixture starts with, by path.
pub fn initial_grants() -> Vec<(&'static str, String)> {
    vec![
        (
            "grants/payments/old-deploy.yaml",
            grant("alex@example.com", Some("2026-12-01T00:00:00Z")),
        ),
        (
            "grants/contractors/sam-read.yaml",
            grant("sam@example.com", Some("2026-12-09T00:00:00+01:00")),
        ),
        (
            "grants/payments/current-deploy.yaml",
            grant("alex@example.com", Some("2026-12-20T00:00:00Z")),
        ),
        (
            "grants/payments/no-expiry.yaml",
            grant("alex@example.com", None),
        ),
        (
            "grants/payments/bad-expiry.yaml",
            grant("alex@example.com", Some("2026-12-01")),
        ),
        (
            "grants/payments/broken.yaml",
            "subject: [unclosed\n".to_owned(),
        ),
    ]
}

/// A clone of a bare `origin` whose `main` holds the policy and grants.
pub struct Fixture {
    _dir: TempDir,
    pub work: PathBuf,
    pub origin: PathBuf,
}

impl Fixture {
    pub fn new() -> Self {
        Self::with_files(&[])
    }

    /// The initial grants plus `extra` files, committed and pushed.
    pub fn with_files(extra: &[(&str, &str)]) -> Self {
        let mut files: Vec<(&str, String)> = vec![("lapse.yaml", POLICY.to_owned())];
        files.extend(initial_grants());
        files.extend(extra.iter().map(|(path, text)| (*path, (*text).to_owned())));
        Self::of(&files)
    }

    /// Exactly these files, committed on `main` and pushed.
    pub fn of(files: &[(&str, String)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let origin = dir.path().join("origin.git");
        let work = dir.path().join("work");
        git(
            dir.path(),
            &["init", "-q", "--bare", "-b", "main", "origin.git"],
        );
        git(dir.path(), &["init", "-q", "-b", "main", "work"]);
        for (path, text) in files {
            write(&work, path, text);
        }
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", "Grants"]);
        git(
            &work,
            &["remote", "add", "origin", origin.to_str().unwrap()],
        );
        git(&work, &["push", "-q", "-u", "origin", "main"]);
        git(&work, &["remote", "set-head", "origin", "main"]);
        Self {
            _dir: dir,
            work,
            origin,
        }
    }

    /// Runs `lapse --repo work ARGS` with no forge variables but `env`.
    pub fn lapse(&self, args: &[&str], env: &[(&str, String)]) -> Run {
        let work = self.work.to_str().expect("UTF-8 temp path");
        lapse_with_env(&[&["--repo", work], args].concat(), env)
    }

    /// Files of `rev` in the work repository, sorted.
    pub fn files_at(&self, rev: &str) -> Vec<String> {
        lines(&git(&self.work, &["ls-tree", "-r", "--name-only", rev]))
    }

    /// Files of `rev` in the bare origin, sorted.
    pub fn origin_files_at(&self, rev: &str) -> Vec<String> {
        lines(&git(&self.origin, &["ls-tree", "-r", "--name-only", rev]))
    }

    pub fn rev(&self, rev: &str) -> String {
        git(&self.work, &["rev-parse", rev]).trim().to_owned()
    }

    pub fn origin_rev(&self, rev: &str) -> Option<String> {
        let output = Command::new("git")
            .arg("-C")
            .arg(&self.origin)
            .args(["rev-parse", "--verify", "--quiet", rev])
            .output()
            .unwrap();
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Commits a change on `main` and pushes it, as a merged pull request would.
    pub fn commit_on_main(&self, path: &str, text: &str) {
        write(&self.work, path, text);
        git(&self.work, &["add", "-A"]);
        git(&self.work, &["commit", "-q", "-m", "Change"]);
        git(&self.work, &["push", "-q", "origin", "main"]);
    }
}

pub fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Runs git in `dir` (see `common::git_in`).
pub fn git(dir: &Path, args: &[&str]) -> String {
    crate::common::git_in(dir, args, &[])
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

/// The value of a request header, by name in any case.
pub fn header(request: &tiny_http::Request, name: &'static str) -> Option<String> {
    request
        .headers()
        .iter()
        .find(|h| h.field.equiv(name))
        .map(|h| h.value.to_string())
}
