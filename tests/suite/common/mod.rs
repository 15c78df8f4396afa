//! Fixture repositories for the CLI tests: each test writes the files of
//! its scenario into a temporary directory and runs the real `lapse`
//! binary against it, at a fixed `--now` so that results never depend on
//! the day the suite runs.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;
use tempfile::TempDir;

/// The instant every test judges at.
pub const NOW: &str = "2026-11-23T12:00:00Z";

/// A clean policy: no finding of any rule. Roles come last so that a test
/// can append a role to it with `policy_with_roles`.
pub const POLICY: &str = r#"version: 1
defaults:
  max_duration: 30d
  warn_before: 7d
  require_ticket: false
  min_reason_length: 10
people:
  maria@example.com:
    aliases: [maria@users.noreply.github.com]
    github: maria-gh
    aws: arn:aws:iam::123456789012:role/maria
    gcp: user:maria@example.com
  li@example.com:
    github: li-gh
    aws: arn:aws:iam::123456789012:role/li
    gcp: user:li@example.com
  sam@example.com: {aws: "arn:aws:iam::123456789012:role/sam", gcp: "user:sam@example.com"}
  alex@contractor.example:
    aliases: [alex@users.noreply.github.com]
    contract_ends: 2026-12-31T23:59:59Z
    aws: arn:aws:iam::123456789012:role/contractor-alex
    gcp: user:alex@contractor.example
groups:
  payments-leads: [maria@example.com, li@example.com]
  oncall: [alex@contractor.example, sam@example.com]
roles:
  payments-deployer:
    description: Deploy ECS services of the payments team
    max_duration: 14d
    approvers: [group:payments-leads]
    aws:
      account: "123456789012"
      statements:
        - actions: [ecs:UpdateService, ecs:DescribeServices]
          resources: ["arn:aws:ecs:eu-west-1:123456789012:service/payments/*"]
  payments-reader:
    approvers: [maria@example.com]
    gcp:
      project: payments-prod
      role: roles/bigquery.dataViewer
  payments-db-writer:
    approvers: [group:payments-leads, sam@example.com]
    min_approvals: 2
    aws:
      account: "123456789012"
      statements:
        - actions: [dynamodb:PutItem, dynamodb:GetItem]
          resources: ["arn:aws:dynamodb:eu-west-1:123456789012:table/payments"]
"#;

/// A clean grant of `payments-deployer`: exactly the role's 14 days.
pub const GRANT: &str = "subject: alex@contractor.example
role: payments-deployer
reason: Deploy the payments service for sprint 42
ticket: PAY-123
approvers: [maria@example.com]
starts: 2026-11-22T09:00:00Z
expires: 2026-12-06T09:00:00Z
";

/// `POLICY` with more roles appended to its `roles:` map. `roles` is YAML
/// indented by two spaces, as under `roles:`.
pub fn policy_with_roles(roles: &str) -> String {
    format!("{POLICY}{roles}")
}

/// Line of the first role appended by `policy_with_roles`.
pub fn first_appended_line() -> u32 {
    u32::try_from(POLICY.lines().count()).expect("small policy") + 1
}

/// A grants repository in a temporary directory, removed when dropped.
pub struct Repo {
    dir: TempDir,
}

impl Repo {
    /// A repository with the given (relative path, text) files.
    pub fn new(files: &[(&str, &str)]) -> Self {
        let repo = Self {
            dir: tempfile::tempdir().expect("temporary directory"),
        };
        for (path, text) in files {
            repo.write(path, text.as_bytes());
        }
        repo
    }

    /// A repository with `policy` as its lapse.yaml and no grants.
    pub fn with_policy(policy: &str) -> Self {
        Self::new(&[("lapse.yaml", policy)])
    }

    /// The clean policy plus the given grant files.
    pub fn with_grants(grants: &[(&str, &str)]) -> Self {
        let repo = Self::new(grants);
        repo.write("lapse.yaml", POLICY.as_bytes());
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Where `relative` is in the repository.
    pub fn file(&self, relative: &str) -> PathBuf {
        self.path().join(relative)
    }

    pub fn write(&self, relative: &str, bytes: impl AsRef<[u8]>) {
        let path = self.file(relative);
        std::fs::create_dir_all(path.parent().expect("a file has a parent"))
            .expect("create fixture directories");
        std::fs::write(&path, bytes).expect("write fixture file");
    }

    /// Runs git in the repository (see `git_in`).
    pub fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args, &[])
    }

    /// Runs a committing git command (`commit`, `merge`) as `author` at
    /// `when`, committer and author alike.
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

    /// Commits every change in the work tree as `author` at `when`.
    pub fn commit(&self, author: &str, when: &str, message: &str) {
        self.git(&["add", "-A"]);
        self.git_as(
            author,
            when,
            &["commit", "-q", "--allow-empty", "-m", message],
        );
    }

    /// `lapse --repo <this> --now <now>` plus `args`.
    pub fn lapse_at(&self, now: &str, args: &[&str]) -> Run {
        run_in(self.path(), now, args, &[])
    }

    /// `lapse check --repo <this> --now NOW` plus `args`.
    pub fn check(&self, args: &[&str]) -> Run {
        self.lapse_at(NOW, &[&["check"], args].concat())
    }

    /// `lapse check --format json`, parsed.
    pub fn check_json(&self) -> Checked {
        let run = self.check(&["--format", "json"]);
        let report: JsonReport = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|error| panic!("not a JSON report ({error}): {run:?}"));
        Checked {
            code: run.code,
            findings: report.diagnostics,
        }
    }
}

/// Runs git in `dir` with `env`, isolated from the machine's git
/// configuration and with a fixed identity (which `GIT_AUTHOR_*` and
/// `GIT_COMMITTER_*` in `env` override); panics with git's output when it
/// fails, else gives its standard output.
pub fn git_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "protocol.file.allow=always",
        ])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .envs(env.iter().copied())
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs the real binary with `args`.
pub fn lapse(args: &[&str]) -> Run {
    lapse_with_env(args, &[])
}

/// `lapse --repo <dir> --now <now>` plus `args`, with the variables `env`.
pub fn run_in(dir: &Path, now: &str, args: &[&str], env: &[(&str, String)]) -> Run {
    let dir = dir.to_str().expect("UTF-8 temp path");
    lapse_with_env(&[&["--repo", dir, "--now", now], args].concat(), env)
}

/// Variables of the forge and chat APIs lapse reads: a run sees only
/// those its test sets, never the CI's own.
const SERVICE_VARIABLES: [&str; 16] = [
    "GITHUB_API_URL",
    "GITHUB_TOKEN",
    "GITHUB_REPOSITORY",
    "CI_API_V4_URL",
    "CI_PROJECT_ID",
    "GITLAB_TOKEN",
    "LAPSE_GITLAB_TOKEN",
    "GITEA_API_URL",
    "GITEA_TOKEN",
    "GITEA_REPOSITORY",
    "GITEA_ACTIONS",
    "LAPSE_FORGE",
    "GITHUB_EVENT_PATH",
    "CI_MERGE_REQUEST_IID",
    "LAPSE_SLACK_WEBHOOK",
    "LAPSE_TEAMS_WEBHOOK",
];

/// Runs the real binary with `args` and the variables `env`, without
/// colour and without the CI's forge variables.
pub fn lapse_with_env(args: &[&str], env: &[(&str, String)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lapse"));
    command
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    for name in SERVICE_VARIABLES {
        command.env_remove(name);
    }
    let output = command
        .envs(env.iter().map(|(name, value)| (name, value)))
        .output()
        .expect("run lapse");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// What a run of the binary printed and how it ended; `code` is `None`
/// when a signal ended it (a stack overflow, for one).
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("{error}: {}\n{}", self.stdout, self.stderr))
    }

    /// `(rule, line)` of every finding in a `--format json` report.
    pub fn findings(&self) -> Vec<(String, u64)> {
        self.each_finding(|d| d["line"].as_u64().unwrap())
    }

    /// `(rule, file)` of every finding in a `--format json` report.
    pub fn rules_and_files(&self) -> Vec<(String, String)> {
        self.each_finding(|d| d["file"].as_str().unwrap().to_owned())
    }

    /// `(rule, what)` of every finding, `what` read by `field`.
    fn each_finding<T>(&self, field: impl Fn(&Value) -> T) -> Vec<(String, T)> {
        self.json()["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .map(|d| (d["rule"].as_str().unwrap().to_owned(), field(d)))
            .collect()
    }

    pub fn rules(&self) -> Vec<String> {
        self.findings().into_iter().map(|(rule, _)| rule).collect()
    }
}

#[derive(Debug, Deserialize)]
pub struct JsonReport {
    pub diagnostics: Vec<Finding>,
    pub errors: usize,
    pub warnings: usize,
}

/// One diagnostic of the JSON output.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Finding {
    pub rule: String,
    pub severity: String,
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
    pub message: String,
    pub help: String,
}

/// A parsed `lapse check --format json` run.
#[derive(Debug)]
pub struct Checked {
    pub code: Option<i32>,
    pub findings: Vec<Finding>,
}

impl Checked {
    pub fn of_rule(&self, rule: &str) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.rule == rule).collect()
    }

    /// Asserts exactly one finding of `rule`, at `file:line:column` with
    /// `severity`, and returns it for further assertions on its text.
    pub fn expect_one(
        &self,
        rule: &str,
        severity: &str,
        file: &str,
        line: u32,
        column: u32,
    ) -> &Finding {
        let found = self.of_rule(rule);
        assert_eq!(
            found.len(),
            1,
            "expected one `{rule}`, got {:#?}",
            self.findings
        );
        let finding = found[0];
        assert_eq!(
            (
                finding.severity.as_str(),
                finding.file.as_path(),
                finding.line,
                finding.column
            ),
            (severity, Path::new(file), line, column),
            "{finding:#?}"
        );
        finding
    }

    /// Asserts a `rule` error at `file:line:column` and exit code 1.
    pub fn expect_error(&self, rule: &str, file: &str, line: u32, column: u32) -> &Finding {
        assert_eq!(self.code, Some(1), "{:#?}", self.findings);
        self.expect_one(rule, "error", file, line, column)
    }

    pub fn expect_none_of(&self, rule: &str) {
        assert!(
            self.of_rule(rule).is_empty(),
            "unexpected `{rule}`: {:#?}",
            self.findings
        );
    }

    pub fn expect_clean(&self) {
        assert!(self.findings.is_empty(), "{:#?}", self.findings);
        assert_eq!(self.code, Some(0));
    }
}

/// A small deterministic generator (xorshift64), so that a failure in a
/// generated case reproduces exactly.
pub struct Xorshift(pub u64);

impl Xorshift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}
