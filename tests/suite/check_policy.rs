//! `lapse check` on the policy: a broken `lapse.yaml` ends the run with exit
//! code 2, and the least-privilege rules judge the role catalog, each
//! silenced only by a justified exception on the role.

use crate::common;

use common::{GRANT, POLICY, Repo, first_appended_line, policy_with_roles};

const POLICY_PATH: &str = "lapse.yaml";

fn check_policy(policy: &str) -> common::Checked {
    Repo::new(&[
        ("lapse.yaml", policy),
        ("grants/payments/alex-deploy.yaml", GRANT),
    ])
    .check_json()
}

/// An AWS role `name` with one statement; its `actions:` line is the 6th
/// line of the returned text and its `resources:` line the 7th.
fn aws_role(name: &str, actions: &str, resources: &str) -> String {
    format!(
        "  {name}:
    approvers: [maria@example.com]
    aws:
      account: \"123456789012\"
      statements:
        - actions: {actions}
          resources: {resources}
"
    )
}

/// Line and column of the first action of a role made by `aws_role` and
/// appended first to the policy.
fn first_action() -> (u32, u32) {
    (first_appended_line() + 5, 21)
}

fn resources() -> (u32, u32) {
    (first_appended_line() + 6, 23)
}

mod invalid_policy {
    use super::*;

    /// A broken policy is exit 2, with the finding in the report and a
    /// one-line `error:` naming the file, line and column on stderr.
    fn expect_fatal(policy: &str, rule: &str, line: u32, column: u32) -> common::Finding {
        let repo = Repo::new(&[("lapse.yaml", policy)]);
        let checked = repo.check_json();
        assert_eq!(checked.code, Some(2), "{checked:#?}");
        let finding = checked
            .expect_one(rule, "error", POLICY_PATH, line, column)
            .clone();
        let run = repo.check(&[]);
        assert_eq!(run.code, Some(2));
        let location = format!("lapse.yaml:{line}:{column}");
        assert!(run.stderr.starts_with("error: "), "{run:?}");
        assert!(run.stderr.contains(&location), "{run:?}");
        finding
    }

    #[test]
    fn a_role_with_two_targets_is_fatal() {
        let policy = policy_with_roles(
            "  two:
    approvers: [maria@example.com]
    gcp: {project: p, role: roles/viewer}
    github: {repository: org/repo, permission: pull}
",
        );
        let finding = expect_fatal(&policy, "invalid-policy", first_appended_line() + 1, 5);
        assert!(finding.message.contains("gcp, github"), "{finding:?}");
    }

    #[test]
    fn a_role_without_target_is_fatal() {
        let policy = policy_with_roles(
            "  nothing:
    description: grants nothing at all
    approvers: [maria@example.com]
",
        );
        let finding = expect_fatal(&policy, "invalid-policy", first_appended_line() + 1, 5);
        assert!(finding.message.contains("found none"), "{finding:?}");
    }

    #[test]
    fn an_unsupported_version_is_fatal() {
        let policy = POLICY.replace("version: 1", "version: 2");
        let finding = expect_fatal(&policy, "invalid-policy", 1, 10);
        assert!(finding.message.contains("version 2"), "{finding:?}");
    }

    #[test]
    fn an_unknown_field_in_the_policy_is_a_fatal_parse_error() {
        let policy = POLICY.replace("  warn_before: 7d\n", "  warn_before: 7d\n  colour: blue\n");
        expect_fatal(&policy, "parse-error", 5, 3);
    }

    #[test]
    fn an_approver_group_that_does_not_exist_is_fatal() {
        let policy = POLICY.replace("[group:payments-leads]", "[group:payment-leads]");
        let line = POLICY
            .lines()
            .position(|l| l.contains("[group:payments-leads]"))
            .unwrap() as u32
            + 1;
        expect_fatal(&policy, "invalid-policy", line, 17);
    }

    /// 1-based line of the first line of `POLICY` that contains `text`.
    fn line_of(text: &str) -> u32 {
        POLICY.lines().position(|l| l.contains(text)).unwrap() as u32 + 1
    }

    #[test]
    fn an_alias_that_names_another_person_is_fatal() {
        let policy = POLICY.replace(
            "  li@example.com:\n",
            "  li@example.com:\n    aliases: [Maria@Example.com]\n",
        );
        let finding = expect_fatal(
            &policy,
            "invalid-policy",
            line_of("li@example.com:") + 1,
            15,
        );
        assert!(finding.message.contains("maria@example.com"), "{finding:?}");
    }

    #[test]
    fn two_people_differing_only_in_case_are_fatal() {
        let policy = POLICY.replace(
            "  sam@example.com: {}\n",
            "  sam@example.com: {}\n  Sam@Example.com: {}\n",
        );
        let finding = expect_fatal(&policy, "invalid-policy", 1, 1);
        assert!(finding.message.contains("Sam@Example.com"), "{finding:?}");
    }

    #[test]
    fn groups_and_approvers_may_name_people_by_alias_or_in_another_case() {
        let policy = POLICY
            .replace(
                "[maria@example.com, li@example.com]",
                "[Maria@Example.com, li@example.com]",
            )
            .replace(
                "approvers: [maria@example.com]\n    gcp:",
                "approvers: [maria@users.noreply.github.com]\n    gcp:",
            );
        check_policy(&policy).expect_clean();
        let reader = GRANT.replace("role: payments-deployer", "role: payments-reader");
        Repo::new(&[("lapse.yaml", &policy), ("grants/alex-read.yaml", &reader)])
            .check_json()
            .expect_clean();
    }

    #[test]
    fn the_clean_policy_is_accepted() {
        check_policy(POLICY).expect_clean();
    }
}

mod wildcard_action {
    use super::*;

    fn expect_wildcard(action: &str, reason: &str) {
        let role = aws_role(
            "broad",
            &format!("[\"{action}\"]"),
            "[\"arn:aws:s3:::payments-exports/*\"]",
        );
        let checked = check_policy(&policy_with_roles(&role));
        let (line, column) = first_action();
        let finding = checked.expect_error("wildcard-action", POLICY_PATH, line, column);
        assert!(finding.message.contains(reason), "{action}: {finding:?}");
    }

    #[test]
    fn star_is_every_action_of_every_service() {
        expect_wildcard("*", "every action of every AWS service");
    }

    #[test]
    fn service_star_is_every_action_of_the_service() {
        expect_wildcard("s3:*", "every action of `s3`");
    }

    #[test]
    fn a_prefix_wildcard_also_covers_future_actions() {
        expect_wildcard("s3:Get*", "including ones AWS adds later");
    }

    #[test]
    fn exact_actions_are_fine() {
        let role = aws_role(
            "narrow",
            "[s3:GetObject, s3:PutObject]",
            "[\"arn:aws:s3:::payments-exports/*\"]",
        );
        check_policy(&policy_with_roles(&role)).expect_clean();
    }
}

mod wildcard_resource {
    use super::*;

    #[test]
    fn a_write_action_on_every_resource_is_flagged() {
        let role = aws_role("writer", "[s3:GetObject, s3:PutObject]", "[\"*\"]");
        let checked = check_policy(&policy_with_roles(&role));
        let (line, column) = resources();
        let finding = checked.expect_error("wildcard-resource", POLICY_PATH, line, column);
        assert!(finding.message.contains("s3:PutObject"), "{finding:?}");
    }

    #[test]
    fn read_actions_on_every_resource_are_fine() {
        let role = aws_role(
            "reader",
            "[s3:GetObject, s3:ListBucket, ec2:DescribeInstances]",
            "[\"*\"]",
        );
        check_policy(&policy_with_roles(&role)).expect_clean();
    }
}

mod privilege_escalation {
    use super::*;

    fn expect_escalation(actions: &str, resources: &str, line: u32, column: u32) {
        let role = aws_role("escalating", actions, resources);
        let checked = check_policy(&policy_with_roles(&role));
        checked.expect_error("privilege-escalation", POLICY_PATH, line, column);
    }

    const ROLE_ARN: &str = "[\"arn:aws:iam::123456789012:role/payments-task\"]";

    #[test]
    fn pass_role_on_every_resource_escalates() {
        let (line, column) = first_action();
        expect_escalation("[iam:PassRole]", "[\"*\"]", line, column);
    }

    #[test]
    fn create_policy_version_escalates_even_on_a_named_policy() {
        let (line, column) = first_action();
        let policy = "[\"arn:aws:iam::123456789012:policy/payments\"]";
        expect_escalation("[iam:CreatePolicyVersion]", policy, line, column);
    }

    #[test]
    fn create_function_with_pass_role_escalates() {
        let (line, _) = first_action();
        // `iam:PassRole, ` is 14 characters: the second action starts after it.
        expect_escalation(
            "[iam:PassRole, lambda:CreateFunction]",
            ROLE_ARN,
            line,
            first_action().1 + 14,
        );
    }

    #[test]
    fn assume_role_on_every_resource_escalates() {
        let (line, column) = first_action();
        expect_escalation("[sts:AssumeRole]", "[\"*\"]", line, column);
    }

    #[test]
    fn assume_role_of_a_named_role_is_ordinary_delegation() {
        let role = aws_role("assuming", "[sts:AssumeRole]", ROLE_ARN);
        check_policy(&policy_with_roles(&role)).expect_clean();
    }

    #[test]
    fn pass_role_on_a_named_role_or_create_function_alone_are_fine() {
        let role = aws_role("delegating", "[iam:PassRole]", ROLE_ARN);
        check_policy(&policy_with_roles(&role)).expect_clean();
        let function = "[\"arn:aws:lambda:eu-west-1:123456789012:function:payments-*\"]";
        let role = aws_role("functions", "[lambda:CreateFunction]", function);
        check_policy(&policy_with_roles(&role)).expect_clean();
    }
}

mod admin_role {
    use super::*;

    /// (target block of a role, whether it is owner-level). The value whose
    /// position is reported is always the last one on the block's line.
    const CASES: &[(&str, bool)] = &[
        ("gcp: {project: payments-prod, role: roles/owner}", true),
        ("gcp: {project: payments-prod, role: roles/editor}", true),
        (
            "gcp: {project: payments-prod, role: roles/storage.objectViewer}",
            false,
        ),
        (
            "azure: {scope: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/pay, role: Owner}",
            true,
        ),
        (
            "azure: {scope: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/pay, role: Contributor}",
            true,
        ),
        (
            "azure: {scope: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/pay, role: User Access Administrator}",
            true,
        ),
        (
            "azure: {scope: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/pay, role: Reader}",
            false,
        ),
        (
            "github: {repository: org/payments, permission: admin}",
            true,
        ),
        (
            "github: {repository: org/payments, permission: push}",
            false,
        ),
        (
            "kubernetes: {namespace: payments, cluster_role: cluster-admin}",
            true,
        ),
        (
            "kubernetes: {namespace: payments, cluster_role: view}",
            false,
        ),
    ];

    fn role_with(target: &str, extra: &str) -> String {
        format!("  target-role:\n    approvers: [maria@example.com]\n{extra}    {target}\n")
    }

    /// Column of the value after the last `: ` of a target line.
    fn value_column(target: &str) -> u32 {
        (4 + target.rfind(": ").unwrap() + 2 + 1) as u32
    }

    #[test]
    fn owner_level_roles_of_every_target_are_flagged_and_narrow_ones_are_not() {
        for (target, is_admin) in CASES {
            let checked = check_policy(&policy_with_roles(&role_with(target, "")));
            if *is_admin {
                let line = first_appended_line() + 2;
                checked.expect_error("admin-role", POLICY_PATH, line, value_column(target));
            } else {
                checked.expect_clean();
            }
        }
    }

    const JUSTIFIED: &str = "    exceptions:\n      - rule: admin-role\n        justification: Break-glass access for the incident commander\n";

    #[test]
    fn a_justified_exception_silences_admin_role_on_that_role_only() {
        let excepted = role_with(CASES[0].0, JUSTIFIED);
        let other = role_with(CASES[1].0, "").replace("target-role", "other-role");
        let checked = check_policy(&policy_with_roles(&format!("{excepted}{other}")));
        let other_line = first_appended_line() + excepted.lines().count() as u32 + 2;
        checked.expect_error(
            "admin-role",
            POLICY_PATH,
            other_line,
            value_column(CASES[1].0),
        );
    }

    #[test]
    fn an_exception_silences_exactly_the_rule_it_names() {
        let role = aws_role("everything", "[\"*\"]", "[\"*\"]").replace(
            "    aws:\n",
            "    exceptions:\n      - rule: wildcard-action\n        justification: Sandbox account that is wiped every night\n    aws:\n",
        );
        let checked = check_policy(&policy_with_roles(&role));
        checked.expect_none_of("wildcard-action");
        let (line, column) = resources();
        checked.expect_error("wildcard-resource", POLICY_PATH, line + 3, column);
        assert!(!checked.of_rule("privilege-escalation").is_empty());
    }

    #[test]
    fn an_exception_without_a_written_justification_is_fatal() {
        let role = role_with(CASES[0].0, JUSTIFIED)
            .replace("Break-glass access for the incident commander", "\"ok\"");
        let checked = Repo::new(&[("lapse.yaml", &policy_with_roles(&role))]).check_json();
        assert_eq!(checked.code, Some(2), "{checked:#?}");
        checked.expect_one(
            "invalid-policy",
            "error",
            POLICY_PATH,
            first_appended_line() + 4,
            24,
        );
    }

    #[test]
    fn an_exception_for_a_rule_that_cannot_be_excepted_is_fatal() {
        let role = role_with(
            CASES[2].0,
            &JUSTIFIED.replace("admin-role", "self-approval"),
        );
        let checked = check_policy(&policy_with_roles(&role));
        assert_eq!(checked.code, Some(2), "{checked:#?}");
        let finding = checked.expect_one(
            "invalid-policy",
            "error",
            POLICY_PATH,
            first_appended_line() + 3,
            15,
        );
        assert!(finding.message.contains("self-approval"), "{finding:?}");
    }
}

mod basic_role {
    use super::*;

    fn gcp_role(role: &str, extra: &str) -> String {
        format!(
            "  analytics:\n    approvers: [maria@example.com]\n{extra}    gcp: {{project: analytics-prod, role: {role}}}\n"
        )
    }

    /// Line and column of the `role:` value of the role `gcp_role` makes,
    /// after `extra_lines` lines of `extra`.
    fn role_value(role: &str, extra_lines: u32) -> (u32, u32) {
        let line = first_appended_line() + 2 + extra_lines;
        let text = format!("    gcp: {{project: analytics-prod, role: {role}}}");
        (line, text.find(role).unwrap() as u32 + 1)
    }

    #[test]
    fn every_basic_role_is_refused_because_it_cannot_expire() {
        for role in ["roles/viewer", "roles/editor", "roles/owner"] {
            let checked = check_policy(&policy_with_roles(&gcp_role(role, "")));
            let (line, column) = role_value(role, 0);
            let finding = checked.expect_error("basic-role", POLICY_PATH, line, column);
            assert!(finding.message.contains("could not expire"), "{finding:?}");
        }
    }

    #[test]
    fn an_admin_role_exception_does_not_let_a_basic_role_through() {
        let exception = "    exceptions:\n      - rule: admin-role\n        justification: Break-glass access for the incident commander\n";
        let checked = check_policy(&policy_with_roles(&gcp_role("roles/owner", exception)));
        checked.expect_none_of("admin-role");
        let (line, column) = role_value("roles/owner", 3);
        checked.expect_error("basic-role", POLICY_PATH, line, column);
    }

    #[test]
    fn basic_role_cannot_be_excepted() {
        let exception = "    exceptions:\n      - rule: basic-role\n        justification: We know it cannot carry the condition\n";
        let checked = check_policy(&policy_with_roles(&gcp_role("roles/viewer", exception)));
        assert_eq!(checked.code, Some(2), "{checked:#?}");
        let finding = checked.expect_one(
            "invalid-policy",
            "error",
            POLICY_PATH,
            first_appended_line() + 3,
            15,
        );
        assert!(finding.message.contains("basic-role"), "{finding:?}");
    }

    #[test]
    fn predefined_roles_are_fine() {
        let role = gcp_role("roles/bigquery.dataViewer", "");
        check_policy(&policy_with_roles(&role)).expect_clean();
    }
}

mod policy_size {
    use super::*;

    /// `POLICY` with `count` more people, about 110 bytes each.
    fn policy_with_people(count: usize) -> String {
        let people: String = (0..count)
            .map(|i| {
                format!(
                    "  person{i:05}@example.com:\n    aliases: [p{i}@users.noreply.github.com]\n    github: person{i:05}-gh\n"
                )
            })
            .collect();
        POLICY.replace("people:\n", &format!("people:\n{people}"))
    }

    #[test]
    fn the_policy_of_a_large_organisation_is_read() {
        let policy = policy_with_people(1000);
        assert!(policy.len() > 64 * 1024);
        check_policy(&policy).expect_clean();
    }

    #[test]
    fn a_policy_over_one_mebibyte_is_refused_with_exit_2() {
        let policy = policy_with_people(12_000);
        let run = Repo::new(&[("lapse.yaml", &policy)]).check(&[]);
        assert_eq!(run.code, Some(2), "{run:?}");
        assert!(run.stderr.contains("larger than 1024 KiB"), "{run:?}");
    }
}
