//! Policy changes need approval by `owners` of the policy before them, who
//! did not write them: in the pull request, in the audit after the merge,
//! and before render provisions anything under the changed policy.

use crate::history_support;

use history_support::{POLICY, Repo, grant};

/// The history kit's policy with sam and li as owners.
fn owned_policy() -> String {
    POLICY
        .replace(
            "  alex@example.com: {}",
            "  alex@example.com: {github: alex-gh}",
        )
        .replace("roles:", "owners: [group:security]\nroles:")
        .replace(
            "groups:\n",
            "groups:\n  security: [sam@example.com, li@example.com]\n",
        )
}

fn repo_with_owners() -> Repo {
    let repo = Repo::new();
    repo.write("lapse.yaml", &owned_policy());
    repo.commit("maria@example.com", "2026-11-02T09:00:00Z", "Owners");
    repo
}

/// sam, an owner, widens the role in a pull request of his own.
fn widen_role(repo: &Repo) {
    repo.git(&["checkout", "-q", "-b", "widen"]);
    repo.write(
        "lapse.yaml",
        &owned_policy().replace("permission: push", "permission: maintain"),
    );
    repo.commit(
        "sam@example.com",
        "2026-11-08T09:00:00Z",
        "Maintain, not push",
    );
}

fn approve_policy(repo: &Repo, owner: &str, when: &str) {
    repo.commit(
        owner,
        when,
        "Approve the policy change\n\nLapse-Approves: policy",
    );
}

fn pull_request(repo: &Repo) -> history_support::Run {
    repo.lapse(&["check", "--base", "main", "--format", "json"])
}

#[test]
fn a_policy_change_without_an_owners_approval_fails() {
    let repo = repo_with_owners();
    widen_role(&repo);
    let run = pull_request(&repo);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.rules(), ["policy-change-unapproved"], "{}", run.stdout);
    assert!(run.stdout.contains("lapse.yaml"), "{}", run.stdout);
}

#[test]
fn the_owner_who_wrote_the_change_cannot_approve_it_another_can() {
    let repo = repo_with_owners();
    widen_role(&repo);
    approve_policy(&repo, "sam@example.com", "2026-11-08T10:00:00Z");
    assert_eq!(pull_request(&repo).rules(), ["policy-change-unapproved"]);
    approve_policy(&repo, "li@example.com", "2026-11-08T11:00:00Z");
    let run = pull_request(&repo);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn an_approval_of_an_earlier_state_of_the_policy_does_not_count() {
    let repo = repo_with_owners();
    widen_role(&repo);
    approve_policy(&repo, "li@example.com", "2026-11-08T10:00:00Z");
    repo.write(
        "lapse.yaml",
        &owned_policy().replace("permission: push", "permission: admin"),
    );
    repo.commit("sam@example.com", "2026-11-08T11:00:00Z", "Admin after all");
    let rules = pull_request(&repo).rules();
    assert!(
        rules.contains(&"policy-change-unapproved".to_owned()),
        "{rules:?}"
    );
    assert!(rules.contains(&"admin-role".to_owned()), "{rules:?}");
}

#[test]
fn templates_and_modules_are_part_of_the_policy() {
    let repo = repo_with_owners();
    repo.git(&["checkout", "-q", "-b", "template"]);
    repo.write("templates/github.tf.j2", "# overridden\n");
    repo.commit("sam@example.com", "2026-11-08T09:00:00Z", "Own template");
    let run = pull_request(&repo);
    assert_eq!(run.rules(), ["policy-change-unapproved"], "{}", run.stdout);
    assert!(run.stdout.contains("templates/"), "{}", run.stdout);
}

#[test]
fn the_audit_judges_the_policy_in_force_and_render_provisions_nothing_under_an_unapproved_one() {
    let repo = repo_with_owners();
    let alex = grant("2026-11-14T17:00:00Z", &["maria@example.com"]);
    repo.write("grants/team/alex-deploy.yaml", &alex);
    repo.commit("sam@example.com", "2026-11-03T09:00:00Z", "Alex deploys");
    // A direct push to main, past any review.
    repo.write(
        "lapse.yaml",
        &owned_policy().replace("permission: push", "permission: maintain"),
    );
    repo.commit(
        "sam@example.com",
        "2026-11-08T09:00:00Z",
        "Maintain, not push",
    );
    let audit = repo.lapse(&["check", "--format", "json"]);
    assert_eq!(
        audit.rules(),
        ["policy-change-unapproved"],
        "{}",
        audit.stdout
    );
    let render = repo.lapse(&["render"]);
    assert_eq!(render.code, 2, "{}", render.stderr);
    assert!(
        render.stderr.contains("nothing was rendered"),
        "{}",
        render.stderr
    );
    assert!(!repo.path().join("generated").exists());

    // li approves the policy as it is, after the fact.
    approve_policy(&repo, "li@example.com", "2026-11-09T09:00:00Z");
    let audit = repo.lapse(&["check", "--format", "json"]);
    assert_eq!(audit.code, 0, "{}", audit.stdout);
    let render = repo.lapse(&["render"]);
    assert_eq!(render.code, 0, "{}", render.stderr);
}

#[test]
fn without_owners_in_the_policy_before_the_change_nothing_is_required() {
    let repo = Repo::new();
    repo.git(&["checkout", "-q", "-b", "introduce"]);
    repo.write("lapse.yaml", &owned_policy());
    repo.commit(
        "sam@example.com",
        "2026-11-08T09:00:00Z",
        "Owners from now on",
    );
    let run = pull_request(&repo);
    assert_eq!(run.code, 0, "{}", run.stdout);
}
