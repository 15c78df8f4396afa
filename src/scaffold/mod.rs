//! What `lapse init` writes into a new grants repository: a policy with one
//! example role, one example grant dated from `--now`, the CI files of the
//! forge chosen (calling this release's reusable workflows), CODEOWNERS
//! from the policy, and the JSON Schemas wired to editors. The CI files are
//! the ones shipped under `examples/` and `ci/gitlab/`, embedded here so
//! that what `init` writes is what the project validates with zizmor,
//! actionlint and check-jsonschema.

pub mod files;

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Timelike, Utc};

use crate::codeowners::{self, Forge};
use crate::load::{parse_grant, parse_policy};
use crate::model::timestamp::format_timestamp;

/// This release: the tag the scaffolded CI files call.
pub const RELEASE_TAG: &str = concat!("v", env!("CARGO_PKG_VERSION"));

/// The release the embedded examples were written for. A test keeps it
/// equal to the crate version, so `init` always pins the running release.
const EXAMPLES_TAG: &str = "v0.1.0";

const GITHUB_CHECK: &str = include_str!("../../examples/github/lapse-check.yml");
const GITHUB_APPLY: &str = include_str!("../../examples/github/lapse-apply.yml");
const GITHUB_PRUNE: &str = include_str!("../../examples/github/lapse-prune.yml");
const TERRAFORM_BACKEND: &str = include_str!("../../examples/terraform/backend.tf");
const GITEA_CHECK: &str = include_str!("../../examples/gitea/lapse-check.yml");
const GITEA_PRUNE: &str = include_str!("../../examples/gitea/lapse-prune.yml");
const GITLAB_CI: &str = include_str!("../../examples/gitlab/.gitlab-ci.yml");

/// How long the example grant lasts (the example role allows 14 days).
const EXAMPLE_GRANT_DAYS: i64 = 7;

/// The files of a new grants repository, relative to its root.
pub fn files(
    forge: Forge,
    now: DateTime<Utc>,
    grant_schema: &str,
    policy_schema: &str,
) -> Vec<(PathBuf, String)> {
    let policy = policy_text(forge);
    let grant_path = PathBuf::from("grants/example/alex-example-reader.yaml");
    let grant = grant_text(now);
    let mut files = vec![
        (PathBuf::from("lapse.yaml"), policy.clone()),
        (grant_path.clone(), grant.clone()),
        (
            PathBuf::from(".lapse/grant.schema.json"),
            grant_schema.to_owned(),
        ),
        (
            PathBuf::from(".lapse/policy.schema.json"),
            policy_schema.to_owned(),
        ),
        (
            PathBuf::from(".vscode/settings.json"),
            VSCODE_SETTINGS.to_owned(),
        ),
    ];
    files.extend(
        ci_files(forge)
            .into_iter()
            .map(|(path, text)| (PathBuf::from(path), pinned(text))),
    );
    files.push((
        PathBuf::from(forge.default_path()),
        codeowners_text(&policy, &grant_path, &grant, forge),
    ));
    files
}

fn ci_files(forge: Forge) -> Vec<(&'static str, &'static str)> {
    match forge {
        Forge::Github => vec![
            (".github/workflows/lapse-check.yml", GITHUB_CHECK),
            (".github/workflows/lapse-apply.yml", GITHUB_APPLY),
            (".github/workflows/lapse-prune.yml", GITHUB_PRUNE),
            ("terraform/backend.tf", TERRAFORM_BACKEND),
        ],
        Forge::Gitlab => vec![(".gitlab-ci.yml", GITLAB_CI)],
        Forge::Gitea => vec![
            (".gitea/workflows/lapse-check.yml", GITEA_CHECK),
            (".gitea/workflows/lapse-prune.yml", GITEA_PRUNE),
        ],
    }
}

/// The examples name the release they were written for; a scaffold names
/// the running one.
fn pinned(text: &str) -> String {
    text.replace(EXAMPLES_TAG, RELEASE_TAG)
}

/// The example policy: two people, one approver group, one read-only AWS
/// role, owners for policy changes, and the modules of this release.
fn policy_text(forge: Forge) -> String {
    let handle = forge.name();
    format!(
        "# yaml-language-server: $schema=.lapse/policy.schema.json
# The lapse policy: who may hold and approve which access, for how long.
# Replace the example people, group and role with your own.
version: 1
defaults:
  max_duration: 30d
  warn_before: 7d
  require_ticket: false
  min_reason_length: 10
# Who approves changes to this file, templates/ and modules/.
owners: [group:platform]
people:
  alex@example.com:
    {handle}: alex-example
    aws: arn:aws:iam::123456789012:role/alex
  maria@example.com:
    {handle}: maria-example
    aws: arn:aws:iam::123456789012:role/maria
groups:
  platform: [maria@example.com]
roles:
  example-reader:
    description: Read the objects of the example bucket
    max_duration: 14d
    approvers: [group:platform]
    min_approvals: 1
    aws:
      account: \"123456789012\"
      statements:
        - actions: [s3:GetObject, s3:ListBucket]
          resources: [\"arn:aws:s3:::example-bucket\", \"arn:aws:s3:::example-bucket/*\"]
render:
  module_source: git::https://github.com/lapse-grants/lapse.git//modules?ref={RELEASE_TAG}
"
    )
}

fn grant_text(now: DateTime<Utc>) -> String {
    let starts = now.with_nanosecond(0).unwrap_or(now);
    let expires = starts + TimeDelta::days(EXAMPLE_GRANT_DAYS);
    format!(
        "# yaml-language-server: $schema=../../.lapse/grant.schema.json
subject: alex@example.com
role: example-reader
reason: Example grant made by lapse init; replace or remove it
approvers: [maria@example.com]
starts: {}
expires: {}
",
        format_timestamp(&starts),
        format_timestamp(&expires)
    )
}

/// CODEOWNERS for the scaffolded policy and grant, as `lapse codeowners`
/// would write it once they are on disk.
fn codeowners_text(policy: &str, grant_path: &Path, grant: &str, forge: Forge) -> String {
    let policy = parse_policy(Path::new("lapse.yaml"), policy);
    let grant = parse_grant(grant_path, grant);
    match (policy, grant) {
        (Ok(policy), Ok(grant)) => codeowners::render(&policy, &[grant], forge),
        // The texts above are fixed; a test parses them.
        _ => String::new(),
    }
}

/// Visual Studio Code (with the YAML extension, which runs
/// yaml-language-server) validates and completes both files.
const VSCODE_SETTINGS: &str = r#"{
  "yaml.schemas": {
    ".lapse/grant.schema.json": "grants/**/*.yaml",
    ".lapse/policy.schema.json": "lapse.yaml"
  }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_examples_are_those_of_the_running_release() {
        assert_eq!(
            EXAMPLES_TAG, RELEASE_TAG,
            "bump the examples' tag with the version"
        );
    }

    #[test]
    fn the_example_policy_and_grant_parse() {
        for forge in [Forge::Github, Forge::Gitlab, Forge::Gitea] {
            assert!(parse_policy(Path::new("lapse.yaml"), &policy_text(forge)).is_ok());
        }
        let now = DateTime::parse_from_rfc3339("2026-11-23T12:00:00.5Z")
            .unwrap()
            .to_utc();
        let grant = grant_text(now);
        assert!(grant.contains("starts: 2026-11-23T12:00:00Z\n"), "{grant}");
        assert!(grant.contains("expires: 2026-11-30T12:00:00Z\n"), "{grant}");
        assert!(parse_grant(Path::new("grants/example/alex-example-reader.yaml"), &grant).is_ok());
    }
}
