//! Time rules: every grant ends, ends after it starts, within the role's
//! maximum, and before the subject's contract does.

use chrono::{DateTime, Utc};

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::model::identity::GROUP_PREFIX;
use crate::model::timestamp::{ACCEPTED_FORM, format_timestamp, parse_timestamp};
use crate::model::{Grant, Spanned};

use super::CheckContext;

pub const MISSING_EXPIRY: Rule = Rule {
    id: "missing-expiry",
    severity: Severity::Error,
    summary: "the grant has no `expires`",
    help: "every grant ends: add `expires:` with an RFC 3339 timestamp, for example 2026-12-06T17:00:00Z",
};

pub const INVALID_TIMESTAMP: Rule = Rule {
    id: "invalid-timestamp",
    severity: Severity::Error,
    summary: "a timestamp is not RFC 3339 with an explicit offset",
    help: ACCEPTED_FORM,
};

pub const EXPIRED: Rule = Rule {
    id: "expired",
    severity: Severity::Error,
    summary: "`expires` is not in the future",
    help: "a change may not add or modify an expired grant; set a future `expires` or delete the file",
};

const EXPIRED_ON_BASE_HELP: &str =
    "the grant is already inactive; `lapse prune` removes it through a pull request";

const OUTLIVES_ON_BASE_HELP: &str = "the grant ends with the contract (render enforces the earlier of the two, prune removes it then); shorten `expires` when you next touch it";

pub const EXPIRES_BEFORE_START: Rule = Rule {
    id: "expires-before-start",
    severity: Severity::Error,
    summary: "`expires` is not after `starts`",
    help: "set `expires` later than `starts`",
};

pub const DURATION_EXCEEDS_MAX: Rule = Rule {
    id: "duration-exceeds-max",
    severity: Severity::Error,
    summary: "the grant lasts longer than its role's `max_duration`",
    help: "shorten the grant, and extend it later with a new approval if the work needs more time",
};

pub const OUTLIVES_CONTRACT: Rule = Rule {
    id: "outlives-contract",
    severity: Severity::Error,
    summary: "the grant expires after the subject's `contract_ends`",
    help: "set `expires` no later than the contract end, or record the contract extension in lapse.yaml first",
};

pub fn check(grant: &Grant, context: &CheckContext, findings: &mut Vec<Diagnostic>) {
    let starts = parse_field(grant, &grant.file.starts, findings);
    let Some(expires_field) = &grant.file.expires else {
        findings.push(MISSING_EXPIRY.at(
            &grant.path,
            grant.file.subject.at,
            format!("grant `{}` has no `expires`", grant.id),
        ));
        return;
    };
    let Some(expires) = parse_field(grant, &grant.file.expires, findings) else {
        return;
    };
    check_expired(grant, context, findings);
    if let Some(starts) = starts
        && expires <= starts
    {
        findings.push(EXPIRES_BEFORE_START.at(
            &grant.path,
            expires_field.at,
            format!(
                "expires {} is not after starts {}",
                format_timestamp(&expires),
                format_timestamp(&starts)
            ),
        ));
    }
    check_duration(grant, context, starts, expires, expires_field, findings);
    check_contract(grant, context, expires, expires_field, findings);
}

/// `expired` alone: an error for a grant the change adds or modifies, a
/// warning for one that is merely still in the repository.
pub fn check_expired(grant: &Grant, context: &CheckContext, findings: &mut Vec<Diagnostic>) {
    let (Some(field), Some(expires)) = (&grant.file.expires, grant.expires_at()) else {
        return;
    };
    if expires > context.now {
        return;
    }
    let message = format!(
        "grant `{}` expired at {}",
        grant.id,
        format_timestamp(&expires)
    );
    let finding = EXPIRED.at(&grant.path, field.at, message);
    findings.push(if context.is_in_change(grant) {
        finding
    } else {
        finding
            .with_severity(Severity::Warning)
            .with_help(EXPIRED_ON_BASE_HELP)
    });
}

fn parse_field(
    grant: &Grant,
    field: &Option<Spanned<String>>,
    findings: &mut Vec<Diagnostic>,
) -> Option<DateTime<Utc>> {
    let text = field.as_ref()?;
    match parse_timestamp(text) {
        Ok(instant) => Some(instant),
        Err(error) => {
            findings.push(
                INVALID_TIMESTAMP
                    .at(&grant.path, text.at, error.to_string())
                    .with_help(error.hint()),
            );
            None
        }
    }
}

/// Measured from `starts`, else from the commit that added the grant, else
/// from now: the longest the grant can actually be in force. A commit's
/// date is whatever its author wrote, so it is never trusted to be later
/// than the check's own clock: a grant "committed in 2027" is measured from
/// now, not from the date that would make ten months look like two weeks.
fn check_duration(
    grant: &Grant,
    context: &CheckContext,
    starts: Option<DateTime<Utc>>,
    expires: DateTime<Utc>,
    expires_field: &Spanned<String>,
    findings: &mut Vec<Diagnostic>,
) {
    let Some(role) = context.policy.role(&grant.file.role) else {
        return;
    };
    let (from, origin) = match (starts, context.added_at.get(&grant.path)) {
        (Some(starts), _) => (starts, "starts"),
        (None, Some(added)) if *added <= context.now => (*added, "the commit that added it"),
        (None, _) => (context.now, "now"),
    };
    let max = context.policy.max_duration_of(role);
    if expires - from > max.as_time_delta() {
        findings.push(DURATION_EXCEEDS_MAX.at(
            &grant.path,
            expires_field.at,
            format!(
                "grant lasts {} from {origin} ({}), longer than the {max} that role `{}` allows",
                describe_span(expires - from),
                format_timestamp(&from),
                grant.file.role.value
            ),
        ));
    }
}

fn check_contract(
    grant: &Grant,
    context: &CheckContext,
    expires: DateTime<Utc>,
    expires_field: &Spanned<String>,
    findings: &mut Vec<Diagnostic>,
) {
    let subject = &grant.file.subject.value;
    if subject.starts_with(GROUP_PREFIX) {
        return;
    }
    let Some(person_key) = context.directory.person(subject) else {
        return;
    };
    let Some(contract_ends) = context
        .policy
        .people
        .get(person_key)
        .and_then(|p| p.contract_ends_at())
    else {
        return;
    };
    if expires > contract_ends {
        let finding = OUTLIVES_CONTRACT.at(
            &grant.path,
            expires_field.at,
            format!(
                "expires {} but the contract of {person_key} ends {}",
                format_timestamp(&expires),
                format_timestamp(&contract_ends)
            ),
        );
        // A change may not write a grant past the contract; a grant already
        // there that a shortened contract now cuts short ends with the
        // contract anyway (its effective end), and offboarding must not
        // wait for every such grant to be edited.
        findings.push(if context.is_in_change(grant) {
            finding
        } else {
            finding
                .with_severity(Severity::Warning)
                .with_help(OUTLIVES_ON_BASE_HELP)
        });
    }
}

/// `14d 3h` style, for messages.
fn describe_span(span: chrono::TimeDelta) -> String {
    let days = span.num_days();
    let hours = span.num_hours() - days * 24;
    let minutes = span.num_minutes() - span.num_hours() * 60;
    match (days, hours, minutes) {
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, 0) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}
