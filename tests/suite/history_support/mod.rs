//! A grants repository built commit by commit with the git CLI, with
//! authors, co-authors and dates set explicitly, and the real `lapse`
//! binary run against it.
// Shared by several test crates, each of which uses only part of it.
#![allow(dead_code)]

use std::path::Path;

use crate::common;
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

/// The history scenario's repository: a common `Repo` made a git
/// repository whose first commit holds `POLICY`, run at `NOW`.
pub struct Repo(common::Repo);

impl Repo {
    /// A repository whose first commit (by sam, on 2026-11-01) holds the policy.
    pub fn new() -> Self {
        let repo = common::Repo::new(&[]);
        repo.git(&["init", "-q", "-b", "main"]);
        repo.write("lapse.yaml", POLICY);
        repo.commit("sam@example.com", "2026-11-01T09:00:00Z", "Add the policy");
        Self(repo)
    }

    pub fn lapse(&self, args: &[&str]) -> Run {
        self.lapse_at(NOW, args)
    }
}

impl std::ops::Deref for Repo {
    type Target = common::Repo;

    fn deref(&self) -> &common::Repo {
        &self.0
    }
}

/// `lapse --repo <dir> --now NOW` plus `args`.
pub fn lapse_in(dir: &Path, args: &[&str]) -> Run {
    crate::common::run_in(dir, NOW, args, &[])
}
