//! Break-glass: emergency access that may be merged before it is approved
//! and is reviewed after the fact, as teams expect of any access system
//! they trust when the approvers are asleep. A grant of a role with
//! `break_glass` that lacks its approvals is in force anyway, loudly
//! (`break-glass`), for at most the break-glass `max_duration`; once
//! `review_within` has passed since the branch put it in force without the
//! role's authorised approvals recorded, the audit reports
//! `unreviewed-break-glass`, an error, so render stops provisioning it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::model::policy::BreakGlass;
use crate::model::timestamp::format_timestamp;
use crate::model::{Grant, Role};

use super::approvals::{Judgement, judge_approval, subject_people};
use super::expiry::{DURATION_EXCEEDS_MAX, describe_span, duration_origin};
use super::{ApprovalJudge, CheckContext};

pub const BREAK_GLASS: Rule = Rule {
    id: "break-glass",
    severity: Severity::Warning,
    summary: "an emergency grant in force before the approvals its role needs",
    help: "break-glass access is reviewed after the fact: the role's approvers add themselves to `approvers` within its `review_within`, or the grant is removed",
};

pub const UNREVIEWED_BREAK_GLASS: Rule = Rule {
    id: "unreviewed-break-glass",
    severity: Severity::Error,
    summary: "a break-glass grant whose authorised approvals were not recorded within its role's `review_within`",
    help: "the emergency access went unreviewed: remove the grant (or let it expire and prune it), and have the role's approvers review what it was used for",
};

/// Whether a finding of `rule` is shown before every other, in every
/// format: emergency access must not scroll past unread.
pub fn is_loud(rule: &str) -> bool {
    rule == BREAK_GLASS.id || rule == UNREVIEWED_BREAK_GLASS.id
}

/// Where a break-glass grant stands with its review.
enum Review {
    /// It has the approvals its role needs, recorded in time.
    Reviewed,
    /// Not yet, and the review is not overdue: due by then, when the
    /// history says when it was put in force.
    Awaited { due: Option<DateTime<Utc>> },
    /// Its review was due by then, and too few approvals came in time.
    Overdue {
        due: DateTime<Utc>,
        in_force: DateTime<Utc>,
        in_time: usize,
    },
}

/// Whether `insufficient-approvals` waits: a grant of a break-glass role
/// whose review is not overdue yet.
pub fn awaits_review(grant: &Grant, role: &Role, context: &CheckContext) -> bool {
    role.break_glass
        .as_deref()
        .is_some_and(|glass| matches!(review(grant, role, glass, context), Review::Awaited { .. }))
}

pub fn check(grant: &Grant, context: &CheckContext, findings: &mut Vec<Diagnostic>) {
    let Some(role) = context.policy.role(&grant.file.role) else {
        return;
    };
    let Some(glass) = role.break_glass.as_deref() else {
        return;
    };
    let needed = role.min_approvals as usize;
    let rely_on_it = counted_approvals(grant, context).len() < needed;
    let name = &grant.file.role.value;
    match review(grant, role, glass, context) {
        Review::Reviewed => return,
        Review::Awaited { due } => {
            let by = due.map_or(format!("within {} of its merge", glass.review_within), |due| {
                format!("by {} ({} after it was put in force)", format_timestamp(&due), glass.review_within)
            });
            findings.push(BREAK_GLASS.at(
                &grant.path,
                grant.file.role.at,
                format!(
                    "BREAK-GLASS: emergency access to role `{name}`, in force without the {needed} approval(s) the role needs; its approvers must review it {by}"
                ),
            ));
        }
        Review::Overdue {
            due,
            in_force,
            in_time,
        } => findings.push(UNREVIEWED_BREAK_GLASS.at(
            &grant.path,
            grant.file.role.at,
            format!(
                "UNREVIEWED BREAK-GLASS: this emergency grant of role `{name}` was put in force {} and needed {needed} authorised approval(s) within {} (by {}); {in_time} came in time",
                format_timestamp(&in_force),
                glass.review_within,
                format_timestamp(&due)
            ),
        )),
    }
    if rely_on_it {
        check_duration(grant, glass, context, findings);
    }
}

fn review(grant: &Grant, role: &Role, glass: &BreakGlass, context: &CheckContext) -> Review {
    let needed = role.min_approvals as usize;
    let in_force = context.in_force.get(&grant.path).copied();
    let due = in_force.map(|at| at + glass.review_within.as_time_delta());
    let in_time = counted_approvals(grant, context)
        .into_values()
        .filter(|at| match (at, due) {
            (Some(at), Some(due)) => *at <= due,
            _ => true,
        })
        .count();
    match (in_force, due) {
        _ if in_time >= needed => Review::Reviewed,
        (Some(in_force), Some(due)) if due <= context.now => Review::Overdue {
            due,
            in_force,
            in_time,
        },
        _ => Review::Awaited { due },
    }
}

/// The distinct people whose approval of `grant` counts, with when each
/// took effect on the branch (`None`: before the change, or now).
fn counted_approvals(
    grant: &Grant,
    context: &CheckContext,
) -> BTreeMap<String, Option<DateTime<Utc>>> {
    let subject = subject_people(grant, context.policy, &context.directory);
    let mut counted = BTreeMap::new();
    for approver in &grant.file.approvers {
        let person = context.directory.resolve(approver);
        if subject.contains(&person)
            || !matches!(
                judge_approval(grant, approver, &person, context),
                Judgement::Counts
            )
        {
            continue;
        }
        let at = match context.approval_judge(grant, &person) {
            ApprovalJudge::Recorded { at, .. } => Some(at),
            ApprovalJudge::Base | ApprovalJudge::Current => None,
        };
        counted.entry(person).or_insert(at);
    }
    counted
}

/// A grant relying on break-glass lasts at most its `max_duration`,
/// measured as `duration-exceeds-max` measures.
fn check_duration(
    grant: &Grant,
    glass: &BreakGlass,
    context: &CheckContext,
    findings: &mut Vec<Diagnostic>,
) {
    let (Some(field), Some(expires)) = (&grant.file.expires, grant.expires_at()) else {
        return;
    };
    let (from, origin) = duration_origin(grant, context, grant.starts_at());
    if expires - from > glass.max_duration.as_time_delta() {
        findings.push(DURATION_EXCEEDS_MAX.at(
            &grant.path,
            field.at,
            format!(
                "break-glass grant lasts {} from {origin} ({}), longer than the {} that break-glass allows on role `{}` before its approvals",
                describe_span(expires - from),
                format_timestamp(&from),
                glass.max_duration,
                grant.file.role.value
            ),
        ));
    }
}
