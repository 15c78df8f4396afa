//! Timestamps are parsed in one place, and what it accepts must be an
//! instant every consumer can read back: a leap second (`:60`) is accepted
//! by chrono but refused by Terraform's `timecmp`, so one such grant would
//! break the plan for everyone. It is refused wherever a timestamp is read.

use crate::common::{self, GRANT, POLICY, Repo};

const PATH: &str = "grants/payments/alex-deploy.yaml";
const LEAP: &str = "2026-12-05T23:59:60Z";

#[test]
fn a_leap_second_in_a_grant_is_an_invalid_timestamp_with_a_hint() {
    let text = GRANT.replace("expires: 2026-12-06T09:00:00Z", &format!("expires: {LEAP}"));
    let checked = Repo::with_grants(&[(PATH, &text)]).check_json();
    let finding = checked.expect_error("invalid-timestamp", PATH, 7, 10);
    assert!(finding.message.contains("leap second"), "{finding:?}");
    assert!(finding.help.contains("second 59"), "{finding:?}");
}

#[test]
fn a_leap_second_with_an_offset_in_starts_is_refused_too() {
    let text = GRANT.replace(
        "starts: 2026-11-22T09:00:00Z",
        "starts: 2026-11-22T10:59:60+01:00",
    );
    let checked = Repo::with_grants(&[(PATH, &text)]).check_json();
    checked.expect_error("invalid-timestamp", PATH, 6, 9);
}

#[test]
fn an_offset_that_carries_the_instant_out_of_rfc_3339_years_is_refused() {
    let text = GRANT.replace(
        "expires: 2026-12-06T09:00:00Z",
        "expires: 9999-12-31T23:30:00-01:00",
    );
    let checked = Repo::with_grants(&[(PATH, &text)]).check_json();
    let finding = checked.expect_error("invalid-timestamp", PATH, 7, 10);
    assert!(finding.message.contains("9999"), "{finding:?}");
}

#[test]
fn a_leap_second_contract_end_is_a_policy_error() {
    let policy = POLICY.replace(
        "contract_ends: 2026-12-31T23:59:59Z",
        "contract_ends: 2026-12-31T23:59:60Z",
    );
    let repo = Repo::new(&[("lapse.yaml", &policy), (PATH, GRANT)]);
    let run = repo.check(&[]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stdout.contains("invalid-policy"), "{run:?}");
    assert!(run.stdout.contains("leap second"), "{run:?}");
}

#[test]
fn a_leap_second_given_as_now_at_or_starts_is_a_usage_error() {
    let repo = Repo::with_grants(&[(PATH, GRANT)]);
    let dir = repo.path().to_str().expect("UTF-8 temp path");
    let runs = [
        common::lapse(&["check", "--repo", dir, "--now", LEAP]),
        common::lapse(&["who", "--repo", dir, "--now", common::NOW, "--at", LEAP]),
        common::lapse(&[
            "new",
            "--repo",
            dir,
            "--now",
            common::NOW,
            "--subject",
            "alex@contractor.example",
            "--role",
            "payments-reader",
            "--for",
            "1d",
            "--reason",
            "Read the payments dashboards",
            "--starts",
            LEAP,
        ]),
    ];
    for run in runs {
        assert_eq!(run.code, Some(2), "{run:?}");
        assert!(run.stderr.contains("leap second"), "{run:?}");
        assert!(run.stderr.contains("second 59"), "{run:?}");
    }
    assert!(
        !repo
            .path()
            .join("grants/alex-payments-reader.yaml")
            .exists()
    );
}
