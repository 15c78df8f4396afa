//! What a target would refuse is refused when the policy loads, as an
//! `invalid-policy` error (exit 2) at the field, before anything is
//! rendered: a person's principal that the target would refuse, or that
//! stands for more than the person (naming the person and the field), and
//! a role's target block that its module or provider could not apply.

use crate::common;

use common::{POLICY, Repo};

/// `POLICY` with `field: value` added to sam@example.com, and the line of
/// that field.
fn with_sam_principal(field: &str, value: &str) -> (String, u32) {
    let policy = POLICY.replace(
        "  sam@example.com: {}\n",
        &format!("  sam@example.com:\n    {field}: {value}\n"),
    );
    let line = POLICY
        .lines()
        .position(|l| l == "  sam@example.com: {}")
        .expect("sam is in POLICY") as u32
        + 2;
    (policy, line)
}

/// Asserts that the principal is refused at its field with exit 2, the
/// message naming sam and the field and saying `why`; the one-line
/// `error:` on stderr points at the same place.
fn expect_refused(field: &str, value: &str, why: &str) {
    let (policy, line) = with_sam_principal(field, value);
    let repo = Repo::new(&[("lapse.yaml", &policy)]);
    let checked = repo.check_json();
    assert_eq!(checked.code, Some(2), "{field}: {value}: {checked:#?}");
    let column = 4 + field.len() as u32 + 2 + 1;
    let finding = checked.expect_one("invalid-policy", "error", "lapse.yaml", line, column);
    for part in [&format!("`{field}` of `sam@example.com`"), why] {
        assert!(
            finding.message.contains(part),
            "{field}: {value}: {finding:?}"
        );
    }
    let run = repo.check(&[]);
    assert!(
        run.stderr.contains(&format!("lapse.yaml:{line}:{column}")),
        "{run:?}"
    );
}

fn expect_accepted(field: &str, value: &str) {
    let (policy, _) = with_sam_principal(field, value);
    Repo::new(&[("lapse.yaml", &policy)])
        .check_json()
        .expect_clean();
}

#[test]
fn gcp_members_that_stand_for_everyone_are_refused() {
    for everyone in ["allUsers", "allAuthenticatedUsers"] {
        expect_refused("gcp", everyone, "stands for everyone");
    }
}

#[test]
fn a_gcp_member_without_its_type_is_refused_with_the_form_to_write() {
    expect_refused("gcp", "sam@example.com", "`user:sam@example.com`");
    expect_refused("gcp", "users:sam@example.com", "not a member type");
    expect_refused("gcp", "user:sam", "not a valid user identity");
}

#[test]
fn gcp_members_of_every_grantable_type_are_accepted() {
    for member in [
        "user:sam@example.com",
        "group:analysts@example.com",
        "serviceAccount:sam@analytics-prod.iam.gserviceaccount.com",
        "domain:example.com",
        "principal://iam.googleapis.com/locations/global/workforcePools/staff/subject/sam",
    ] {
        expect_accepted("gcp", member);
    }
}

#[test]
fn an_aws_principal_must_be_a_role_or_user_arn() {
    expect_refused(
        "aws",
        "arn:aws:iam::123456789012:group/payments",
        "only IAM roles and users",
    );
    expect_refused("aws", "sam", "an IAM role or user ARN is needed");
    expect_refused(
        "aws",
        "arn:aws:iam::1234:role/sam",
        "not a 12-digit account id",
    );
    expect_accepted("aws", "arn:aws:iam::123456789012:role/teams/sam");
    expect_accepted("aws", "arn:aws:iam::123456789012:user/sam");
}

#[test]
fn an_azure_principal_must_be_an_object_id() {
    expect_refused("azure", "sam@example.com", "GUID");
    expect_accepted("azure", "3f1c9a52-7d4e-4b8a-9c61-2e5d8f0b7a13");
}

#[test]
fn a_github_principal_must_be_a_login() {
    for login in ["sam@example.com", "-sam", "sam--gh"] {
        expect_refused("github", login, "GitHub login");
    }
    expect_accepted("github", "sam-gh");
}

#[test]
fn a_kubernetes_principal_cannot_be_a_system_identity() {
    expect_refused("kubernetes", "\"system:anonymous\"", "reserved");
    expect_accepted("kubernetes", "sam@example.com");
}

#[test]
fn an_aws_role_in_an_account_that_is_not_an_account_id_is_refused() {
    let policy = POLICY.replacen("account: \"123456789012\"", "account: \"1234\"", 1);
    let line = POLICY
        .lines()
        .position(|l| l.contains("account: \"123456789012\""))
        .expect("an AWS role in POLICY") as u32
        + 1;
    let checked = Repo::new(&[("lapse.yaml", &policy)]).check_json();
    assert_eq!(checked.code, Some(2), "{checked:#?}");
    let finding = checked.expect_one("invalid-policy", "error", "lapse.yaml", line, 16);
    assert!(
        finding.message.contains("not a 12-digit AWS account id"),
        "{finding:?}"
    );
}

/// Line and column of `value` in the first line of `policy` holding it.
fn position_of(policy: &str, value: &str) -> (u32, u32) {
    let (index, line) = policy
        .lines()
        .enumerate()
        .find(|(_, line)| line.contains(value))
        .expect("value in policy");
    (index as u32 + 1, line.find(value).unwrap() as u32 + 1)
}

fn expect_block_refused(role: &str, value: &str, why: &str) {
    let policy = common::policy_with_roles(role);
    let checked = Repo::new(&[("lapse.yaml", &policy)]).check_json();
    assert_eq!(checked.code, Some(2), "{checked:#?}");
    let (line, column) = position_of(&policy, value);
    let finding = checked.expect_one("invalid-policy", "error", "lapse.yaml", line, column);
    assert!(finding.message.contains(why), "{finding:?}");
}

#[test]
fn an_azure_scope_without_its_subscription_id_is_refused() {
    // The PIM assignment's role definition id is scoped to the
    // subscription of the scope, which must therefore name one.
    for scope in [
        "/subscriptions/0000/resourceGroups/payments",
        "/resourceGroups/payments",
    ] {
        let role = format!(
            "  rg-reader:\n    approvers: [maria@example.com]\n    azure: {{scope: {scope}, role: Reader}}\n"
        );
        expect_block_refused(
            &role,
            scope,
            "must start with /subscriptions/<subscription id",
        );
    }
    for scope in [
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/payments",
        "/providers/Microsoft.Management/managementGroups/platform",
    ] {
        let role = format!(
            "  rg-reader:\n    approvers: [maria@example.com]\n    azure: {{scope: {scope}, role: Reader}}\n"
        );
        Repo::new(&[("lapse.yaml", &common::policy_with_roles(&role))])
            .check_json()
            .expect_clean();
    }
}
