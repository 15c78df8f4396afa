//! Who may approve is decided by the policy in force before the change,
//! and people who have left cannot approve: in pull-request mode and in
//! the audit after the merge alike.

use crate::history_support;

use history_support::{POLICY, Repo, grant};

const GRANT: &str = "grants/team/alex-deploy.yaml";
const EXPIRES: &str = "2026-11-14T17:00:00Z";

fn audit(repo: &Repo) -> history_support::Run {
    repo.lapse(&["check", "--format", "json"])
}

fn pull_request(repo: &Repo) -> history_support::Run {
    repo.lapse(&["check", "--base", "main", "--format", "json"])
}

fn messages(run: &history_support::Run) -> String {
    run.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// In one branch sam adds himself to `leads`, alex requests, and sam
/// approves in a commit of his own.
fn escalation(repo: &Repo) {
    repo.git(&["checkout", "-q", "-b", "request"]);
    repo.write(
        "lapse.yaml",
        POLICY.replace(
            "leads: [maria@example.com, li@example.com]",
            "leads: [maria@example.com, li@example.com, sam@example.com]",
        ),
    );
    repo.commit("sam@example.com", "2026-11-08T09:00:00Z", "Sam leads too");
    repo.write(GRANT, grant(EXPIRES, &[]));
    repo.commit("alex@example.com", "2026-11-08T10:00:00Z", "Request");
    repo.write(GRANT, grant(EXPIRES, &["sam@example.com"]));
    repo.commit("sam@example.com", "2026-11-08T11:00:00Z", "Approve");
}

#[test]
fn a_change_that_makes_someone_an_approver_cannot_use_that_authority() {
    let repo = Repo::new();
    escalation(&repo);
    let run = pull_request(&repo);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.rules().contains(&"unauthorized-approver".to_owned()),
        "{}",
        run.stdout
    );
    assert!(
        messages(&run).contains("policy in force before this change"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_audit_after_the_merge_judges_the_escalation_by_the_same_policy() {
    let repo = Repo::new();
    escalation(&repo);
    repo.git(&["checkout", "-q", "main"]);
    repo.git_as(
        "maria@example.com",
        "2026-11-08T12:00:00Z",
        &["merge", "-q", "--no-ff", "-m", "Merge request", "request"],
    );
    let run = audit(&repo);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.rules().contains(&"unauthorized-approver".to_owned()),
        "{}",
        run.stdout
    );
}

/// li's contract ends on the 5th.
fn policy_with_li_leaving() -> String {
    POLICY.replace(
        "  li@example.com: {}",
        "  li@example.com:\n    contract_ends: 2026-11-05T00:00:00Z",
    )
}

#[test]
fn an_approval_recorded_after_the_approvers_contract_ended_counts_for_nothing() {
    let repo = Repo::new();
    repo.write("lapse.yaml", policy_with_li_leaving());
    repo.commit("sam@example.com", "2026-11-02T09:00:00Z", "Li leaves soon");
    repo.git(&["checkout", "-q", "-b", "request"]);
    repo.write(GRANT, grant(EXPIRES, &[]));
    repo.commit("alex@example.com", "2026-11-08T10:00:00Z", "Request");
    // Dated before the contract end; it reaches main after it.
    repo.write(GRANT, grant(EXPIRES, &["li@example.com"]));
    repo.commit("li@example.com", "2026-11-04T10:00:00Z", "Approve");
    let run = pull_request(&repo);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.rules().contains(&"departed-approver".to_owned()),
        "{}",
        run.stdout
    );
    repo.git(&["checkout", "-q", "main"]);
    repo.git_as(
        "maria@example.com",
        "2026-11-08T12:00:00Z",
        &["merge", "-q", "--no-ff", "-m", "Merge request", "request"],
    );
    let run = audit(&repo);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.rules().contains(&"departed-approver".to_owned()),
        "{}",
        run.stdout
    );
    assert!(messages(&run).contains("after their contract ended"));
}

#[test]
fn an_approval_given_before_the_approver_left_stays_valid() {
    let repo = Repo::new();
    repo.write(GRANT, grant(EXPIRES, &[]));
    repo.commit("alex@example.com", "2026-11-03T10:00:00Z", "Request");
    repo.write(GRANT, grant(EXPIRES, &["li@example.com"]));
    repo.commit("li@example.com", "2026-11-03T11:00:00Z", "Approve");
    // li leaves: out of people and of leads, in a pull request of its own.
    repo.git(&["checkout", "-q", "-b", "offboard-li"]);
    repo.write(
        "lapse.yaml",
        POLICY
            .replace("  li@example.com: {}\n", "")
            .replace(", li@example.com]", "]"),
    );
    repo.commit("sam@example.com", "2026-11-06T09:00:00Z", "Li left");
    let run = pull_request(&repo);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    repo.git(&["checkout", "-q", "main"]);
    repo.git_as(
        "maria@example.com",
        "2026-11-06T10:00:00Z",
        &["merge", "-q", "--no-ff", "-m", "Merge", "offboard-li"],
    );
    let run = audit(&repo);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.rules(), Vec::<String>::new());
}

#[test]
fn a_grant_to_a_group_that_holds_all_its_approvers_is_unsatisfiable() {
    let repo = Repo::new();
    repo.write(
        GRANT,
        grant(EXPIRES, &[]).replace("subject: alex@example.com", "subject: group:leads"),
    );
    repo.commit("alex@example.com", "2026-11-08T10:00:00Z", "Leads deploy");
    let run = audit(&repo);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.rules().contains(&"unsatisfiable-approval".to_owned()),
        "{}",
        run.stdout
    );
}

#[test]
fn a_role_added_by_the_change_cannot_be_approved_in_it() {
    let repo = Repo::new();
    repo.git(&["checkout", "-q", "-b", "request"]);
    repo.write(
        "lapse.yaml",
        format!(
            "{POLICY}  reader:\n    approvers: [group:leads]\n    github: {{repository: acme/app, permission: pull}}\n"
        ),
    );
    let reader = grant(EXPIRES, &[]).replace("role: deployer", "role: reader");
    repo.write(GRANT, &reader);
    repo.commit(
        "alex@example.com",
        "2026-11-08T10:00:00Z",
        "A reader role, and a request",
    );
    repo.write(
        GRANT,
        reader.replace("approvers: []", "approvers: [maria@example.com]"),
    );
    repo.commit("maria@example.com", "2026-11-08T11:00:00Z", "Approve");
    let run = pull_request(&repo);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        messages(&run).contains("does not exist in the policy in force before this change"),
        "{}",
        run.stdout
    );
}
