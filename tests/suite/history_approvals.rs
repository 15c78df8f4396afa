//! `lapse check` (audit mode) judging approvals from the commits that
//! wrote each grant: authors, co-authors, aliases, approval-only commits,
//! stale approvals, renames and merges.

use crate::history_support;

use history_support::{Repo, grant};

const GRANT: &str = "grants/team/alex-deploy.yaml";
const EXPIRES: &str = "2026-11-14T17:00:00Z";
/// Line of `approvers:` in `grant()`.
const APPROVERS_LINE: u64 = 4;

fn check(repo: &Repo) -> history_support::Run {
    repo.lapse(&["check", "--format", "json"])
}

#[test]
fn an_approver_who_wrote_the_grant_approved_their_own_work() {
    let repo = Repo::new();
    repo.write(GRANT, grant(EXPIRES, &["maria@example.com"]));
    repo.commit(
        "maria@example.com",
        "2026-11-08T10:00:00Z",
        "Grant alex deploy",
    );

    let run = check(&repo);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(
        run.findings(),
        [("self-approval".to_owned(), APPROVERS_LINE)]
    );
    assert!(run.stdout.contains("authored commit"), "{}", run.stdout);
}

#[test]
fn aliases_and_case_do_not_hide_the_author() {
    let repo = Repo::new();
    repo.write(GRANT, grant(EXPIRES, &["MARIA@example.com"]));
    repo.commit(
        "Maria@Users.Noreply.GitHub.com",
        "2026-11-08T10:00:00Z",
        "Grant alex deploy",
    );

    let run = check(&repo);
    assert_eq!(
        run.findings(),
        [("self-approval".to_owned(), APPROVERS_LINE)]
    );
}

#[test]
fn a_co_author_trailer_counts_as_writing_the_grant() {
    let repo = Repo::new();
    repo.write(GRANT, grant(EXPIRES, &["maria@example.com"]));
    repo.commit(
        "alex@example.com",
        "2026-11-08T10:00:00Z",
        "Grant alex deploy\n\nco-authored-by: Maria <maria@example.com>",
    );

    let run = check(&repo);
    assert_eq!(
        run.findings(),
        [("self-approval".to_owned(), APPROVERS_LINE)]
    );
    assert!(run.stdout.contains("co-authored commit"), "{}", run.stdout);
}

#[test]
fn a_commit_that_only_adds_the_authors_own_approval_is_the_approval() {
    let repo = Repo::new();
    repo.write(GRANT, grant(EXPIRES, &[]));
    repo.commit(
        "alex@example.com",
        "2026-11-08T10:00:00Z",
        "Request deploy access",
    );
    repo.write(GRANT, grant(EXPIRES, &["maria@example.com"]));
    repo.commit("maria@example.com", "2026-11-08T11:00:00Z", "Approve");

    let run = check(&repo);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.findings(), []);
}

#[test]
fn an_approver_who_also_changed_the_expiry_is_rejected() {
    let repo = Repo::new();
    repo.write(GRANT, grant(EXPIRES, &[]));
    repo.commit(
        "alex@example.com",
        "2026-11-08T10:00:00Z",
        "Request deploy access",
    );
    repo.write(GRANT, grant("2026-11-15T17:00:00Z", &["maria@example.com"]));
    repo.commit(
        "maria@example.com",
        "2026-11-08T11:00:00Z",
        "Approve, one more day",
    );

    let run = check(&repo);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.findings(),
        [("self-approval".to_owned(), APPROVERS_LINE)]
    );
}

#[test]
fn a_change_after_the_approval_makes_it_stale() {
    let repo = Repo::new();
    repo.write(GRANT, grant(EXPIRES, &[]));
    repo.commit(
        "alex@example.com",
        "2026-11-08T10:00:00Z",
        "Request deploy access",
    );
    repo.write(GRANT, grant(EXPIRES, &["maria@example.com"]));
    repo.commit("maria@example.com", "2026-11-08T11:00:00Z", "Approve");
    repo.write(GRANT, grant("2026-11-15T17:00:00Z", &["maria@example.com"]));
    repo.commit("alex@example.com", "2026-11-08T12:00:00Z", "One more day");

    let run = check(&repo);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.findings(),
        [("stale-approval".to_owned(), APPROVERS_LINE)]
    );

    // Re-approval: the requester withdraws the stale name, maria adds it back.
    repo.write(GRANT, grant("2026-11-15T17:00:00Z", &[]));
    repo.commit("alex@example.com", "2026-11-08T13:00:00Z", "Ask again");
    repo.write(GRANT, grant("2026-11-15T17:00:00Z", &["maria@example.com"]));
    repo.commit("maria@example.com", "2026-11-08T14:00:00Z", "Approve again");
    assert_eq!(check(&repo).findings(), []);
}

#[test]
fn reformatting_the_grant_is_not_a_change() {
    let repo = Repo::new();
    repo.write(GRANT, grant(EXPIRES, &[]));
    repo.commit(
        "alex@example.com",
        "2026-11-08T10:00:00Z",
        "Request deploy access",
    );
    repo.write(GRANT, grant(EXPIRES, &["maria@example.com"]));
    repo.commit("maria@example.com", "2026-11-08T11:00:00Z", "Approve");
    repo.write(
        GRANT,
        format!(
            "# requested in PAY-1\n{}",
            grant(EXPIRES, &["maria@example.com"])
        ),
    );
    repo.commit("alex@example.com", "2026-11-08T12:00:00Z", "Comment");

    assert_eq!(check(&repo).findings(), []);
}

#[test]
fn a_renamed_grant_keeps_its_history() {
    let repo = Repo::new();
    repo.write("grants/old-team/alex-deploy.yaml", grant(EXPIRES, &[]));
    repo.commit(
        "maria@example.com",
        "2026-11-08T10:00:00Z",
        "Request for alex",
    );
    repo.git(&["mv", "grants/old-team", "grants/new-team"]);
    repo.commit(
        "sam@example.com",
        "2026-11-08T11:00:00Z",
        "Reorganise teams",
    );
    repo.write(
        "grants/new-team/alex-deploy.yaml",
        grant(EXPIRES, &["maria@example.com"]),
    );
    repo.commit("maria@example.com", "2026-11-08T12:00:00Z", "Approve");

    let run = check(&repo);
    assert_eq!(
        run.findings(),
        [("self-approval".to_owned(), APPROVERS_LINE)]
    );
    assert!(run.stdout.contains("new-team"), "{}", run.stdout);
}

#[test]
fn a_merge_is_not_authorship_but_the_merged_commits_are() {
    let repo = Repo::new();
    repo.git(&["checkout", "-q", "-b", "request"]);
    repo.write(GRANT, grant(EXPIRES, &["li@example.com"]));
    repo.commit(
        "alex@example.com",
        "2026-11-08T10:00:00Z",
        "Request deploy access",
    );
    let for_sam = grant(EXPIRES, &["maria@example.com"]).replace("alex@", "sam@");
    repo.write("grants/team/sam-deploy.yaml", &for_sam);
    repo.commit("maria@example.com", "2026-11-08T10:30:00Z", "Sam too");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("README.md", "grants\n");
    repo.commit("sam@example.com", "2026-11-08T11:00:00Z", "Readme");
    repo.git_as(
        "li@example.com",
        "2026-11-08T12:00:00Z",
        &["merge", "-q", "--no-ff", "-m", "Merge request", "request"],
    );

    let run = check(&repo);
    // li merged alex's grant: approving what one merges is fine. maria
    // wrote sam's grant on the branch: the merge does not launder it.
    let findings = run.rules_and_files();
    assert_eq!(
        findings,
        [(
            "self-approval".to_owned(),
            "grants/team/sam-deploy.yaml".to_owned()
        )],
        "{}",
        run.stdout
    );
}

#[test]
fn a_merge_that_changes_the_grant_itself_is_authorship() {
    let repo = Repo::new();
    repo.write(GRANT, grant(EXPIRES, &[]));
    repo.commit("alex@example.com", "2026-11-08T10:00:00Z", "Request");
    repo.write(GRANT, grant(EXPIRES, &["maria@example.com"]));
    repo.commit("maria@example.com", "2026-11-08T11:00:00Z", "Approve");
    repo.git(&["checkout", "-q", "-b", "docs", "HEAD~1"]);
    repo.write("README.md", "grants\n");
    repo.commit("sam@example.com", "2026-11-08T11:30:00Z", "Readme");
    repo.git(&["checkout", "-q", "main"]);
    // maria merges, and slips a longer expiry into the merge commit.
    repo.git_as(
        "maria@example.com",
        "2026-11-08T12:00:00Z",
        &["merge", "-q", "--no-ff", "--no-commit", "docs"],
    );
    repo.write(GRANT, grant("2026-11-15T17:00:00Z", &["maria@example.com"]));
    repo.commit("maria@example.com", "2026-11-08T12:00:00Z", "Merge docs");

    let run = check(&repo);
    assert_eq!(
        run.findings(),
        [("self-approval".to_owned(), APPROVERS_LINE)]
    );
}

#[test]
fn duration_is_measured_from_the_commit_that_added_the_grant() {
    let repo = Repo::new();
    // Committed on the 1st, expiring on the 20th: 19 days, over the 14d
    // maximum, although only 10 days remain from --now.
    repo.write(GRANT, grant("2026-11-20T09:00:00Z", &[]));
    repo.commit("alex@example.com", "2026-11-01T09:00:00Z", "Request");
    repo.write(GRANT, grant("2026-11-20T09:00:00Z", &["li@example.com"]));
    repo.commit("li@example.com", "2026-11-01T10:00:00Z", "Approve");

    let run = check(&repo);
    assert_eq!(run.rules(), ["duration-exceeds-max"], "{}", run.stdout);
    assert!(
        run.stdout.contains("the commit that added it"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_commit_dated_in_the_future_does_not_shorten_the_measured_duration() {
    let repo = Repo::new();
    // Ten months of a 14-day role, committed "in" 2027: measured from the
    // commit date it would look like two weeks.
    let expires = "2027-09-10T09:00:00Z";
    repo.write(GRANT, grant(expires, &[]));
    repo.commit("alex@example.com", "2027-08-28T09:00:00Z", "Request");
    repo.write(GRANT, grant(expires, &["li@example.com"]));
    repo.commit("li@example.com", "2027-08-28T10:00:00Z", "Approve");

    let run = check(&repo);
    assert_eq!(run.rules(), ["duration-exceeds-max"], "{}", run.stdout);
    assert!(run.stdout.contains("from now"), "{}", run.stdout);
}
