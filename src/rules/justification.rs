//! Every grant says why: an auditor reading the history years later needs
//! the reason and, where the policy asks, the ticket.

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::model::Grant;

use super::CheckContext;

pub const MISSING_REASON: Rule = Rule {
    id: "missing-reason",
    severity: Severity::Error,
    summary: "the grant has no reason, or one shorter than `min_reason_length`",
    help: "write what the access is for in `reason:`, in words an auditor will understand later",
};

pub const MISSING_TICKET: Rule = Rule {
    id: "missing-ticket",
    severity: Severity::Error,
    summary: "the policy requires a ticket and the grant names none",
    help: "add `ticket:` with the change or incident id this access serves",
};

pub fn check(grant: &Grant, context: &CheckContext, findings: &mut Vec<Diagnostic>) {
    let minimum = context.policy.defaults.min_reason_length;
    match &grant.file.reason {
        None => findings.push(MISSING_REASON.at(
            &grant.path,
            grant.file.subject.at,
            "the grant has no `reason`",
        )),
        Some(reason) if reason.trim().chars().count() < minimum => {
            findings.push(MISSING_REASON.at(
                &grant.path,
                reason.at,
                format!(
                    "the reason is {} characters long; the policy asks for at least {minimum}",
                    reason.trim().chars().count()
                ),
            ))
        }
        Some(_) => {}
    }
    if context.policy.defaults.require_ticket {
        match &grant.file.ticket {
            None => findings.push(MISSING_TICKET.at(
                &grant.path,
                grant.file.subject.at,
                "the policy requires a `ticket`",
            )),
            Some(ticket) if ticket.trim().is_empty() => {
                findings.push(MISSING_TICKET.at(&grant.path, ticket.at, "the ticket is empty"))
            }
            Some(_) => {}
        }
    }
}
