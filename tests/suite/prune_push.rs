//! `lapse prune --push`: the branch reaches a real (bare) remote through
//! the git CLI, reruns are no-ops, and refusals are one-line errors that a
//! rerun repairs.

use crate::common::{self, Run};
use crate::prune_support;

use prune_support::{Fixture, LATER, NOW, git};

fn prune(fixture: &Fixture, now: &str) -> Run {
    fixture.lapse(&["prune", "--now", now, "--push", "origin"], &[])
}

#[test]
fn pushes_the_prune_branch_and_leaves_main_alone() {
    let fixture = Fixture::new();
    let main_before = fixture.origin_rev("main");
    let output = prune(&fixture, NOW);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(
        fixture.origin_rev("lapse/prune"),
        Some(fixture.rev("lapse/prune"))
    );
    assert_eq!(fixture.origin_rev("main"), main_before);
    assert!(
        !fixture
            .origin_files_at("lapse/prune")
            .contains(&"grants/payments/old-deploy.yaml".to_owned())
    );
    assert!(output.stdout.contains("Pushed lapse/prune to origin."));
}

#[test]
fn a_fresh_clone_rerun_reuses_the_pushed_commit() {
    let fixture = Fixture::new();
    assert_eq!(prune(&fixture, NOW).code, Some(0));
    let pushed = fixture.origin_rev("lapse/prune");

    // A scheduled job the next day starts from a fresh clone of main alone
    // (as GitLab CI and a shallow actions/checkout do).
    let clone = fixture.work.parent().unwrap().join("clone");
    let origin = format!("file://{}", fixture.origin.display());
    git(
        fixture.work.parent().unwrap(),
        &[
            "clone",
            "-q",
            "--single-branch",
            "--branch",
            "main",
            &origin,
            "clone",
        ],
    );
    // Another identity: a new commit could never have the pushed commit's id.
    git(&clone, &["config", "user.name", "Scheduled Job"]);
    git(&clone, &["config", "user.email", "job@example.com"]);
    let clone = clone.to_str().expect("UTF-8 temp path");
    let output = common::lapse(&["--repo", clone, "prune", "--now", NOW, "--push", "origin"]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(fixture.origin_rev("lapse/prune"), pushed);
}

#[test]
fn new_expiries_force_update_the_same_branch() {
    let fixture = Fixture::new();
    assert_eq!(prune(&fixture, NOW).code, Some(0));
    let first = fixture.origin_rev("lapse/prune").unwrap();

    // main moves on, and by LATER one more grant has expired.
    fixture.commit_on_main("README.md", "grants live here\n");
    let output = prune(&fixture, LATER);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let second = fixture.origin_rev("lapse/prune").unwrap();
    assert_ne!(first, second);
    assert_eq!(
        fixture.origin_rev("lapse/prune^"),
        fixture.origin_rev("main")
    );
    assert!(
        !fixture
            .origin_files_at("lapse/prune")
            .contains(&"grants/payments/current-deploy.yaml".to_owned())
    );
}

#[test]
fn a_rejected_push_is_one_line_exit_2_and_a_rerun_repairs_it() {
    let fixture = Fixture::new();
    let hook = fixture.origin.join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'branch is protected' >&2\nexit 1\n").unwrap();
    make_executable(&hook);

    let output = prune(&fixture, NOW);
    assert_eq!(output.code, Some(2));
    let error = output.stderr;
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(
        error.starts_with("error: pushing lapse/prune to `origin` was refused: "),
        "{error}"
    );
    assert!(error.contains("pre-receive hook declined"), "{error}");
    assert_eq!(fixture.origin_rev("lapse/prune"), None);

    std::fs::remove_file(&hook).unwrap();
    let output = prune(&fixture, NOW);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(
        fixture.origin_rev("lapse/prune"),
        Some(fixture.rev("lapse/prune"))
    );
}

#[test]
fn an_unknown_remote_names_the_fix() {
    let fixture = Fixture::new();
    let output = fixture.lapse(&["prune", "--now", NOW, "--push", "upstream"], &[]);
    assert_eq!(output.code, Some(2));
    assert_eq!(
        output.stderr.trim(),
        "error: there is no remote named `upstream`: add it with `git remote add upstream URL`, or pass --push the name of an existing remote"
    );
    assert!(git(&fixture.work, &["branch", "--list", "lapse/prune"]).is_empty());
}

#[test]
fn an_unreachable_remote_names_the_fix() {
    let fixture = Fixture::new();
    git(
        &fixture.work,
        &["remote", "add", "gone", "/nonexistent/grants.git"],
    );
    let output = fixture.lapse(
        &["prune", "--now", NOW, "--push", "gone", "--base", "main"],
        &[],
    );
    assert_eq!(output.code, Some(2));
    let error = output.stderr;
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(
        error.starts_with("error: cannot read the remote `gone`: "),
        "{error}"
    );
    assert!(error.contains("git remote -v"), "{error}");
    assert!(git(&fixture.work, &["branch", "--list", "lapse/prune"]).is_empty());
}

#[test]
fn nothing_expired_pushes_nothing() {
    let fixture = Fixture::new();
    let output = prune(&fixture, "2026-11-01T00:00:00Z");
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(fixture.origin_rev("lapse/prune"), None);
}

#[test]
fn dry_run_pushes_nothing() {
    let fixture = Fixture::new();
    let output = fixture.lapse(
        &["prune", "--now", NOW, "--push", "origin", "--dry-run"],
        &[],
    );
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(fixture.origin_rev("lapse/prune"), None);
}

fn make_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}
