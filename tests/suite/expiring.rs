//! `lapse expiring`: what a notification step sees.

use crate::prune_support;

use prune_support::{Fixture, NOW};

#[test]
fn lists_grants_expiring_within_warn_before_soonest_first() {
    let fixture = Fixture::with_files(&[(
        "grants/payments/soon.yaml",
        "subject: sam@example.com\nrole: deployer\nreason: Hotfix for the payments service\napprovers: [maria@example.com]\nexpires: 2026-12-11T09:00:00Z\n",
    )]);
    // warn_before is 7d: current-deploy (Dec 20) is outside, soon (Dec 11)
    // inside, and the window is said the way lapse.yaml says it.
    let output = fixture.lapse(&["expiring", "--now", NOW], &[]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(
        output.stdout,
        "1 grant ends within 7d (by 2026-12-17T12:00:00Z):\n  2026-12-11T09:00:00Z  soon  sam@example.com  deployer  approved by maria@example.com\n"
    );

    let output = fixture.lapse(
        &[
            "expiring", "--now", NOW, "--within", "2w", "--format", "json",
        ],
        &[],
    );
    assert_eq!(output.code, Some(0));
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
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
    assert_eq!(output.code, Some(0));
    assert_eq!(
        output.stdout,
        "1 grant ends within 14d (by 2026-12-24T12:00:00Z):\n\n\
         | Grant | Subject | Role | Expires | Approvers |\n|---|---|---|---|---|\n\
         | current-deploy | alex\\@example.com | deployer | 2026-12-20T00:00:00Z | maria\\@example.com |\n"
    );
}

#[test]
fn nothing_expiring_is_still_exit_0() {
    let fixture = Fixture::new();
    let output = fixture.lapse(&["expiring", "--now", NOW, "--within", "1d"], &[]);
    assert_eq!(output.code, Some(0));
    assert_eq!(
        output.stdout,
        "No grant ends within 1d (by 2026-12-11T12:00:00Z).\n"
    );
}

mod lifecycle {
    use crate::notify_support::lifecycle_fixture;
    use crate::prune_support::NOW;

    #[test]
    fn grants_end_with_their_subjects_contract_and_contract_ends_are_listed() {
        let fixture = lifecycle_fixture();
        let output = fixture.lapse(&["expiring", "--now", NOW], &[]);
        assert_eq!(output.code, Some(0), "{}", output.stderr);
        assert_eq!(
            output.stdout,
            "3 grants end within 7d (by 2026-12-17T12:00:00Z):\n\
             \x20 2026-12-10T14:00:00Z  glass           sam@example.com   breakglass  approved by none  BREAK-GLASS\n\
             \x20 2026-12-17T06:00:00Z  current-deploy  alex@example.com  deployer    approved by maria@example.com  (contract end)\n\
             \x20 2026-12-17T09:00:00Z  enters-today    sam@example.com   deployer    approved by maria@example.com, li@example.com\n\
             1 contract ends within 7d:\n\
             \x20 Contract of alex@example.com ends in 6 days (2026-12-17T06:00:00Z): 1 grant ends with it\n"
        );
    }

    #[test]
    fn json_says_when_and_why_each_grant_ends_and_which_contracts_end() {
        let fixture = lifecycle_fixture();
        let output = fixture.lapse(&["expiring", "--now", NOW, "--format", "json"], &[]);
        assert_eq!(output.code, Some(0), "{}", output.stderr);
        let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
        assert_eq!(report["within"], "7d");
        let cut = &report["grants"][1];
        assert_eq!(cut["id"], "current-deploy");
        assert_eq!(cut["expires"], "2026-12-20T00:00:00Z");
        assert_eq!(cut["ends"], "2026-12-17T06:00:00Z");
        assert_eq!(cut["end_reason"], "contract-ends");
        assert_eq!(report["grants"][2]["end_reason"], "expires");
        assert_eq!(report["grants"][0]["break_glass"], true);
        assert_eq!(report["grants"][2].get("break_glass"), None);
        assert_eq!(
            report["contract_ends"],
            serde_json::json!([{"person": "alex@example.com", "ends": "2026-12-17T06:00:00Z", "grants": ["current-deploy"]}])
        );
        assert_eq!(report.get("notified"), None);
    }

    /// A contract end also ends the person's access through their groups
    /// (render gives them a block of their own that ends then), so the
    /// warning counts the group's grant too.
    #[test]
    fn a_contract_end_counts_the_grants_of_the_persons_groups() {
        let policy = crate::notify_support::LIFECYCLE_POLICY.replace(
            "roles:\n",
            "groups:\n  payments: [alex@example.com, sam@example.com]\nroles:\n",
        );
        let fixture = crate::prune_support::Fixture::with_files(&[
            ("lapse.yaml", policy.as_str()),
            (
                "grants/payments/team-deploy.yaml",
                "subject: group:payments\nrole: deployer\nreason: Deploy the payments service\napprovers: [maria@example.com]\nexpires: 2027-01-10T00:00:00Z\n",
            ),
        ]);
        let output = fixture.lapse(&["expiring", "--now", NOW, "--format", "json"], &[]);
        assert_eq!(output.code, Some(0), "{}", output.stderr);
        let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
        assert_eq!(
            report["contract_ends"],
            serde_json::json!([{"person": "alex@example.com", "ends": "2026-12-17T06:00:00Z", "grants": ["current-deploy", "team-deploy"]}]),
            "{report:#}"
        );
    }

    #[test]
    fn markdown_marks_contract_ends_and_break_glass() {
        let fixture = lifecycle_fixture();
        let output = fixture.lapse(&["expiring", "--now", NOW, "--format", "markdown"], &[]);
        let text = output.stdout;
        assert!(
            text.contains("| glass **BREAK-GLASS** | sam\\@example.com | breakglass | 2026-12-10T14:00:00Z | none |"),
            "{text}"
        );
        assert!(
            text.contains("| 2026-12-17T06:00:00Z (contract end) |"),
            "{text}"
        );
        assert!(
            text.ends_with("1 contract ends within 7d:\n\n- Contract of alex\\@example.com ends in 6 days (2026-12-17T06:00:00Z): 1 grant ends with it\n"),
            "{text}"
        );
    }
}
