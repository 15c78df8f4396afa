//! Policy changes need approval by `owners` of the policy before them, who
//! did not write them: in the pull request, in the audit after the merge,
//! and before render provisions anything under the changed policy.

use crate::history_support;

use history_support::{POLICY, Repo, grant};

/// The history kit's policy with sam and li as owners.
fn owned_policy() -> String {
    POLICY
        .replace("roles:", "owners: [group:security]\nroles:")
        .replace(
            "groups:\n",
            "groups:\n  security: [sam@example.com, li@example.com]\n",
        )
}

fn repo_with_owners() -> Repo {
    let repo = Repo::new();
    repo.write("lapse.yaml", owned_policy());
    repo.commit("maria@example.com", "2026-11-02T09:00:00Z", "Owners");
    repo
}

/// sam, an owner, widens the role in a pull request of his own.
fn widen_role(repo: &Repo) {
    repo.git(&["checkout", "-q", "-b", "widen"]);
    repo.write(
        "lapse.yaml",
        owned_policy().replace("permission: push", "permission: maintain"),
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
    assert_eq!(run.code, Some(1), "{}", run.stdout);
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
    assert_eq!(run.code, Some(0), "{}", run.stdout);
}

#[test]
fn an_approval_of_an_earlier_state_of_the_policy_does_not_count() {
    let repo = repo_with_owners();
    widen_role(&repo);
    approve_policy(&repo, "li@example.com", "2026-11-08T10:00:00Z");
    repo.write(
        "lapse.yaml",
        owned_policy().replace("permission: push", "permission: admin"),
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
        owned_policy().replace("permission: push", "permission: maintain"),
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
    assert_eq!(render.code, Some(2), "{}", render.stderr);
    assert!(
        render.stderr.contains("nothing was rendered"),
        "{}",
        render.stderr
    );
    assert!(!repo.path().join("generated").exists());

    // li approves the policy as it is, after the fact.
    approve_policy(&repo, "li@example.com", "2026-11-09T09:00:00Z");
    let audit = repo.lapse(&["check", "--format", "json"]);
    assert_eq!(audit.code, Some(0), "{}", audit.stdout);
    let render = repo.lapse(&["render"]);
    assert_eq!(render.code, Some(0), "{}", render.stderr);
}

#[test]
fn without_owners_in_the_policy_before_the_change_nothing_is_required() {
    let repo = Repo::new();
    repo.git(&["checkout", "-q", "-b", "introduce"]);
    repo.write("lapse.yaml", owned_policy());
    repo.commit(
        "sam@example.com",
        "2026-11-08T09:00:00Z",
        "Owners from now on",
    );
    let run = pull_request(&repo);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
}

/// sam changes lapse.yaml to `policy` in a pull request of his own.
fn propose_policy(repo: &Repo, policy: &str) {
    repo.git(&["checkout", "-q", "-b", "proposal"]);
    repo.write("lapse.yaml", policy);
    repo.commit("sam@example.com", "2026-11-08T09:00:00Z", "Policy");
}

/// Offboarding never waits: a change of lapse.yaml that only takes access
/// away needs no owner.
#[test]
fn removing_a_person_and_ending_a_contract_earlier_need_no_owner() {
    let repo = repo_with_owners();
    let offboarded = owned_policy()
        .replace("  li@example.com: {}\n", "")
        .replace("[maria@example.com, li@example.com]", "[maria@example.com]")
        .replace(
            "security: [sam@example.com, li@example.com]",
            "security: [sam@example.com]",
        )
        .replace(
            "  alex@example.com: {github: alex-gh}",
            "  alex@example.com: {github: alex-gh, contract_ends: 2026-11-20T00:00:00Z}",
        );
    propose_policy(&repo, &offboarded);
    let run = pull_request(&repo);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(run.rules().is_empty(), "{}", run.stdout);
}

/// Anything beside the revocation makes it a policy change again.
#[test]
fn a_revocation_with_anything_else_in_it_needs_an_owner() {
    let base = owned_policy().replace(
        "  li@example.com: {}",
        "  li@example.com: {contract_ends: 2026-12-01T00:00:00Z}",
    );
    let cases = [
        (
            "and a person added to a group",
            base.replace(
                "  li@example.com: {contract_ends: 2026-12-01T00:00:00Z}\n",
                "",
            )
            .replace(
                "[maria@example.com, li@example.com]",
                "[maria@example.com, sam@example.com]",
            )
            .replace("[sam@example.com, li@example.com]", "[sam@example.com]"),
        ),
        (
            "a contract end moved later",
            base.replace("2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"),
        ),
        (
            "a person removed and a role widened",
            base.replace("  alex@example.com: {github: alex-gh}\n", "")
                .replace("permission: push", "permission: admin"),
        ),
        (
            "owners left fewer than one approval needs",
            base.replace(
                "security: [sam@example.com, li@example.com]",
                "security: []",
            ),
        ),
    ];
    for (what, policy) in cases {
        let repo = Repo::new();
        repo.write("lapse.yaml", &base);
        repo.commit("maria@example.com", "2026-11-02T09:00:00Z", "Owners");
        propose_policy(&repo, &policy);
        let rules = pull_request(&repo).rules();
        assert!(
            rules.contains(&"policy-change-unapproved".to_owned()),
            "{what}: {rules:?}"
        );
    }
}

/// In the audit a revocation after an unapproved change does not hide it,
/// and an approval given before the revocation still covers the change.
#[test]
fn the_audit_looks_past_revocations_to_the_last_real_change() {
    let repo = repo_with_owners();
    let widened = owned_policy().replace("permission: push", "permission: maintain");
    repo.write("lapse.yaml", &widened);
    repo.commit(
        "sam@example.com",
        "2026-11-08T09:00:00Z",
        "Maintain, not push",
    );
    let without_alex = widened.replace("  alex@example.com: {github: alex-gh}\n", "");
    repo.write("lapse.yaml", &without_alex);
    repo.commit("maria@example.com", "2026-11-08T10:00:00Z", "Alex left");
    let audit = repo.lapse(&["check", "--format", "json"]);
    assert_eq!(
        audit.rules(),
        ["policy-change-unapproved"],
        "{}",
        audit.stdout
    );
    // The finding names the change that widened the role, not the revocation.
    let widening = repo.git(&["rev-parse", "--short=12", "HEAD~1"]);
    let revocation = repo.git(&["rev-parse", "--short=12", "HEAD"]);
    assert!(
        audit
            .stdout
            .contains(&format!("(commit {})", widening.trim())),
        "{}",
        audit.stdout
    );
    assert!(
        !audit.stdout.contains(revocation.trim()),
        "{}",
        audit.stdout
    );

    let repo = repo_with_owners();
    repo.write("lapse.yaml", &widened);
    repo.commit(
        "sam@example.com",
        "2026-11-08T09:00:00Z",
        "Maintain, not push",
    );
    approve_policy(&repo, "li@example.com", "2026-11-08T09:30:00Z");
    repo.write("lapse.yaml", &without_alex);
    repo.commit("maria@example.com", "2026-11-08T10:00:00Z", "Alex left");
    let audit = repo.lapse(&["check", "--format", "json"]);
    assert_eq!(audit.code, Some(0), "{}", audit.stdout);
}
