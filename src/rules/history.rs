//! Approval rules that only the git history can decide: an approver who
//! wrote part of the grant approved their own work, and an approval given
//! before the grant last changed does not cover what it says now (as a
//! forge dismisses stale reviews when new commits arrive).

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::history::{Event, GrantHistory};
use crate::model::timestamp::format_timestamp;
use crate::model::{Grant, Spanned};

use super::CheckContext;
use super::approvals::SELF_APPROVAL;

pub const STALE_APPROVAL: Rule = Rule {
    id: "stale-approval",
    severity: Severity::Error,
    summary: "an approval was recorded before the grant's last substantive change",
    help: "an approval covers the grant as it was when given: remove the name from `approvers`, then let the approver add it back in a commit of their own",
};

pub const UNCOMMITTED_GRANT: Rule = Rule {
    id: "uncommitted-grant",
    severity: Severity::Error,
    summary: "the grant file is not what HEAD commits, so its history cannot be judged",
    help: "commit the grant (lapse judges approvals from the commits that wrote it), or restore the committed version",
};

pub fn check(grant: &Grant, context: &CheckContext, findings: &mut Vec<Diagnostic>) {
    if context.uncommitted.contains(&grant.path) {
        findings.push(UNCOMMITTED_GRANT.at(
            &grant.path,
            grant.file.subject.at,
            format!(
                "{} differs from the version HEAD commits, or HEAD has no such file; a grant the history cannot judge is never taken as approved",
                grant.path.display()
            ),
        ));
        return;
    }
    let Some(history) = context.history.get(&grant.path) else {
        return;
    };
    let directory = &context.directory;
    for approver in &grant.file.approvers {
        // The subject approving is already `self-approval` in `approvals`.
        if directory.same_person(approver, &grant.file.subject) {
            continue;
        }
        let person = directory.resolve(approver);
        if let Some(finding) = authored_by_approver(grant, approver, &person, history, context) {
            findings.push(finding);
        } else if history.approval_covering(&person, &grant.file).is_none() {
            findings.push(stale(grant, approver, &person, history));
        }
    }
}

/// `self-approval` when the approver wrote or co-wrote a substantive change.
fn authored_by_approver(
    grant: &Grant,
    approver: &Spanned<String>,
    person: &str,
    history: &GrantHistory,
    context: &CheckContext,
) -> Option<Diagnostic> {
    let change =
        history.substantive_change_by(person, |commit| context.signed_by(commit, person))?;
    let commit = change.commit.as_ref()?;
    let role = if commit.people.first().map(String::as_str) == Some(person) {
        "authored"
    } else if commit.is_by(person) {
        "co-authored"
    } else {
        "signed"
    };
    Some(SELF_APPROVAL.at(
        &grant.path,
        approver.at,
        format!(
            "`{}` {role} commit {} ({}), which changed this grant; an approver may only add their own approval",
            approver.value,
            commit.short_id(),
            format_timestamp(&commit.time)
        ),
    ))
}

/// `stale-approval`: no commit recorded this approval for the terms the
/// grant has now.
fn stale(
    grant: &Grant,
    approver: &Spanned<String>,
    person: &str,
    history: &GrantHistory,
) -> Diagnostic {
    let describe = |event: &Event| match &event.commit {
        Some(commit) => format!(
            "commit {} ({})",
            commit.short_id(),
            format_timestamp(&commit.time)
        ),
        None => "the base branch".to_owned(),
    };
    let message = match (
        history.latest_approval_of(person),
        history.last_substantive_change(),
    ) {
        (Some(approval), Some(change)) => format!(
            "the approval of `{}` was recorded in {} for other terms than the grant has now, last changed in {}",
            approver.value,
            describe(approval),
            describe(change)
        ),
        _ => format!(
            "no commit in the grant's history records the approval of `{}`",
            approver.value
        ),
    };
    STALE_APPROVAL.at(&grant.path, approver.at, message)
}
