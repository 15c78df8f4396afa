//! `lapse who --at T`: the grants in force at T on the first-parent history
//! of HEAD, with their approvers and the commits that granted and removed them.

use crate::history_support;

use history_support::{Repo, grant};

const GRANT: &str = "grants/team/alex-deploy.yaml";

/// alex's grant: committed on the 3rd, extended on the 5th, removed on the
/// 7th, although it would only have expired on the 20th.
fn repo_with_a_grant_life() -> (Repo, String, String, String) {
    let repo = Repo::new();
    repo.write(GRANT, grant("2026-11-19T17:00:00Z", &["maria@example.com"]));
    repo.commit("alex@example.com", "2026-11-03T10:00:00Z", "Alex deploys");
    let added = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    repo.write(GRANT, grant("2026-11-20T17:00:00Z", &["li@example.com"]));
    repo.commit("alex@example.com", "2026-11-05T10:00:00Z", "A day more");
    let extended = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    repo.git(&["rm", "-q", GRANT]);
    repo.commit("sam@example.com", "2026-11-07T10:00:00Z", "Done early");
    let removed = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    (repo, added, extended, removed)
}

fn who_at(repo: &Repo, at: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["who", "--format", "json", "--at", at];
    args.extend_from_slice(extra);
    let run = repo.lapse(&args);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.json()
}

#[test]
fn before_the_grant_was_committed_nobody_had_access() {
    let (repo, ..) = repo_with_a_grant_life();
    let json = who_at(&repo, "2026-11-02T12:00:00Z", &[]);
    assert_eq!(json["grants"], serde_json::json!([]));
}

#[test]
fn while_active_the_version_in_force_and_its_commits_are_shown() {
    let (repo, added, extended, removed) = repo_with_a_grant_life();

    let json = who_at(&repo, "2026-11-04T12:00:00Z", &[]);
    let grants = json["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 1, "{json}");
    let record = &grants[0];
    assert_eq!(record["id"], "alex-deploy");
    assert_eq!(record["subject"], "alex@example.com");
    assert_eq!(record["role"], "deployer");
    assert_eq!(record["expires"], "2026-11-19T17:00:00Z");
    assert_eq!(
        record["approvers"],
        serde_json::json!(["maria@example.com"])
    );
    assert_eq!(record["granted"]["commit"], added.as_str());
    assert_eq!(record["granted"]["author"], "alex@example.com");
    assert_eq!(record["removed"]["commit"], removed.as_str());
    assert_eq!(record["removed"]["time"], "2026-11-07T10:00:00Z");

    let later = who_at(&repo, "2026-11-06T12:00:00Z", &[]);
    assert_eq!(later["grants"][0]["granted"]["commit"], extended.as_str());
    assert_eq!(
        later["grants"][0]["approvers"],
        serde_json::json!(["li@example.com"])
    );
}

#[test]
fn after_the_removal_nobody_has_access() {
    let (repo, ..) = repo_with_a_grant_life();
    let json = who_at(&repo, "2026-11-08T12:00:00Z", &[]);
    assert_eq!(json["grants"], serde_json::json!([]));
}

#[test]
fn filters_compare_subjects_as_people() {
    let (repo, ..) = repo_with_a_grant_life();
    let at = "2026-11-04T12:00:00Z";
    let found = |extra: &[&str]| who_at(&repo, at, extra)["grants"].as_array().unwrap().len();
    assert_eq!(found(&["--subject", "ALEX@example.com"]), 1);
    assert_eq!(found(&["--subject", "li@example.com"]), 0);
    assert_eq!(found(&["--role", "deployer"]), 1);
    assert_eq!(found(&["--role", "admin"]), 0);
}

#[test]
fn human_output_names_the_grant_window_and_commits() {
    let (repo, added, _, removed) = repo_with_a_grant_life();
    let run = repo.lapse(&["who", "--at", "2026-11-04T12:00:00Z"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for expected in [
        "1 grant(s) active at 2026-11-04T12:00:00Z",
        "alex-deploy  (grants/team/alex-deploy.yaml)",
        "approvers: maria@example.com",
        &format!(
            "granted:   {} 2026-11-03T10:00:00Z by alex@example.com",
            &added[..12]
        ),
        &format!(
            "removed:   {} 2026-11-07T10:00:00Z by sam@example.com",
            &removed[..12]
        ),
    ] {
        assert!(
            run.stdout.contains(expected),
            "{expected:?} not in\n{}",
            run.stdout
        );
    }
}
