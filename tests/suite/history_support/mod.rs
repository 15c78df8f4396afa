//! A grants repository built commit by commit with the git CLI, with
//! authors, co-authors and dates set explicitly, and the real `lapse`
//! binary run against it.
// Shared by several test crates, each of which uses only part of it.
#![allow(dead_code)]

use std::path::Path;

use tempfile::TempDir;

pub use crate::common::{Run, git_in};

pub const POLICY: &str = "version: 1
people:
  alex@example.com: {github: alex-gh}
  maria@example.com:
    aliases: [maria@users.noreply.github.com]
    github: maria-gh
  li@example.com: {}
  sam@example.com: {github: sam-gh}
groups:
  leads: [maria@example.com, li@example.com]
roles:
  deployer:
    max_duration: 14d
    approvers: [group:leads]
    github: {repository: acme/app, permission: push}
";

/// The instant every check is judged at, a few days after the commits.
pub const NOW: &str = "2026-11-10T12:00:00Z";

/// A grant of `deployer` to alex, expiring on `expires`, approved by `approvers`.
pub fn grant(expires: &str, approvers: &[&str]) -> String {
    format!(
        "subject: alex@example.com\nrole: deployer\nreason: Deploy the app for the sprint\napprovers: [{}]\nexpires: {expires}\n",
        approvers.join(", ")
    )
}

pub struct Repo {
    dir: TempDir,
}

impl Repo {
    /// A repository whose first commit (by sam, on 2026-11-01) holds the policy.
    pub fn new() -> Self {
        let repo = Self {
            dir: TempDir::new().expect("temporary directory"),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.write("lapse.yaml", POLICY);
        repo.commit("sam@example.com", "2026-11-01T09:00:00Z", "Add the policy");
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, path: &str, text: &str) {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    /// Runs git in the repository with a neutral configuration.
    pub fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args, &[])
    }

    /// Commits every change in the work tree as `author` at `when`.
    pub fn commit(&self, author: &str, when: &str, message: &str) {
        self.git(&["add", "-A"]);
        self.git_as(
            author,
            when,
            &["commit", "-q", "--allow-empty", "-m", message],
        );
    }

    /// Runs a committing git command (`commit`, `merge`) as `author` at `when`.
    pub fn git_as(&self, author: &str, when: &str, args: &[&str]) -> String {
        let name = author.split('@').next().unwrap();
        git_in(
            self.path(),
            args,
            &[
                ("GIT_AUTHOR_NAME", name),
                ("GIT_AUTHOR_EMAIL", author),
                ("GIT_AUTHOR_DATE", when),
                ("GIT_COMMITTER_NAME", name),
                ("GIT_COMMITTER_EMAIL", author),
                ("GIT_COMMITTER_DATE", when),
            ],
        )
    }

    pub fn lapse(&self, args: &[&str]) -> Run {
        lapse_in(self.path(), args)
    }
}

/// `lapse --repo <dir> --now NOW` plus `args`.
pub fn lapse_in(dir: &Path, args: &[&str]) -> Run {
    crate::common::run_in(dir, NOW, args, &[])
}
