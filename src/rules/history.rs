//! Approval rules that only the git history can decide: an approver who
//! wrote part of the grant approved their own work, and an approval given
//! before the grant last changed does not cover what it says now (as a
//! forge dismisses stale reviews when new commits arrive).

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::model::Grant;
use crate::model::timestamp::format_timestamp;

use super::CheckContext;
use super::approvals::SELF_APPROVAL;

pub const STALE_APPROVAL: Rule = Rule {
    id: "stale-approval",
    severity: Severity::Error,
    summary: "an approval was recorded before the grant's last substantive change",
    help: "an approval covers the grant as it was when given: remove the name from `approvers`, then let the approver add it back in a commit of their own",
};

pub fn check(grant: &Grant, context: &CheckContext, findings: &mut Vec<Diagnostic>) {
    let Some(history) = context.history.get(&grant.id) else {
        return;
    };
    let directory = &context.directory;
    let last_change = history.last_substantive_change();
    for approver in &grant.file.approvers {
        // The subject approving is already `self-approval` in `approvals`.
        if directory.same_person(approver, &grant.file.subject) {
            continue;
        }
        let person = directory.resolve(approver);
        if let Some(change) = history.substantive_change_by(&person) {
            let role = if change.commit.people.first() == Some(&person) {
                "authored"
            } else {
                "co-authored"
            };
            findings.push(SELF_APPROVAL.at(
                &grant.path,
                approver.at,
                format!(
                    "`{}` {role} commit {} ({}), which changed this grant; an approver may only add their own approval",
                    approver.value,
                    change.commit.short_id(),
                    format_timestamp(&change.commit.time)
                ),
            ));
            continue;
        }
        let (Some((approved_at, approval)), Some((changed_at, change))) =
            (history.approval_of(&person), last_change)
        else {
            continue;
        };
        if approved_at < changed_at {
            findings.push(STALE_APPROVAL.at(
                &grant.path,
                approver.at,
                format!(
                    "the approval of `{}` was recorded in commit {} ({}), before the grant changed in commit {} ({})",
                    approver.value,
                    approval.commit.short_id(),
                    format_timestamp(&approval.commit.time),
                    change.commit.short_id(),
                    format_timestamp(&change.commit.time)
                ),
            ));
        }
    }
}
