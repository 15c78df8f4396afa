//! A grants repository made by a test in a temporary directory, and the
//! real `lapse` binary run against it.

#![allow(dead_code, reason = "each test crate uses the part it needs")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The instant every test judges at, so results never depend on the clock.
pub const NOW: &str = "2026-11-22T09:00:00Z";

/// Two people, one approver, and one role per kind of limit the tests need.
pub const POLICY: &str = "\
version: 1
defaults:
  max_duration: 30d
people:
  alex@contractor.example:
    aliases: [alex@users.noreply.github.com]
    github: alex-gh
    gcp: user:alex@contractor.example
  maria@example.com:
    github: maria-gh
    gcp: user:maria@example.com
roles:
  payments-deployer:
    description: Deploy the payments service
    max_duration: 14d
    approvers: [maria@example.com]
    github:
      repository: example/payments
      permission: push
  data-reader:
    gcp:
      project: analytics
      role: roles/bigquery.dataViewer
    approvers: [maria@example.com]
";

pub struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    /// A repository with `POLICY` and no grants.
    pub fn new() -> Self {
        let repo = Self {
            dir: tempfile::tempdir().expect("temporary directory"),
        };
        repo.write("lapse.yaml", POLICY);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn write(&self, relative: &str, text: &str) {
        let path = self.file(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create directories");
        }
        std::fs::write(path, text).expect("write fixture file");
    }

    /// Runs `lapse --repo <this> --now NOW <args>`.
    pub fn lapse<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        Command::new(env!("CARGO_BIN_EXE_lapse"))
            .arg("--repo")
            .arg(self.path())
            .args(["--now", NOW])
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .expect("run lapse")
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
