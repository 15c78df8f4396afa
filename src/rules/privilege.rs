//! Least privilege in the role catalog. A role is reviewed once and granted
//! many times, so a wildcard or an escalation path in it is multiplied by
//! every grant. Each finding can be accepted only through an exception with
//! a written justification on the role (`exceptions:` in lapse.yaml).

use std::path::Path;

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::model::policy::EXCEPTABLE_RULES;
use crate::model::{Policy, Spanned};
use crate::targets::aws::{self, AwsStatement};
use crate::targets::{NamedRoles, Privileges, TargetBlock};

use super::iam_pattern::{action_matches, matches_every_resource, matches_every_role};

pub const WILDCARD_ACTION: Rule = Rule {
    id: "wildcard-action",
    severity: Severity::Error,
    summary: "an AWS action is `*`, `service:*` or a prefix wildcard such as `s3:Get*`",
    help: "list the exact actions the role needs: a wildcard also grants every action AWS adds to the service later",
};

pub const WILDCARD_RESOURCE: Rule = Rule {
    id: "wildcard-resource",
    severity: Severity::Error,
    summary: "a statement with write actions applies to resource `*`",
    help: "name the resources (ARNs, or ARN prefixes ending in a path wildcard) the write actions may touch",
};

pub const PRIVILEGE_ESCALATION: Rule = Rule {
    id: "privilege-escalation",
    severity: Severity::Error,
    summary: "the role contains an action that lets its holder give themselves more access",
    help: "remove the action, or scope it to named resources and add an `exceptions` entry with the justification",
};

pub const ADMIN_ROLE: Rule = Rule {
    id: "admin-role",
    severity: Severity::Error,
    summary: "the role is a basic or owner-level role (owner, editor, Owner, Contributor, admin, cluster-admin)",
    help: "use a narrower predefined role, or add an `exceptions` entry with the justification",
};

pub const BASIC_ROLE: Rule = Rule {
    id: "basic-role",
    severity: Severity::Error,
    summary: "the role is a GCP basic role (roles/viewer, roles/editor, roles/owner), which cannot carry the IAM condition that ends a grant",
    help: "use a predefined role such as roles/bigquery.dataViewer or roles/run.developer; Google refuses conditions on basic roles, so no exception can allow one",
};

pub fn check(policy: &Policy, policy_path: &Path, findings: &mut Vec<Diagnostic>) {
    for (name, role) in &policy.roles {
        let mut role_findings = Vec::new();
        if let Some(target) = role.target() {
            check_target(name, target, policy_path, &mut role_findings);
        }
        // Only the rules of EXCEPTABLE_RULES yield to an exception, whatever
        // the policy says: `basic-role` never does.
        findings.extend(role_findings.into_iter().filter(|finding| {
            !(EXCEPTABLE_RULES.contains(&finding.rule) && role.has_exception(finding.rule))
        }));
    }
}

fn check_target(
    role_name: &str,
    target: &dyn TargetBlock,
    path: &Path,
    findings: &mut Vec<Diagnostic>,
) {
    match target.privileges() {
        Privileges::Statements(statements) => {
            check_statements(role_name, statements, path, findings);
        }
        Privileges::Named { granted, lists } => {
            check_named_role(role_name, target, granted, lists, path, findings);
        }
        Privileges::Nothing => {}
    }
}

fn check_statements(
    role_name: &str,
    statements: &[AwsStatement],
    path: &Path,
    findings: &mut Vec<Diagnostic>,
) {
    let passes_role_anywhere = statements
        .iter()
        .flat_map(|s| &s.actions)
        .any(|action| action_matches(action, "iam:passrole"));
    for statement in statements {
        // Judged by what the patterns match, not by how they are spelt.
        let every_role = statement.resources.iter().find(|r| matches_every_role(r));
        for action in &statement.actions {
            let lowered = action.trim().to_ascii_lowercase();
            if lowered.contains('*') || lowered.contains('?') {
                findings.push(WILDCARD_ACTION.at(
                    path,
                    action.at,
                    wildcard_reason(role_name, &lowered),
                ));
            }
            let reason = escalation_reason(&lowered, every_role, passes_role_anywhere);
            if let Some(reason) = reason {
                findings.push(PRIVILEGE_ESCALATION.at(
                    path,
                    action.at,
                    format!("role `{role_name}` allows `{}` {reason}", action.value),
                ));
            }
        }
        let every_resource = statement
            .resources
            .iter()
            .find(|r| matches_every_resource(r));
        if let Some(resource) = every_resource
            && let Some(write) = statement.actions.iter().find(|a| !is_read_only(a))
        {
            findings.push(WILDCARD_RESOURCE.at(
                path,
                resource.at,
                format!(
                    "role `{role_name}` allows write action `{}` on `{}`, which matches every resource{}",
                    write.value,
                    resource.value,
                    service_of(resource).map(|service| format!(" of {service}")).unwrap_or_default()
                ),
            ));
        }
    }
}

/// The service a resource pattern names, when it names one.
fn service_of(pattern: &str) -> Option<&str> {
    pattern
        .trim()
        .split(':')
        .nth(2)
        .filter(|service| !service.is_empty() && !service.contains(['*', '?']))
}

/// Why `action` (lower-cased) lets its holder raise their own access, if it
/// does: always, only on a pattern that matches every role (`every_role`),
/// or only beside iam:PassRole.
fn escalation_reason(
    action: &str,
    every_role: Option<&Spanned<String>>,
    passes_role: bool,
) -> Option<String> {
    let listed = |list: &[&'static str]| -> Option<&'static str> {
        list.iter()
            .copied()
            .find(|known| action_matches(action, known))
    };
    if let Some(found) = listed(aws::ESCALATION_ACTIONS) {
        Some(format!("which can grant more access ({found})"))
    } else if let Some(roles) = every_role
        && listed(aws::ESCALATION_ON_EVERY_ROLE).is_some()
    {
        Some(format!(
            "on `{}`, which matches every role: its holder can become any of them",
            roles.value
        ))
    } else if passes_role && listed(aws::ESCALATION_WITH_PASSROLE).is_some() {
        Some("together with iam:PassRole: new compute runs with the passed role".to_owned())
    } else {
        None
    }
}

fn wildcard_reason(role_name: &str, action: &str) -> String {
    if action == "*" {
        format!("role `{role_name}` allows every action of every AWS service")
    } else if action.ends_with(":*") {
        format!(
            "role `{role_name}` allows every action of `{}`",
            action.trim_end_matches(":*")
        )
    } else {
        format!(
            "role `{role_name}` allows every action matching `{action}`, including ones AWS adds later"
        )
    }
}

fn is_read_only(action: &str) -> bool {
    let lowered = action.trim().to_ascii_lowercase();
    let Some((_, verb)) = lowered.split_once(':') else {
        return false;
    };
    !verb.contains('*')
        && aws::READ_PREFIXES
            .iter()
            .any(|prefix| verb.starts_with(prefix))
}

fn check_named_role(
    role_name: &str,
    target: &dyn TargetBlock,
    granted: &Spanned<String>,
    lists: &NamedRoles,
    path: &Path,
    findings: &mut Vec<Diagnostic>,
) {
    let lowered = granted.trim().to_lowercase();
    if lists.basic.contains(&lowered.as_str()) {
        findings.push(BASIC_ROLE.at(
            path,
            granted.at,
            format!(
                "role `{role_name}` grants `{}`, a basic role: {} takes no IAM condition on it, so the grant could not expire and the binding fails at apply",
                granted.value,
                target.kind().name
            ),
        ));
    }
    if let Some((_, what)) = lists.escalation.iter().find(|(role, _)| *role == lowered) {
        findings.push(PRIVILEGE_ESCALATION.at(
            path,
            granted.at,
            format!(
                "role `{role_name}` grants `{}` on {}, whose holder {what}",
                granted.value,
                target.kind().name
            ),
        ));
    }
    if lists.admin.contains(&lowered.as_str()) {
        findings.push(ADMIN_ROLE.at(
            path,
            granted.at,
            format!(
                "role `{role_name}` grants `{}` on {}, an owner-level role",
                granted.value,
                target.kind().name
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_accepts_exceptions_for_exactly_these_rules() {
        let ids: Vec<_> = [
            &WILDCARD_ACTION,
            &WILDCARD_RESOURCE,
            &PRIVILEGE_ESCALATION,
            &ADMIN_ROLE,
        ]
        .iter()
        .map(|rule| rule.id)
        .collect();
        assert_eq!(ids, crate::model::policy::EXCEPTABLE_RULES);
    }

    #[test]
    fn read_only_actions_are_recognised_by_verb() {
        assert!(is_read_only("s3:GetObject"));
        assert!(is_read_only("ecs:DescribeServices"));
        assert!(!is_read_only("s3:PutObject"));
        assert!(!is_read_only("s3:Get*"));
    }
}
