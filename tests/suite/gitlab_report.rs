//! `lapse check --format gitlab`: GitLab's Code Quality report, checked
//! against the fields GitLab documents as required
//! (https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format):
//! `description`, `check_name`, `fingerprint`, `severity` (info, minor,
//! major, critical, blocker), `location.path`, `location.lines.begin`.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::{GRANT, Repo};

const GRANT_PATH: &str = "grants/payments/alex-deploy.yaml";

/// The report of `repo`, with every issue checked for the documented shape.
fn report(repo: &Repo) -> Vec<Value> {
    let run = repo.check(&["--format", "gitlab"]);
    let issues: Vec<Value> = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|error| panic!("not a JSON array ({error}): {run:?}"));
    let fingerprints: BTreeSet<&str> = issues
        .iter()
        .map(|issue| {
            issue["fingerprint"]
                .as_str()
                .expect("fingerprint is a string")
        })
        .collect();
    assert_eq!(
        fingerprints.len(),
        issues.len(),
        "fingerprints must be unique: {issues:#?}"
    );
    for issue in &issues {
        let fields: BTreeSet<&str> = issue
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert!(
            [
                "check_name",
                "description",
                "fingerprint",
                "location",
                "severity"
            ]
            .iter()
            .all(|field| fields.contains(field)),
            "{issue:#}"
        );
        assert!(issue["description"].as_str().is_some_and(|d| !d.is_empty()));
        assert!(issue["check_name"].is_string());
        assert!(
            ["info", "minor", "major", "critical", "blocker"]
                .contains(&issue["severity"].as_str().unwrap()),
            "{issue:#}"
        );
        let path = issue["location"]["path"].as_str().expect("location.path");
        assert!(
            !path.starts_with('/'),
            "paths are relative to the repository: {path}"
        );
        assert!(
            issue["location"]["lines"]["begin"]
                .as_u64()
                .is_some_and(|line| line >= 1)
        );
    }
    issues
}

fn too_long() -> String {
    GRANT.replace(
        "expires: 2026-12-06T09:00:00Z",
        "expires: 2026-12-06T17:00:00Z",
    )
}

#[test]
fn an_error_is_a_major_issue_at_its_file_and_line() {
    let repo = Repo::with_grants(&[(GRANT_PATH, &too_long())]);
    let issues = report(&repo);
    assert_eq!(issues.len(), 1, "{issues:#?}");
    let issue = &issues[0];
    assert_eq!(issue["check_name"], "duration-exceeds-max");
    assert_eq!(issue["severity"], "major");
    assert_eq!(issue["location"]["path"], GRANT_PATH);
    assert_eq!(issue["location"]["lines"]["begin"], 7);
    let description = issue["description"].as_str().unwrap();
    assert!(description.contains("longer than the 14d"), "{description}");
    assert_eq!(repo.check(&["--format", "gitlab"]).code, Some(1));
}

#[test]
fn a_warning_is_a_minor_issue_and_a_clean_repository_an_empty_report() {
    let clean = Repo::with_grants(&[(GRANT_PATH, GRANT)]);
    assert!(report(&clean).is_empty());
    let outlived = GRANT
        .replace(
            "starts: 2026-11-22T09:00:00Z\n",
            "starts: 2026-11-01T09:00:00Z\n",
        )
        .replace(
            "expires: 2026-12-06T09:00:00Z",
            "expires: 2026-11-10T09:00:00Z",
        );
    let repo = Repo::with_grants(&[(GRANT_PATH, &outlived)]);
    let issues = report(&repo);
    let expired: Vec<_> = issues
        .iter()
        .filter(|i| i["check_name"] == "expired")
        .collect();
    assert_eq!(expired.len(), 1, "{issues:#?}");
    assert_eq!(expired[0]["severity"], "minor");
}

#[test]
fn a_finding_keeps_its_fingerprint_when_its_line_moves() {
    let repo = Repo::with_grants(&[(GRANT_PATH, &too_long())]);
    let before = report(&repo)[0]["fingerprint"].clone();
    repo.write(
        GRANT_PATH,
        format!("# moved down a line\n{}", too_long()).as_bytes(),
    );
    let after = report(&repo);
    assert_eq!(after[0]["location"]["lines"]["begin"], 8);
    assert_eq!(after[0]["fingerprint"], before);
}
