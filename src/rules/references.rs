//! Names in a grant must exist in the policy: a typo in a role or an
//! identity must never silently grant nothing, or the wrong thing.

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::model::Grant;
use crate::model::identity::GROUP_PREFIX;

use super::CheckContext;

pub const UNKNOWN_ROLE: Rule = Rule {
    id: "unknown-role",
    severity: Severity::Error,
    summary: "the grant's role is not in the role catalog",
    help: "use a role defined under `roles` in lapse.yaml, or add the role there first",
};

pub const UNKNOWN_SUBJECT: Rule = Rule {
    id: "unknown-subject",
    severity: Severity::Error,
    summary: "the grant's subject is not a person or group of the policy",
    help: "use a person's e-mail from `people` (or one of their aliases), or `group:<name>` from `groups`",
};

pub const ORPHANED_GRANT: Rule = Rule {
    id: "orphaned-grant",
    severity: Severity::Warning,
    summary: "the grant's subject is no longer in the policy",
    help: "the grant is not provisioned (`lapse render` leaves it out) and `lapse prune` removes it; offboarding never waits for it",
};

pub const UNKNOWN_APPROVER: Rule = Rule {
    id: "unknown-approver",
    severity: Severity::Error,
    summary: "an approver is not a person of the policy",
    help: "approvers are people from `people` in lapse.yaml; groups approve through their members",
};

pub fn check(grant: &Grant, context: &CheckContext, findings: &mut Vec<Diagnostic>) {
    let policy = context.policy;
    let role = &grant.file.role;
    if policy.role(role).is_none() {
        findings.push(UNKNOWN_ROLE.at(
            &grant.path,
            role.at,
            format!("role `{}` is not in the catalog", role.value),
        ));
    }
    let subject = &grant.file.subject;
    let known_subject = match subject.strip_prefix(GROUP_PREFIX) {
        Some(group) => policy.groups.contains_key(group),
        None => context.directory.person(subject).is_some(),
    };
    if !known_subject {
        // A change that names someone the policy does not know has a typo or
        // a missing person; a grant already there whose subject was removed
        // from the policy is what offboarding leaves behind, and must not
        // block it.
        let finding = if context.is_in_change(grant) {
            UNKNOWN_SUBJECT.at(
                &grant.path,
                subject.at,
                format!("subject `{}` is not in lapse.yaml", subject.value),
            )
        } else {
            ORPHANED_GRANT.at(
                &grant.path,
                subject.at,
                format!(
                    "subject `{}` is no longer in lapse.yaml; the grant is not provisioned",
                    subject.value
                ),
            )
        };
        findings.push(finding);
    }
    for approver in &grant.file.approvers {
        if context.directory.person(approver).is_none()
            && !context.approved_before_leaving(grant, approver)
        {
            findings.push(UNKNOWN_APPROVER.at(
                &grant.path,
                approver.at,
                format!("approver `{}` is not in `people`", approver.value),
            ));
        }
    }
}
