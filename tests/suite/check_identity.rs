//! `missing-identity`: a grant whose subject, or a member of whose subject
//! group, has no principal at the role's target is an error in check, on
//! the grant's `subject` line, instead of a render that stops for the
//! whole repository after the merge.

use crate::common;

use common::{GRANT, Repo, policy_with_roles};

const ROLES: &str = "  repo-push:
    approvers: [group:payments-leads]
    github: {repository: example-org/payments-api, permission: push}
  k8s-view:
    approvers: [group:payments-leads]
    kubernetes: {namespace: payments, cluster_role: view}
  sso-deployer:
    approvers: [group:payments-leads]
    aws_sso:
      instance: arn:aws:sso:::instance/ssoins-1234567890abcdef
      account: \"123456789012\"
      statements:
        - actions: [ecs:UpdateService]
          resources: [\"arn:aws:ecs:eu-west-1:123456789012:service/payments/*\"]
  platform-team:
    approvers: [group:payments-leads]
    github: {team: example-org/platform}
";

fn check(subject: &str, role: &str) -> common::Checked {
    let grant = GRANT
        .replace(
            "subject: alex@contractor.example",
            &format!("subject: {subject}"),
        )
        .replace("role: payments-deployer", &format!("role: {role}"));
    Repo::new(&[
        ("lapse.yaml", &policy_with_roles(ROLES)),
        ("grants/payments/the-grant.yaml", &grant),
    ])
    .check_json()
}

#[test]
fn a_person_without_a_principal_at_the_target_is_an_error_on_the_subject() {
    // Sam has AWS and GCP principals in the policy, but no GitHub login.
    let checked = check("sam@example.com", "repo-push");
    let finding = checked.expect_error("missing-identity", "grants/payments/the-grant.yaml", 1, 10);
    assert!(
        finding
            .message
            .contains("sam@example.com has no `github` principal"),
        "{finding:?}"
    );
    assert!(
        finding.message.contains("people.sam@example.com.github"),
        "{finding:?}"
    );
}

#[test]
fn each_group_member_without_a_principal_is_named() {
    // oncall is Alex and Sam, neither of whom has a GitHub login.
    let checked = check("group:oncall", "repo-push");
    let found = checked.of_rule("missing-identity");
    let named: Vec<bool> = ["alex@contractor.example", "sam@example.com"]
        .iter()
        .map(|person| {
            found.iter().any(|f| {
                f.message
                    .contains(&format!("{person}, a member of `group:oncall`"))
                    && f.line == 1
            })
        })
        .collect();
    assert_eq!(named, [true, true], "{found:#?}");
    assert_eq!(found.len(), 2, "{found:#?}");
}

#[test]
fn subjects_with_principals_or_a_default_are_provisionable() {
    // payments-leads are Maria and Li, who both have GitHub logins; a
    // Kubernetes user defaults to the person's e-mail.
    check("group:payments-leads", "repo-push").expect_none_of("missing-identity");
    check("sam@example.com", "k8s-view").expect_none_of("missing-identity");
    check("alex@contractor.example", "payments-deployer").expect_clean();
}

#[test]
fn the_new_targets_need_their_own_principals() {
    // Nobody in the policy has an Identity Center user id; Sam has no
    // GitHub login, which a team membership needs as a collaborator does.
    let finding = check("alex@contractor.example", "sso-deployer")
        .expect_error("missing-identity", "grants/payments/the-grant.yaml", 1, 10)
        .clone();
    assert!(
        finding.message.contains("no `aws_sso` principal"),
        "{finding:?}"
    );
    let finding = check("sam@example.com", "platform-team")
        .expect_error("missing-identity", "grants/payments/the-grant.yaml", 1, 10)
        .clone();
    assert!(
        finding.message.contains("no `github` principal"),
        "{finding:?}"
    );
}
