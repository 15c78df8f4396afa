//! One GitHub account, two noreply addresses: `ID+login@users.noreply.github.com`
//! and `login@users.noreply.github.com` are the same person wherever an
//! identity is compared, whichever form `lapse.yaml` lists.

use crate::common::{self, GRANT, POLICY};
use crate::history_support::{self, Repo, grant};

const GRANT_PATH: &str = "grants/team/alex-deploy.yaml";
/// Line of `approvers:` in `history_support::grant()`.
const APPROVERS_LINE: u64 = 4;

/// Maria (listed with `maria@users.noreply.github.com`) approves a grant
/// that a commit by `author` wrote.
fn check_grant_written_by(author: &str) -> history_support::Run {
    let repo = Repo::new();
    repo.write(
        GRANT_PATH,
        grant("2026-11-14T17:00:00Z", &["maria@example.com"]),
    );
    repo.commit(author, "2026-11-08T10:00:00Z", "Grant alex deploy");
    repo.lapse(&["check", "--format", "json"])
}

#[test]
fn a_commit_from_the_numbered_noreply_address_is_the_listed_persons() {
    let run = check_grant_written_by("41898282+Maria@users.noreply.github.com");
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(
        run.findings(),
        [("self-approval".to_owned(), APPROVERS_LINE)]
    );
}

#[test]
fn a_co_author_trailer_with_the_numbered_form_is_the_listed_person() {
    let repo = Repo::new();
    repo.write(
        GRANT_PATH,
        grant("2026-11-14T17:00:00Z", &["maria@example.com"]),
    );
    repo.commit(
        "alex@example.com",
        "2026-11-08T10:00:00Z",
        "Grant alex deploy\n\nCo-authored-by: Maria <7+maria@users.noreply.github.com>",
    );
    let run = repo.lapse(&["check", "--format", "json"]);
    assert_eq!(
        run.findings(),
        [("self-approval".to_owned(), APPROVERS_LINE)]
    );
}

#[test]
fn a_plus_address_on_another_domain_is_someone_else() {
    let run = check_grant_written_by("41898282+maria@example.com");
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.findings(), []);
}

#[test]
fn a_policy_listing_the_numbered_form_knows_the_login_form() {
    let policy = POLICY.replace(
        "aliases: [maria@users.noreply.github.com]",
        "aliases: [\"583231+maria@users.noreply.github.com\"]",
    );
    let text = GRANT.replace(
        "approvers: [maria@example.com]",
        "approvers: [maria@users.noreply.github.com]",
    );
    let repo = common::Repo::new(&[
        ("lapse.yaml", &policy),
        ("grants/payments/alex-deploy.yaml", &text),
    ]);
    repo.check_json().expect_clean();
}

#[test]
fn two_people_listing_the_two_forms_of_one_account_is_a_policy_error() {
    let policy = POLICY.replace(
        "  li@example.com:\n",
        "  li@example.com:\n    aliases: [\"99+maria@users.noreply.github.com\"]\n",
    );
    let repo = common::Repo::new(&[("lapse.yaml", &policy)]);
    let run = repo.check(&[]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stdout.contains("invalid-policy"), "{run:?}");
}
