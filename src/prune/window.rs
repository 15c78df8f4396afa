//! `lapse expiring`: grants whose access ends soon, and contracts that end
//! soon, for a notification step. A grant ends at its effective end
//! (`model::lifecycle`): its `expires`, or its subject's `contract_ends`
//! when that comes first.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::identity::GROUP_PREFIX;
use crate::model::lifecycle::{GrantEnd, SubjectStatus, effective_end, subject_status};
use crate::model::timestamp::format_timestamp;
use crate::model::{Directory, Grant, GrantDuration, Policy};

use super::summary::GrantSummary;

/// The instants `(from, until]`: a grant ending in the window is still
/// active at its start and will not be by its end.
#[derive(Debug, Clone, Copy)]
pub struct ExpiryWindow {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// A grant whose access ends in a window, with what a notification needs.
#[derive(Debug, Clone)]
pub struct EndingGrant {
    pub summary: GrantSummary,
    pub end: GrantEnd,
    pub starts: Option<DateTime<Utc>>,
    /// The subject's key in `people`, when the subject is a person.
    pub subject_person: Option<String>,
    /// The approvers' keys in `people`, in the grant's order, known ones only.
    pub approver_people: Vec<String>,
}

/// A person's `contract_ends` in the window, and the grants it cuts short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContractEnd {
    /// The person's key in `people`.
    pub person: String,
    pub ends: String,
    #[serde(skip)]
    pub at: DateTime<Utc>,
    /// Ids of the grants whose access for the person ends with the
    /// contract (theirs, and their groups'), by id.
    pub grants: Vec<String>,
}

impl ExpiryWindow {
    pub fn starting_at(now: DateTime<Utc>, within: GrantDuration) -> Self {
        Self {
            from: now,
            until: now + within.as_time_delta(),
        }
    }

    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.from < instant && instant <= self.until
    }

    /// The grants whose access ends in the window, soonest first (then by
    /// id, so the order never depends on the file system). A grant whose
    /// subject is no longer in the policy gives no access to end: it is
    /// never rendered, and prune removes it.
    pub fn select(
        &self,
        grants: &[Grant],
        policy: &Policy,
        directory: &Directory,
    ) -> Vec<EndingGrant> {
        let mut ending: Vec<EndingGrant> = grants
            .iter()
            .filter(|grant| subject_status(grant, policy, directory) == SubjectStatus::Known)
            .filter_map(|grant| ending_grant(grant, policy, directory))
            .filter(|ending| self.contains(ending.end.at))
            .collect();
        ending.sort_by(|a, b| (a.end.at, &a.summary.id).cmp(&(b.end.at, &b.summary.id)));
        ending
    }

    /// The contracts that end in the window, soonest first, each with the
    /// grants of `grants` whose access for that person ends with it: their
    /// own grants cut short by it, and grants to a group they are in that
    /// last longer (render ends a member's access at their contract end).
    pub fn contract_ends(
        &self,
        policy: &Policy,
        directory: &Directory,
        grants: &[Grant],
    ) -> Vec<ContractEnd> {
        let mut contracts: Vec<ContractEnd> = policy
            .people
            .iter()
            .filter_map(|(key, person)| Some((key, person.contract_ends_at()?)))
            .filter(|(_, at)| self.contains(*at))
            .map(|(key, at)| ContractEnd {
                person: key.clone(),
                ends: format_timestamp(&at),
                at,
                grants: cut_short_by(key, at, policy, directory, grants),
            })
            .collect();
        contracts.sort_by(|a, b| (a.at, &a.person).cmp(&(b.at, &b.person)));
        contracts
    }
}

/// Ids of the grants that give `person` access past `contract_end`, whose
/// access for them ends then instead, by id.
fn cut_short_by(
    person: &str,
    contract_end: DateTime<Utc>,
    policy: &Policy,
    directory: &Directory,
    grants: &[Grant],
) -> Vec<String> {
    let mut ids: Vec<String> = grants
        .iter()
        .filter(|grant| subject_status(grant, policy, directory) == SubjectStatus::Known)
        .filter(|grant| gives_access_to(grant, person, policy, directory))
        .filter(|grant| {
            grant
                .expires_at()
                .is_some_and(|expires| expires > contract_end)
        })
        .map(|grant| grant.id.clone())
        .collect();
    ids.sort();
    ids
}

/// Whether the grant's subject is the person, or a group listing them.
fn gives_access_to(grant: &Grant, person: &str, policy: &Policy, directory: &Directory) -> bool {
    let subject = grant.file.subject.as_str();
    match subject.strip_prefix(GROUP_PREFIX) {
        Some(group) => policy
            .groups
            .get(group)
            .into_iter()
            .flatten()
            .any(|member| directory.person(member) == Some(person)),
        None => directory.person(subject) == Some(person),
    }
}

/// The grant as an ending grant, when its `expires` is valid.
fn ending_grant(grant: &Grant, policy: &Policy, directory: &Directory) -> Option<EndingGrant> {
    let end = effective_end(grant, policy, directory)?;
    let expires = grant.expires_at()?;
    let break_glass = policy
        .role(&grant.file.role)
        .is_some_and(|role| role.break_glass.is_some());
    Some(EndingGrant {
        summary: GrantSummary::ending(grant, expires, end, break_glass),
        end,
        starts: grant.starts_at(),
        subject_person: directory.person(&grant.file.subject).map(str::to_owned),
        approver_people: grant
            .approver_names()
            .filter_map(|name| directory.person(name).map(str::to_owned))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::load::{parse_grant, parse_policy};
    use crate::model::lifecycle::EndReason;
    use crate::model::timestamp::parse_timestamp;

    const POLICY: &str = "version: 1\npeople:\n  alex@example.com:\n    contract_ends: 2026-12-15T00:00:00Z\n  sam@example.com: {}\ngroups:\n  team: [alex@example.com, sam@example.com]\nroles:\n  r:\n    github: {repository: o/r, permission: push}\n  bg:\n    break_glass: {max_duration: 4h, review_within: 24h}\n    github: {repository: o/r, permission: push}\n";

    fn grant(id: &str, subject: &str, role: &str, expires: &str) -> Grant {
        let text = format!("subject: {subject}\nrole: {role}\nexpires: {expires}\n");
        parse_grant(Path::new(&format!("grants/{id}.yaml")), &text).unwrap()
    }

    #[test]
    fn grants_end_with_the_contract_and_the_contract_lists_them() {
        let policy = parse_policy(Path::new("lapse.yaml"), POLICY).unwrap();
        let directory = Directory::new(&policy);
        let grants = [
            grant("cut", "alex@example.com", "r", "2027-01-01T00:00:00Z"),
            grant("soon", "sam@example.com", "bg", "2026-12-12T00:00:00Z"),
            grant("later", "sam@example.com", "r", "2027-01-01T00:00:00Z"),
            grant("orphan", "gone@example.com", "r", "2026-12-12T00:00:00Z"),
            grant("team", "group:team", "r", "2027-01-01T00:00:00Z"),
        ];
        let now = parse_timestamp("2026-12-10T00:00:00Z").unwrap();
        let window = ExpiryWindow::starting_at(now, "7d".parse().unwrap());
        let ending = window.select(&grants, &policy, &directory);
        let ids: Vec<&str> = ending.iter().map(|e| e.summary.id.as_str()).collect();
        assert_eq!(ids, ["soon", "cut"]);
        assert!(ending[0].summary.break_glass);
        assert_eq!(ending[1].end.reason, EndReason::ContractEnds);
        assert_eq!(ending[1].summary.ends, "2026-12-15T00:00:00Z");
        assert_eq!(ending[1].summary.expires, "2027-01-01T00:00:00Z");

        let contracts = window.contract_ends(&policy, &directory, &grants);
        assert_eq!(contracts.len(), 1);
        assert_eq!(contracts[0].person, "alex@example.com");
        // The group's grant goes on for sam; alex's access through it ends.
        assert_eq!(contracts[0].grants, ["cut", "team"]);
    }
}
