//! `lapse expiring`: what a notification step sees.

use crate::prune_support;

use prune_support::{Fixture, NOW, stderr, stdout};

#[test]
fn lists_grants_expiring_within_warn_before_soonest_first() {
    let fixture = Fixture::with_files(&[(
        "grants/payments/soon.yaml",
        "subject: sam@example.com\nrole: deployer\nreason: Hotfix for the payments service\napprovers: [maria@example.com]\nexpires: 2026-12-11T09:00:00Z\n",
    )]);
    // warn_before is 7d: current-deploy (Dec 20) is outside, soon (Dec 11) inside.
    let output = fixture.lapse(&["expiring", "--now", NOW], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "1 grant expires within 1w (by 2026-12-17T12:00:00Z):\n  2026-12-11T09:00:00Z  soon  sam@example.com  deployer  approved by maria@example.com\n"
    );

    let output = fixture.lapse(
        &[
            "expiring", "--now", NOW, "--within", "2w", "--format", "json",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let ids: Vec<&str> = report["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    // Expired grants, and grants without a valid expiry, are not "expiring".
    assert_eq!(ids, ["soon", "current-deploy"]);
    assert_eq!(report["grants"][0]["subject"], "sam@example.com");
    assert_eq!(report["grants"][0]["role"], "deployer");
    assert_eq!(report["grants"][0]["expires"], "2026-12-11T09:00:00Z");
    assert_eq!(
        report["grants"][0]["approvers"],
        serde_json::json!(["maria@example.com"])
    );
    assert_eq!(report["until"], "2026-12-24T12:00:00Z");
}

#[test]
fn markdown_is_a_table_for_issues_and_chat() {
    let fixture = Fixture::new();
    let output = fixture.lapse(
        &[
            "expiring", "--now", NOW, "--within", "14d", "--format", "markdown",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout(&output),
        "1 grant expires within 2w (by 2026-12-24T12:00:00Z):\n\n\
         | Grant | Subject | Role | Expires | Approvers |\n|---|---|---|---|---|\n\
         | current-deploy | alex\\@example.com | deployer | 2026-12-20T00:00:00Z | maria\\@example.com |\n"
    );
}

#[test]
fn nothing_expiring_is_still_exit_0() {
    let fixture = Fixture::new();
    let output = fixture.lapse(&["expiring", "--now", NOW, "--within", "1d"], &[]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout(&output),
        "No grant expires within 1d (by 2026-12-11T12:00:00Z).\n"
    );
}
