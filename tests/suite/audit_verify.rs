//! `lapse audit --verify --checkpoint FILE`: a run records the commits it
//! read; a later run reports every one the default branch no longer
//! reaches, as after a force push that rewrote access history.

use std::path::Path;

use crate::history_support;

use history_support::{Repo, Run, git_in, grant, lapse_in};

const GRANT: &str = "grants/team/alex-deploy.yaml";

/// A bare remote whose main has a grant requested, approved and removed,
/// and a clone of it (where the audits run), with `origin/HEAD` set.
fn remote_and_clone() -> (Repo, tempfile::TempDir, tempfile::TempDir) {
    let work = Repo::new();
    work.write(GRANT, grant("2026-11-09T17:00:00Z", &[]));
    work.commit("alex@example.com", "2026-11-02T10:00:00Z", "Request");
    work.write(GRANT, grant("2026-11-09T17:00:00Z", &["maria@example.com"]));
    work.commit("maria@example.com", "2026-11-02T11:00:00Z", "Approve");
    work.git(&["rm", "-q", GRANT]);
    work.commit("sam@example.com", "2026-11-05T09:00:00Z", "Revoke");
    let remote = tempfile::TempDir::new().unwrap();
    git_in(remote.path(), &["init", "-q", "--bare", "-b", "main"], &[]);
    work.git(&["remote", "add", "origin", remote.path().to_str().unwrap()]);
    work.git(&["push", "-q", "origin", "main"]);
    let clone = tempfile::TempDir::new().unwrap();
    git_in(
        clone.path(),
        &["clone", "-q", remote.path().to_str().unwrap(), "."],
        &[],
    );
    (work, remote, clone)
}

fn audit(clone: &Path, checkpoint: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "audit",
        "--format",
        "json",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    lapse_in(clone, &args)
}

fn commits_in(checkpoint: &Path) -> Vec<String> {
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(checkpoint).unwrap()).unwrap();
    file["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["commit"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_force_push_that_rewrote_access_history_is_reported() {
    let (work, _remote, clone) = remote_and_clone();
    let keep = tempfile::TempDir::new().unwrap();
    let checkpoint = keep.path().join("audit-checkpoint.json");

    // The first run has nothing to verify against, and records the commits.
    let first = audit(clone.path(), &checkpoint, &["--verify"]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert!(
        first.stderr.contains("No checkpoint at"),
        "{}",
        first.stderr
    );
    let recorded = commits_in(&checkpoint);
    assert_eq!(recorded.len(), 4, "policy, request, approval, revocation");
    let checkpoint_text = std::fs::read_to_string(&checkpoint).unwrap();
    assert!(
        checkpoint_text.contains("\"time\": \"2026-11-05T09:00:00Z\""),
        "{checkpoint_text}"
    );

    // Nothing changed: verified, and the checkpoint kept up to date.
    let second = audit(clone.path(), &checkpoint, &["--verify"]);
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains("Verified: all 4 commits of the checkpoint"),
        "{}",
        second.stderr
    );
    assert_eq!(
        second.json()["verify"]["unreachable"],
        serde_json::json!([])
    );

    // Someone rewrites main so that the grant was approved by alex himself
    // and never revoked, and force-pushes.
    let request = work.git(&["rev-parse", "HEAD~2"]).trim().to_owned();
    let approval = work.git(&["rev-parse", "HEAD~1"]).trim().to_owned();
    let revocation = work.git(&["rev-parse", "HEAD"]).trim().to_owned();
    work.git(&["reset", "-q", "--hard", &request]);
    work.write(GRANT, grant("2026-11-09T17:00:00Z", &["li@example.com"]));
    work.commit("alex@example.com", "2026-11-02T11:00:00Z", "Approve");
    work.git(&["push", "-q", "--force", "origin", "main"]);
    git_in(clone.path(), &["fetch", "-q", "origin"], &[]);

    let third = audit(clone.path(), &checkpoint, &["--verify"]);
    assert_eq!(third.code, Some(1), "{}", third.stderr);
    let gone: Vec<String> = third.json()["verify"]["unreachable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["commit"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(gone, [approval.clone(), revocation.clone()]);
    assert!(
        third
            .stderr
            .contains("HISTORY REWRITTEN: 2 of the 4 commits"),
        "{}",
        third.stderr
    );
    assert!(
        third
            .stderr
            .contains(&format!("{revocation} (2026-11-05T09:00:00Z)")),
        "{}",
        third.stderr
    );
    // The evidence stays: the checkpoint is not overwritten by the
    // rewritten history, so every later run reports it too.
    assert_eq!(commits_in(&checkpoint), recorded);
    assert!(third.stderr.contains("left as it was"), "{}", third.stderr);
    let markdown = lapse_in(
        clone.path(),
        &[
            "audit",
            "--verify",
            "--checkpoint",
            checkpoint.to_str().unwrap(),
        ],
    );
    assert_eq!(markdown.code, Some(1));
    assert!(
        markdown.stdout.contains("HISTORY REWRITTEN"),
        "{}",
        markdown.stdout
    );
}

#[test]
fn without_verify_the_checkpoint_is_written_and_a_bad_one_is_refused() {
    let (_work, _remote, clone) = remote_and_clone();
    let keep = tempfile::TempDir::new().unwrap();
    let checkpoint = keep.path().join("checkpoint.json");
    let run = audit(clone.path(), &checkpoint, &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(commits_in(&checkpoint).len(), 4);
    assert!(run.json().get("verify").is_none());

    std::fs::write(&checkpoint, "{\"version\": 1, \"branch\": \"x\", \"written\": \"y\", \"commits\": [{\"commit\": \"not a commit\", \"time\": \"z\"}]}").unwrap();
    let bad = audit(clone.path(), &checkpoint, &["--verify"]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(
        bad.stderr.contains("is not one `lapse audit` wrote"),
        "{}",
        bad.stderr
    );
    assert!(bad.stderr.contains("checkpoint.json"), "{}", bad.stderr);

    let alone = lapse_in(clone.path(), &["audit", "--verify"]);
    assert_eq!(alone.code, Some(2), "{}", alone.stderr);
    assert!(alone.stderr.contains("--checkpoint"), "{}", alone.stderr);
}
