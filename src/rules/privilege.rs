//! Least privilege in the role catalog. A role is reviewed once and granted
//! many times, so a wildcard or an escalation path in it is multiplied by
//! every grant. Each finding can be accepted only through an exception with
//! a written justification on the role (`exceptions:` in lapse.yaml).

use std::path::Path;

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::model::policy::EXCEPTABLE_RULES;
use crate::model::{Policy, Spanned};
use crate::targets::aws::AwsStatement;
use crate::targets::{NamedRoles, Privileges, TargetBlock};

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

/// IAM actions that let a principal raise its own privileges. Sources:
/// Rhino Security Labs, "AWS IAM Privilege Escalation – Methods and
/// Mitigations", and the pathfinding.cloud catalogue. Compared
/// case-insensitively, as IAM does.
const ESCALATION_ACTIONS: &[&str] = &[
    "iam:createpolicyversion",
    "iam:setdefaultpolicyversion",
    "iam:attachuserpolicy",
    "iam:attachgrouppolicy",
    "iam:attachrolepolicy",
    "iam:putuserpolicy",
    "iam:putgrouppolicy",
    "iam:putrolepolicy",
    "iam:createaccesskey",
    "iam:createloginprofile",
    "iam:updateloginprofile",
    "iam:addusertogroup",
    "iam:updateassumerolepolicy",
    "iam:createuser",
    "iam:createrole",
    "iam:putuserpermissionsboundary",
    "iam:putrolepermissionsboundary",
    "iam:deleteuserpermissionsboundary",
    "iam:deleterolepermissionsboundary",
    "glue:updatedevendpoint",
    "cloudformation:createstack",
    "datapipeline:createpipeline",
    "ssm:sendcommand",
    "ssm:startsession",
    "ec2:createlaunchtemplateversion",
    "lambda:updatefunctioncode",
    "lambda:updatefunctionconfiguration",
];

/// Escalating only on `*`: on a named resource they are ordinary delegation.
const ESCALATION_ON_ANY_RESOURCE: &[&str] = &["iam:passrole", "sts:assumerole"];

/// Actions that become an escalation path when the same role may also pass
/// a role: the new compute runs with the passed role's permissions.
const ESCALATION_WITH_PASSROLE: &[&str] = &[
    "lambda:createfunction",
    "ec2:runinstances",
    "ecs:runtask",
    "ecs:registertaskdefinition",
    "glue:createdevendpoint",
    "cloudformation:createstack",
    "codebuild:createproject",
    "sagemaker:createnotebookinstance",
    "datapipeline:createpipeline",
];

/// Action-name prefixes that only read, per AWS's own naming convention;
/// anything else is treated as a write.
const READ_PREFIXES: &[&str] = &[
    "get", "list", "describe", "view", "search", "lookup", "head", "batchget", "query", "scan",
    "select",
];

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
        let any_resource = statement.resources.iter().find(|r| r.trim() == "*");
        for action in &statement.actions {
            let lowered = action.trim().to_ascii_lowercase();
            if lowered.contains('*') || lowered.contains('?') {
                findings.push(WILDCARD_ACTION.at(
                    path,
                    action.at,
                    wildcard_reason(role_name, &lowered),
                ));
            }
            let reason = escalation_reason(&lowered, any_resource.is_some(), passes_role_anywhere);
            if let Some(reason) = reason {
                findings.push(PRIVILEGE_ESCALATION.at(
                    path,
                    action.at,
                    format!("role `{role_name}` allows `{}` {reason}", action.value),
                ));
            }
        }
        if let Some(resource) = any_resource
            && let Some(write) = statement.actions.iter().find(|a| !is_read_only(a))
        {
            findings.push(WILDCARD_RESOURCE.at(
                path,
                resource.at,
                format!(
                    "role `{role_name}` allows write action `{}` on every resource",
                    write.value
                ),
            ));
        }
    }
}

/// Why `action` (lower-cased) lets its holder raise their own access, if it
/// does: always, only on resource `*`, or only beside iam:PassRole.
fn escalation_reason(action: &str, on_any_resource: bool, passes_role: bool) -> Option<String> {
    let listed = |list: &[&'static str]| -> Option<&'static str> {
        list.iter()
            .copied()
            .find(|known| action_matches(action, known))
    };
    if let Some(found) = listed(ESCALATION_ACTIONS) {
        Some(format!("which can grant more access ({found})"))
    } else if on_any_resource && listed(ESCALATION_ON_ANY_RESOURCE).is_some() {
        Some("on every resource".to_owned())
    } else if passes_role && listed(ESCALATION_WITH_PASSROLE).is_some() {
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

/// Whether `action` (possibly with IAM wildcards) covers `known`.
fn action_matches(action: &str, known: &str) -> bool {
    wildcard_match(
        action.trim().to_ascii_lowercase().as_bytes(),
        known.as_bytes(),
    )
}

/// IAM wildcard matching: `*` any run, `?` one character.
fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t, mut star, mut mark) = (0, 0, None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

fn is_read_only(action: &str) -> bool {
    let lowered = action.trim().to_ascii_lowercase();
    let Some((_, verb)) = lowered.split_once(':') else {
        return false;
    };
    !verb.contains('*') && READ_PREFIXES.iter().any(|prefix| verb.starts_with(prefix))
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
    fn wildcards_match_like_iam() {
        assert!(action_matches("iam:*", "iam:passrole"));
        assert!(action_matches("IAM:Pass*", "iam:passrole"));
        assert!(action_matches("*", "sts:assumerole"));
        assert!(!action_matches("s3:Get*", "iam:passrole"));
        assert!(action_matches("iam:Put?serPolicy", "iam:putuserpolicy"));
    }

    #[test]
    fn read_only_actions_are_recognised_by_verb() {
        assert!(is_read_only("s3:GetObject"));
        assert!(is_read_only("ecs:DescribeServices"));
        assert!(!is_read_only("s3:PutObject"));
        assert!(!is_read_only("s3:Get*"));
    }
}
