//! When a grant really ends: at its `expires`, or earlier when its
//! subject's contract ends first. Every command that says when access ends
//! (render, prune, expiring, who, check) reads it from here, so that a
//! contract moved earlier in lapse.yaml ends the access everywhere at once.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::identity::GROUP_PREFIX;
use super::{Directory, Grant, Policy};

/// Why a grant ends when it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndReason {
    /// The grant's own `expires`.
    Expires,
    /// The subject's `contract_ends`, earlier than `expires`.
    ContractEnds,
}

impl EndReason {
    /// How the reason reads in a sentence: "expired", "contract ended".
    pub fn past_tense(self) -> &'static str {
        match self {
            Self::Expires => "expired",
            Self::ContractEnds => "contract ended",
        }
    }
}

/// The instant a grant stops giving access, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantEnd {
    pub at: DateTime<Utc>,
    pub reason: EndReason,
}

/// Whether the subject of a grant is still someone the policy knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectStatus {
    /// A person of `people`, or a group of `groups`.
    Known,
    /// Neither: the person left (or was never there). Such a grant is never
    /// provisioned, and prune removes it.
    Orphaned,
}

/// The subject's `contract_ends`, when the subject is a person who has one.
/// A group has no contract of its own: each member's end applies to that
/// member (`render::context::grant_contexts` ends their access then).
pub fn contract_end(
    subject: &str,
    policy: &Policy,
    directory: &Directory,
) -> Option<DateTime<Utc>> {
    if subject.starts_with(GROUP_PREFIX) {
        return None;
    }
    let key = directory.person(subject)?;
    policy.people.get(key)?.contract_ends_at()
}

/// The grant's effective end: the earlier of `expires` and the subject's
/// `contract_ends`. `None` when `expires` is missing or invalid: such a
/// grant is never active and never "ended" (nothing is pruned on a guess).
pub fn effective_end(grant: &Grant, policy: &Policy, directory: &Directory) -> Option<GrantEnd> {
    let expires = grant.expires_at()?;
    let end = match contract_end(&grant.file.subject, policy, directory) {
        Some(contract) if contract < expires => GrantEnd {
            at: contract,
            reason: EndReason::ContractEnds,
        },
        _ => GrantEnd {
            at: expires,
            reason: EndReason::Expires,
        },
    };
    Some(end)
}

/// Whether the policy still knows the grant's subject.
pub fn subject_status(grant: &Grant, policy: &Policy, directory: &Directory) -> SubjectStatus {
    let subject = &grant.file.subject.value;
    let known = match subject.strip_prefix(GROUP_PREFIX) {
        Some(group) => policy.groups.contains_key(group),
        None => directory.person(subject).is_some(),
    };
    if known {
        SubjectStatus::Known
    } else {
        SubjectStatus::Orphaned
    }
}

/// When the grant gives access under `policy`, wherever it is in force:
/// from its `starts` (`None`: from the moment it is) until its effective
/// end. `None` when it never does: its subject is not known to the policy,
/// or it has no valid `expires`. `lapse who` and `lapse audit` both read
/// access from here, so they agree on it.
pub fn access_window(
    grant: &Grant,
    policy: &Policy,
    directory: &Directory,
) -> Option<(Option<DateTime<Utc>>, GrantEnd)> {
    if subject_status(grant, policy, directory) != SubjectStatus::Known {
        return None;
    }
    Some((grant.starts_at(), effective_end(grant, policy, directory)?))
}

/// Whether the grant gives access at `now`: its subject is known, it has
/// started, and its effective end is still ahead.
pub fn is_in_force_at(
    grant: &Grant,
    policy: &Policy,
    directory: &Directory,
    now: DateTime<Utc>,
) -> bool {
    access_window(grant, policy, directory)
        .is_some_and(|(starts, end)| starts.is_none_or(|starts| starts <= now) && now < end.at)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::load::{parse_grant, parse_policy};
    use crate::model::timestamp::parse_timestamp;

    const POLICY: &str = "version: 1\npeople:\n  alex@example.com:\n    contract_ends: 2026-12-01T00:00:00Z\n  sam@example.com: {}\ngroups:\n  g: [alex@example.com, sam@example.com]\n";

    fn end_of(subject: &str, expires: &str) -> Option<GrantEnd> {
        let policy = parse_policy(Path::new("lapse.yaml"), POLICY).unwrap();
        let text = format!("subject: {subject}\nrole: r\nexpires: {expires}\n");
        let grant = parse_grant(Path::new("grants/g.yaml"), &text).unwrap();
        effective_end(&grant, &policy, &Directory::new(&policy))
    }

    #[test]
    fn the_contract_end_cuts_a_longer_grant_short() {
        let end = end_of("ALEX@example.com", "2026-12-20T00:00:00Z").unwrap();
        assert_eq!(end.reason, EndReason::ContractEnds);
        assert_eq!(end.at, parse_timestamp("2026-12-01T00:00:00Z").unwrap());
    }

    #[test]
    fn a_grant_ending_before_the_contract_ends_at_its_expiry() {
        let end = end_of("alex@example.com", "2026-11-20T00:00:00Z").unwrap();
        assert_eq!(end.reason, EndReason::Expires);
        let end = end_of("group:g", "2026-12-20T00:00:00Z").unwrap();
        assert_eq!(end.reason, EndReason::Expires);
    }
}
