//! Prune reads the grants tree where `lapse check` reads it: a grants
//! repository in a subdirectory of a git repository (a monorepo) is
//! pruned there, with its own `lapse.yaml`, `templates/` and `generated/`,
//! and one entry it cannot read never stops the run for the others.

use std::path::Path;

use crate::common::{self, Run};
use crate::prune_support::{git, write};

const NOW: &str = "2026-12-10T12:00:00Z";
const SUB: &str = "infra/access";

const POLICY: &str = "\
version: 1
people:
  alex@example.com: {github: alex-gh}
  maria@example.com: {github: maria-gh}
  sam@example.com: {github: sam-gh}
roles:
  deployer:
    approvers: [maria@example.com]
    github:
      repository: octo/payments
      permission: push
";

/// A `versions` template override, so a render with the built-in templates
/// (the wrong `templates/`) differs from the committed `generated/`.
const VERSIONS_TEMPLATE: &str = "terraform {\n  required_version = \">= 1.7.0\"\n}\n";

fn grant(expires: &str) -> String {
    format!(
        "subject: alex@example.com\nrole: deployer\nreason: Deploy the payments service\napprovers: [maria@example.com]\nexpires: {expires}\n"
    )
}

fn lapse(repo: &Path, args: &[&str]) -> Run {
    lapse_at(NOW, repo, args)
}

fn lapse_at(now: &str, repo: &Path, args: &[&str]) -> Run {
    common::run_in(repo, now, args, &[])
}

fn files_at(repo: &Path, rev: &str) -> Vec<String> {
    git(repo, &["ls-tree", "-r", "--name-only", rev])
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A monorepo whose grants repository is `infra/access`, with a committed
/// `generated/` rendered through its own template, and a stray `grants/`
/// at the top of the work tree that is not a grants repository's.
/// The repository is `mono/` in the returned directory.
fn monorepo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().join("mono");
    std::fs::create_dir(&top).unwrap();
    let top = top.as_path();
    git(top, &["init", "-q", "-b", "main"]);
    write(top, "grants/stray-old.yaml", &grant("2026-12-01T00:00:00Z"));
    write(top, "README.md", "A monorepo\n");
    let sub = top.join(SUB);
    write(&sub, "lapse.yaml", POLICY);
    write(&sub, "templates/versions.tf.j2", VERSIONS_TEMPLATE);
    write(
        &sub,
        "grants/team/old-deploy.yaml",
        &grant("2026-12-01T00:00:00Z"),
    );
    write(
        &sub,
        "grants/team/current-deploy.yaml",
        &grant("2026-12-20T00:00:00Z").replace("alex@", "sam@"),
    );
    git(top, &["add", "-A"]);
    git(top, &["commit", "-q", "-m", "Grants"]);
    // Rendered while both grants were active, as the merge pipeline did.
    let render = lapse_at("2026-11-25T00:00:00Z", &sub, &["render"]);
    assert_eq!(render.code, Some(0), "{}", render.stderr);
    git(top, &["add", "-A"]);
    git(top, &["commit", "-q", "-m", "Render"]);
    dir
}

#[test]
fn prune_removes_what_check_calls_expired_in_a_grants_repository_below_the_top() {
    let dir = monorepo();
    let top = &dir.path().join("mono");
    let sub = top.join(SUB);

    let check = lapse(&sub, &["check", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    let expired: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "expired")
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert_eq!(expired, ["grants/team/old-deploy.yaml"]);

    let output = lapse(&sub, &["prune"]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert!(
        output.stdout.contains("Removing 1 expired grant"),
        "{}",
        output.stdout
    );
    let before = files_at(top, "main");
    let after = files_at(top, "lapse/prune");
    let gone: Vec<&String> = before.iter().filter(|f| !after.contains(f)).collect();
    assert_eq!(
        gone,
        [
            "infra/access/generated/old-deploy.tf",
            "infra/access/grants/team/old-deploy.yaml"
        ]
    );
    // Nothing outside the grants repository is touched or added.
    assert!(
        after.contains(&"grants/stray-old.yaml".to_owned()),
        "{after:?}"
    );
    assert!(
        after.iter().all(|f| !f.starts_with("generated/")),
        "{after:?}"
    );
    // The commit message names the grant as check does.
    let message = git(top, &["log", "-1", "--format=%B", "lapse/prune"]);
    assert!(message.contains("old-deploy"), "{message}");

    // The refreshed generated/ is what render writes on the branch, with
    // the grants repository's own policy and templates: no drift.
    let checkout = dir.path().join("prune-checkout");
    git(
        top,
        &[
            "worktree",
            "add",
            "-q",
            checkout.to_str().unwrap(),
            "lapse/prune",
        ],
    );
    let drift = lapse(&checkout.join(SUB), &["render", "--check"]);
    assert_eq!(drift.code, Some(0), "{}", drift.stdout);
}

#[test]
fn a_grants_repository_missing_from_the_base_commit_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path();
    git(top, &["init", "-q", "-b", "main"]);
    write(top, "README.md", "A monorepo\n");
    git(top, &["add", "-A"]);
    git(top, &["commit", "-q", "-m", "Start"]);
    let sub = top.join(SUB);
    write(&sub, "lapse.yaml", POLICY);
    write(&sub, "grants/old.yaml", &grant("2026-12-01T00:00:00Z"));

    let output = lapse(&sub, &["prune"]);
    assert_eq!(output.code, Some(2));
    let error = output.stderr;
    assert!(error.contains("has no directory infra/access"), "{error}");
    assert_eq!(error.lines().count(), 1, "{error}");
}

/// A tree holding `grants/<name>/old.yaml` and an ordinary expired grant,
/// committed on `main` with git's plumbing: `name` is raw bytes.
#[cfg(unix)]
fn repository_with_a_directory_named(name: &[u8]) -> tempfile::TempDir {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    let dir = tempfile::tempdir().unwrap();
    let top = dir.path();
    git(top, &["init", "-q", "-b", "main"]);
    write(top, "lapse.yaml", POLICY);
    write(
        top,
        "grants/team/old-deploy.yaml",
        &grant("2026-12-01T00:00:00Z"),
    );
    write(
        top,
        "grants/team/current-deploy.yaml",
        &grant("2026-12-20T00:00:00Z"),
    );
    let odd = top.join("grants").join(OsStr::from_bytes(name));
    std::fs::create_dir_all(&odd).unwrap();
    std::fs::write(odd.join("odd-old.yaml"), grant("2026-12-01T00:00:00Z")).unwrap();
    git(top, &["add", "-A"]);
    git(top, &["commit", "-q", "-m", "Grants"]);
    dir
}

#[cfg(unix)]
#[test]
fn a_directory_name_that_is_not_utf8_is_left_alone_with_a_warning() {
    let dir = repository_with_a_directory_named(b"caf\xe9");
    let top = dir.path();
    let output = lapse(top, &["prune"]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let warning = output.stderr;
    assert!(warning.contains("warning: grants/caf\u{fffd}"), "{warning}");
    assert!(warning.contains("lapse check"), "{warning}");
    let gone: Vec<String> = files_at(top, "main")
        .into_iter()
        .filter(|f| !files_at(top, "lapse/prune").contains(f))
        .collect();
    assert_eq!(gone, ["grants/team/old-deploy.yaml"]);
}
