//! Which grants prune removes, and why: those whose access has ended at the
//! cutoff (at their own `expires`, or at their subject's `contract_ends`
//! when that came first), and those whose subject the base commit's policy
//! no longer knows. Nothing else is ever selected.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::lifecycle::{
    EndReason, GrantEnd, SubjectStatus, contract_end, effective_end, subject_status,
};
use crate::model::timestamp::format_timestamp;
use crate::model::{Directory, Grant, GrantDuration, Policy};

use super::summary::{GrantSummary, single_line};

/// Why a grant is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Why {
    /// Its own `expires` is at or before the cutoff.
    Expired,
    /// Its subject's `contract_ends`, earlier than `expires`, is at or
    /// before the cutoff.
    ContractEnded,
    /// Its subject is no longer a person or group of the policy: it gives
    /// access to nobody, and `lapse render` never provisions it.
    Orphaned,
}

/// A grant prune removes.
#[derive(Debug, Clone)]
pub struct Removal {
    pub grant: Grant,
    pub why: Why,
    /// When its access ended; `None` for an orphaned grant without a valid
    /// `expires`.
    pub end: Option<GrantEnd>,
}

/// A removed grant as the report, the commit message and the pull request
/// show it.
#[derive(Debug, Clone, Serialize)]
pub struct RemovedGrant {
    #[serde(flatten)]
    pub summary: GrantSummary,
    /// `expired`, `contract-ended` or `orphaned`.
    pub removed_because: Why,
    /// The command that requests the same access again, when the subject
    /// is still in the policy (see `extend_command`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extend: Option<String>,
    /// What must change first for `extend` to be accepted: the contract
    /// of a person whose contract has ended must be moved later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extend_after: Option<String>,
}

/// Splits the base commit's grants into those prune removes and those that
/// stay. Without a policy that loads (none at the base, or a broken one),
/// only a grant's own `expires` can be judged, so contract ends and orphans
/// wait until the policy loads again: nothing is removed on a guess.
pub fn select(
    grants: Vec<Grant>,
    policy: Option<&Policy>,
    cutoff: DateTime<Utc>,
) -> (Vec<Removal>, Vec<Grant>) {
    let directory = policy.map(Directory::new);
    let mut removed = Vec::new();
    let mut remaining = Vec::new();
    for grant in grants {
        let judged = match (policy, &directory) {
            (Some(policy), Some(directory)) => judge(&grant, policy, directory, cutoff),
            _ => judge_by_expiry(&grant, cutoff),
        };
        match judged {
            Some((why, end)) => removed.push(Removal { grant, why, end }),
            None => remaining.push(grant),
        }
    }
    (removed, remaining)
}

fn judge(
    grant: &Grant,
    policy: &Policy,
    directory: &Directory,
    cutoff: DateTime<Utc>,
) -> Option<(Why, Option<GrantEnd>)> {
    let end = effective_end(grant, policy, directory);
    if subject_status(grant, policy, directory) == SubjectStatus::Orphaned {
        return Some((Why::Orphaned, end));
    }
    let end = end.filter(|end| end.at <= cutoff)?;
    let why = match end.reason {
        EndReason::Expires => Why::Expired,
        EndReason::ContractEnds => Why::ContractEnded,
    };
    Some((why, Some(end)))
}

fn judge_by_expiry(grant: &Grant, cutoff: DateTime<Utc>) -> Option<(Why, Option<GrantEnd>)> {
    let at = grant.expires_at().filter(|expires| *expires <= cutoff)?;
    let end = GrantEnd {
        at,
        reason: EndReason::Expires,
    };
    Some((Why::Expired, Some(end)))
}

impl Removal {
    /// The removal as readers see it. `now` is the run's instant (not the
    /// cutoff), from which the suggested extension is sized.
    pub fn describe(&self, policy: Option<&Policy>, now: DateTime<Utc>) -> RemovedGrant {
        let summary = self.summary(policy);
        let (extend, extend_after) = match policy {
            Some(policy) => extend_command(self, policy, now),
            None => (None, None),
        };
        RemovedGrant {
            summary,
            removed_because: self.why,
            extend,
            extend_after,
        }
    }

    fn summary(&self, policy: Option<&Policy>) -> GrantSummary {
        let break_glass = policy
            .and_then(|policy| policy.role(&self.grant.file.role))
            .is_some_and(|role| role.break_glass.is_some());
        match (self.grant.expires_at(), self.end) {
            (Some(expires), Some(end)) => {
                GrantSummary::ending(&self.grant, expires, end, break_glass)
            }
            // An orphaned grant need not have a valid `expires`: it is
            // shown as written, or as `none`.
            _ => {
                let written = self
                    .grant
                    .file
                    .expires
                    .as_ref()
                    .map_or_else(|| "none".to_owned(), |text| single_line(text));
                GrantSummary::unended(&self.grant, written, break_glass)
            }
        }
    }
}

/// `lapse extend <id> --for <the role's max_duration>` (or `--until` the
/// subject's contract end, when that comes sooner), for a grant whose
/// subject and role are still in the policy; with, when the subject's
/// contract has ended, the change the extension needs first (`lapse
/// extend` refuses to pass a contract end).
fn extend_command(
    removal: &Removal,
    policy: &Policy,
    now: DateTime<Utc>,
) -> (Option<String>, Option<String>) {
    let grant = &removal.grant;
    let Some(role) = policy.role(&grant.file.role) else {
        return (None, None);
    };
    if removal.why == Why::Orphaned {
        return (None, None);
    }
    let max: GrantDuration = policy.max_duration_of(role);
    let directory = Directory::new(policy);
    let contract = contract_end(&grant.file.subject, policy, &directory);
    let length = match contract {
        Some(ends) if ends > now && ends < now + max.as_time_delta() => {
            format!("--until {}", format_timestamp(&ends))
        }
        _ => format!("--for {max}"),
    };
    // Grant ids are `[a-z0-9][a-z0-9-]*` (checked when the file is read),
    // so the command needs no quoting.
    let command = format!("lapse extend {} {length}", grant.id);
    let after = contract.filter(|ends| *ends <= now).map(|_| {
        format!(
            "move contract_ends of {} in lapse.yaml later",
            single_line(&grant.file.subject)
        )
    });
    (Some(command), after)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::load::{parse_grant, parse_policy};
    use crate::model::timestamp::parse_timestamp;

    const POLICY: &str = "version: 1\npeople:\n  alex@example.com:\n    contract_ends: 2026-12-05T00:00:00Z\n  sam@example.com: {}\nroles:\n  r:\n    max_duration: 14d\n    github: {repository: o/r, permission: push}\n";

    fn grant(id: &str, subject: &str, expires: &str) -> Grant {
        let text = format!("subject: {subject}\nrole: r\nexpires: {expires}\n");
        parse_grant(Path::new(&format!("grants/{id}.yaml")), &text).unwrap()
    }

    #[test]
    fn ended_and_orphaned_grants_go_and_nothing_else() {
        let policy = parse_policy(Path::new("lapse.yaml"), POLICY).unwrap();
        let grants = vec![
            grant("expired", "sam@example.com", "2026-12-01T00:00:00Z"),
            grant("contract", "alex@example.com", "2026-12-20T00:00:00Z"),
            grant("orphan", "gone@example.com", "2027-01-01T00:00:00Z"),
            grant("orphan-no-expiry", "gone@example.com", "soon"),
            grant("active", "sam@example.com", "2026-12-20T00:00:00Z"),
            grant("no-expiry", "sam@example.com", "soon"),
        ];
        let cutoff = parse_timestamp("2026-12-10T00:00:00Z").unwrap();
        let (removed, remaining) = select(grants, Some(&policy), cutoff);
        let why: Vec<(&str, Why)> = removed
            .iter()
            .map(|r| (r.grant.id.as_str(), r.why))
            .collect();
        assert_eq!(
            why,
            [
                ("expired", Why::Expired),
                ("contract", Why::ContractEnded),
                ("orphan", Why::Orphaned),
                ("orphan-no-expiry", Why::Orphaned),
            ]
        );
        let kept: Vec<&str> = remaining.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(kept, ["active", "no-expiry"]);
    }

    #[test]
    fn without_a_policy_only_expires_is_judged() {
        let grants = vec![
            grant("expired", "sam@example.com", "2026-12-01T00:00:00Z"),
            grant("orphan", "gone@example.com", "2027-01-01T00:00:00Z"),
        ];
        let cutoff = parse_timestamp("2026-12-10T00:00:00Z").unwrap();
        let (removed, remaining) = select(grants, None, cutoff);
        assert_eq!(removed.len(), 1);
        assert_eq!(remaining[0].id, "orphan");
    }

    #[test]
    fn the_extension_fits_the_role_and_the_contract() {
        let policy = parse_policy(Path::new("lapse.yaml"), POLICY).unwrap();
        let now = parse_timestamp("2026-11-28T00:00:00Z").unwrap();
        let removal = |id, subject, why| Removal {
            grant: grant(id, subject, "2026-11-27T00:00:00Z"),
            why,
            end: None,
        };
        let sam = removal("sam-r", "sam@example.com", Why::Expired).describe(Some(&policy), now);
        assert_eq!(sam.extend.as_deref(), Some("lapse extend sam-r --for 14d"));
        let alex = removal("alex-r", "alex@example.com", Why::Expired).describe(Some(&policy), now);
        assert_eq!(
            alex.extend.as_deref(),
            Some("lapse extend alex-r --until 2026-12-05T00:00:00Z")
        );
        let gone =
            removal("gone-r", "gone@example.com", Why::Orphaned).describe(Some(&policy), now);
        assert_eq!(gone.extend, None);
    }
}
