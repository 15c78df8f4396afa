//! `lapse prune` without a remote: which grants go, what the commit says,
//! and what it never touches.

use crate::prune_support;

use prune_support::{Fixture, NOW, git, write};

const EXPIRED: [&str; 2] = [
    "grants/contractors/sam-read.yaml",
    "grants/payments/old-deploy.yaml",
];

#[test]
fn removes_exactly_the_expired_grants_on_a_branch_from_main() {
    let fixture = Fixture::new();
    let output = fixture.lapse(&["prune", "--now", NOW], &[]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);

    let before = fixture.files_at("main");
    let after = fixture.files_at("lapse/prune");
    let expected: Vec<String> = before
        .iter()
        .filter(|path| !EXPIRED.contains(&path.as_str()))
        .cloned()
        .collect();
    assert_eq!(after, expected);
    // The unexpired grant, the grant without expiry, the one with an
    // invalid expiry and the one that does not parse all survive.
    for survivor in [
        "grants/payments/current-deploy.yaml",
        "grants/payments/no-expiry.yaml",
        "grants/payments/bad-expiry.yaml",
        "grants/payments/broken.yaml",
    ] {
        assert!(
            after.iter().any(|p| p == survivor),
            "{survivor} was removed"
        );
    }
    // The now-empty grants/contractors directory is gone with its grant.
    assert_eq!(
        fixture.rev("lapse/prune^"),
        fixture.rev("main"),
        "the prune commit sits directly on main"
    );
    let text = output.stdout;
    assert!(
        text.contains("Removing 2 expired grants from origin/main"),
        "{text}"
    );
    assert!(text.contains("Committed"), "{text}");
}

#[test]
fn the_commit_message_is_the_revocation_record() {
    let fixture = Fixture::new();
    assert_eq!(fixture.lapse(&["prune", "--now", NOW], &[]).code, Some(0));
    let message = git(&fixture.work, &["log", "-1", "--format=%B", "lapse/prune"]);
    assert!(
        message.starts_with("Remove 2 expired grants\n"),
        "{message}"
    );
    for line in [
        "- sam-read (grants/contractors/sam-read.yaml)",
        "  subject: sam@example.com",
        "  role: deployer",
        "  expired: 2026-12-08T23:00:00Z",
        "  approved by: maria@example.com",
        "- old-deploy (grants/payments/old-deploy.yaml)",
        "  expired: 2026-12-01T00:00:00Z",
    ] {
        assert!(message.contains(line), "missing {line:?} in\n{message}");
    }
}

#[test]
fn a_dirty_working_tree_index_and_current_branch_are_left_untouched() {
    let fixture = Fixture::new();
    git(&fixture.work, &["checkout", "-q", "-b", "feature"]);
    write(
        &fixture.work,
        "grants/payments/old-deploy.yaml",
        "edited, not committed\n",
    );
    write(&fixture.work, "grants/payments/staged.yaml", "staged\n");
    git(&fixture.work, &["add", "grants/payments/staged.yaml"]);
    let status_before = git(&fixture.work, &["status", "--porcelain"]);
    let head_before = fixture.rev("HEAD");

    // `feature` has no upstream: the base is origin/HEAD.
    let output = fixture.lapse(&["prune", "--now", NOW], &[]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);

    assert_eq!(
        git(&fixture.work, &["status", "--porcelain"]),
        status_before
    );
    assert_eq!(
        git(&fixture.work, &["symbolic-ref", "HEAD"]).trim(),
        "refs/heads/feature"
    );
    assert_eq!(fixture.rev("HEAD"), head_before);
    assert_eq!(
        std::fs::read_to_string(fixture.work.join("grants/payments/old-deploy.yaml")).unwrap(),
        "edited, not committed\n"
    );
    assert!(
        !fixture
            .files_at("lapse/prune")
            .contains(&EXPIRED[1].to_owned())
    );
}

#[test]
fn nothing_expired_writes_nothing_and_says_so() {
    let fixture = Fixture::new();
    let output = fixture.lapse(&["prune", "--now", "2026-11-01T00:00:00Z"], &[]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert!(
        output.stdout.contains("no branch written, nothing pushed"),
        "{}",
        output.stdout
    );
    assert!(git(&fixture.work, &["branch", "--list", "lapse/prune"]).is_empty());
}

#[test]
fn dry_run_lists_what_would_go_and_writes_nothing() {
    let fixture = Fixture::new();
    let output = fixture.lapse(
        &["prune", "--now", NOW, "--dry-run", "--format", "json"],
        &[],
    );
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    let removed: Vec<&str> = report["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(removed, ["sam-read", "old-deploy"]);
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["commit"], serde_json::Value::Null);
    assert!(git(&fixture.work, &["branch", "--list", "lapse/prune"]).is_empty());
}

#[test]
fn grace_keeps_grants_that_expired_recently() {
    let fixture = Fixture::new();
    let output = fixture.lapse(&["prune", "--now", NOW, "--grace", "3d", "--dry-run"], &[]);
    let text = output.stdout;
    assert!(text.contains("Would remove 1 expired grant from"), "{text}");
    assert!(
        text.contains("old-deploy") && !text.contains("sam-read"),
        "{text}"
    );
}

#[test]
fn a_rerun_reuses_the_same_commit() {
    let fixture = Fixture::new();
    assert_eq!(fixture.lapse(&["prune", "--now", NOW], &[]).code, Some(0));
    let first = fixture.rev("lapse/prune");
    assert_eq!(fixture.lapse(&["prune", "--now", NOW], &[]).code, Some(0));
    assert_eq!(fixture.rev("lapse/prune"), first);
}

#[test]
fn refuses_to_rewrite_the_checked_out_branch() {
    let fixture = Fixture::new();
    git(&fixture.work, &["checkout", "-q", "-b", "cleanup"]);
    let output = fixture.lapse(&["prune", "--now", NOW, "--branch", "cleanup"], &[]);
    assert_eq!(output.code, Some(2));
    assert!(
        output.stderr.contains("the current branch is cleanup"),
        "{}",
        output.stderr
    );
}

#[test]
fn an_explicit_base_is_used_and_named() {
    let fixture = Fixture::new();
    git(&fixture.work, &["checkout", "-q", "-b", "release"]);
    prune_support::write(
        &fixture.work,
        "grants/payments/old-deploy.yaml",
        "subject: alex@example.com\nrole: deployer\nexpires: 2027-01-01T00:00:00Z\n",
    );
    git(&fixture.work, &["commit", "-q", "-am", "Extend on release"]);
    let output = fixture.lapse(
        &["prune", "--now", NOW, "--base", "HEAD", "--format", "json"],
        &[],
    );
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(report["base"]["branch"], "release");
    assert_eq!(report["removed"].as_array().unwrap().len(), 1);
    assert_eq!(fixture.rev("lapse/prune^"), fixture.rev("release"));
}

/// A repository missing an object the base commit needs (a damaged or
/// partial clone) stops prune with libgit2's message, said once, and
/// writes nothing.
#[test]
fn a_missing_object_is_a_one_line_error() {
    let fixture = Fixture::new();
    let blob = git(
        &fixture.work,
        &["rev-parse", "main:grants/payments/old-deploy.yaml"],
    );
    let blob = blob.trim();
    std::fs::remove_file(
        fixture
            .work
            .join(".git/objects")
            .join(&blob[..2])
            .join(&blob[2..]),
    )
    .unwrap();

    let output = fixture.lapse(&["prune", "--now", NOW, "--base", "main"], &[]);
    assert_eq!(output.code, Some(2), "{}", output.stderr);
    let message = output.stderr;
    assert_eq!(message.lines().count(), 1, "{message}");
    assert_eq!(message.matches(blob).count(), 1, "{message}");
    assert_eq!(fixture.origin_rev("lapse/prune"), None);
    assert!(git(&fixture.work, &["branch", "--list", "lapse/prune"]).is_empty());
}
