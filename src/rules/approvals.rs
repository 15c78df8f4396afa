//! Approval rules that the grant file alone can decide: enough distinct
//! people, each allowed to approve the role, none of them the subject.
//! Approval rules that need the commit history live in `history`.

use std::collections::BTreeSet;

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::model::identity::GROUP_PREFIX;
use crate::model::{Directory, Grant, Policy, Role};

use super::CheckContext;

pub const INSUFFICIENT_APPROVALS: Rule = Rule {
    id: "insufficient-approvals",
    severity: Severity::Error,
    summary: "fewer distinct approving people than the role's `min_approvals`",
    help: "ask another authorised approver; the same person under two spellings or aliases counts once",
};

pub const UNAUTHORIZED_APPROVER: Rule = Rule {
    id: "unauthorized-approver",
    severity: Severity::Error,
    summary: "an approver is not allowed to approve this role",
    help: "approvers must be listed in the role's `approvers`, directly or through a group",
};

pub const SELF_APPROVAL: Rule = Rule {
    id: "self-approval",
    severity: Severity::Error,
    summary: "an approver is the subject, or wrote the grant",
    help: "nobody approves their own access: ask another authorised approver",
};

pub fn check(grant: &Grant, context: &CheckContext, findings: &mut Vec<Diagnostic>) {
    let directory = &context.directory;
    let subject_members = subject_people(grant, context.policy, directory);
    let role = context.policy.role(&grant.file.role);
    let mut counted = BTreeSet::new();
    for approver in &grant.file.approvers {
        let person = directory.resolve(approver);
        if subject_members.contains(&person) {
            findings.push(SELF_APPROVAL.at(
                &grant.path,
                approver.at,
                format!(
                    "`{}` approves a grant whose subject includes them",
                    approver.value
                ),
            ));
            continue;
        }
        // An identity outside `people` is `unknown-approver`'s finding; it
        // counts for nothing here and is not reported a second time.
        let (Some(role), Some(_)) = (role, directory.person(approver)) else {
            continue;
        };
        if !is_authorised(role, &person, context.policy, directory) {
            findings.push(UNAUTHORIZED_APPROVER.at(
                &grant.path,
                approver.at,
                format!(
                    "`{}` may not approve role `{}`",
                    approver.value, grant.file.role.value
                ),
            ));
            continue;
        }
        counted.insert(person);
    }
    if let Some(role) = role {
        let needed = role.min_approvals as usize;
        if counted.len() < needed {
            findings.push(INSUFFICIENT_APPROVALS.at(
                &grant.path,
                grant.file.approvers.first().map_or(grant.file.role.at, |a| a.at),
                format!(
                    "role `{}` needs {needed} approval(s) from distinct authorised people; this grant has {}",
                    grant.file.role.value,
                    counted.len()
                ),
            ));
        }
    }
}

/// The people a grant gives access to: the subject, or every member of the
/// subject group.
fn subject_people(grant: &Grant, policy: &Policy, directory: &Directory) -> BTreeSet<String> {
    let subject = &grant.file.subject.value;
    match subject.strip_prefix(GROUP_PREFIX) {
        Some(group) => members(policy, group)
            .map(|m| directory.resolve(m))
            .collect(),
        None => BTreeSet::from([directory.resolve(subject)]),
    }
}

fn members<'p>(policy: &'p Policy, group: &str) -> impl Iterator<Item = &'p str> {
    policy
        .groups
        .get(group)
        .into_iter()
        .flatten()
        .map(|m| m.value.as_str())
}

/// Whether `person` (already resolved) is among the role's approvers,
/// directly or through a group.
pub fn is_authorised(role: &Role, person: &str, policy: &Policy, directory: &Directory) -> bool {
    role.approvers
        .iter()
        .any(|allowed| match allowed.strip_prefix(GROUP_PREFIX) {
            Some(group) => members(policy, group).any(|member| directory.resolve(member) == person),
            None => directory.resolve(allowed) == person,
        })
}
