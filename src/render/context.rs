//! What a template sees: one grant, its role's target, the principals it
//! binds and the module it instantiates, as plain serialisable data.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::RenderError;
use super::tags::aws_tags;
use crate::model::identity::GROUP_PREFIX;
use crate::model::lifecycle;
use crate::model::policy::Person;
use crate::model::timestamp::format_timestamp;
use crate::model::{Directory, Grant, Policy};
use crate::targets::TargetBlock;

/// The variables of a target template.
#[derive(Debug, Serialize)]
pub struct GrantContext<'a> {
    /// Terraform name of the module block: `grant_<grant id>`, and
    /// `grant_<grant id>_until_<end>` for members whose contract ends first.
    pub module_name: String,
    pub module_source: String,
    pub grant: GrantView<'a>,
    /// Person key in `lapse.yaml` → the principal the target knows them
    /// by. A group subject binds each of its members.
    pub principals: BTreeMap<&'a str, &'a str>,
    /// AWS tags, already within IAM's limits.
    pub tags: BTreeMap<String, String>,
    /// The role's target block, field names as in `lapse.yaml`.
    pub target: minijinja::Value,
}

#[derive(Debug, Serialize)]
pub struct GrantView<'a> {
    pub id: &'a str,
    pub role: &'a str,
    pub subject: &'a str,
    pub reason: Option<&'a str>,
    pub ticket: Option<&'a str>,
    pub approvers: Vec<&'a str>,
    /// UTC, `2026-12-06T17:00:00Z`: the one form every module validates.
    pub starts_at: Option<String>,
    pub expires_at: String,
}

/// The module blocks of an active grant whose role has `target`: one per
/// distinct end among the people it gives access to. A person's access
/// ends with their contract, also through a group: a member whose
/// `contract_ends` comes before the grant's end gets a block of their own
/// that the cloud ends then (`grant_<id>_until_<end>`), and one whose
/// contract has ended at `now` is left out. No block at all when every
/// member has left.
pub fn grant_contexts<'a>(
    policy: &'a Policy,
    directory: &Directory,
    grant: &'a Grant,
    target: &dyn TargetBlock,
    module_source: &str,
    now: DateTime<Utc>,
) -> Result<Vec<GrantContext<'a>>, RenderError> {
    // The cloud enforces the effective end: a contract that ends before
    // `expires` ends the access with it.
    let end = lifecycle::effective_end(grant, policy, directory)
        .map(|end| end.at)
        .ok_or_else(|| RenderError::NoExpiry {
            grant: grant.id.clone(),
        })?;
    let members = members(policy, directory, grant)?;
    let mut by_end: BTreeMap<DateTime<Utc>, BTreeMap<&'a str, &'a str>> = BTreeMap::new();
    if members.is_empty() {
        by_end.insert(end, BTreeMap::new());
    }
    for (key, person) in members {
        let member_end = person.contract_ends_at().map_or(end, |ends| ends.min(end));
        if member_end <= now {
            continue;
        }
        let principal = target.kind().principal_of(key, person).ok_or_else(|| {
            RenderError::MissingPrincipal {
                grant: grant.id.clone(),
                person: key.clone(),
                target: target.kind().name,
            }
        })?;
        by_end
            .entry(member_end)
            .or_default()
            .insert(key.as_str(), principal);
    }
    let base_name = module_name(&grant.id)?;
    // The grant's own end is the latest: its block first, then the
    // members' earlier ends.
    by_end
        .into_iter()
        .rev()
        .map(|(until, principals)| {
            let module_name = if until == end {
                base_name.clone()
            } else {
                format!("{base_name}_until_{}", until.format("%Y%m%dT%H%M%SZ"))
            };
            Ok(GrantContext {
                module_name,
                module_source: module_source.to_owned(),
                grant: grant_view(grant, until),
                principals,
                tags: aws_tags(grant),
                target: target.view(),
            })
        })
        .collect()
}

fn grant_view(grant: &Grant, until: DateTime<Utc>) -> GrantView<'_> {
    GrantView {
        id: &grant.id,
        role: &grant.file.role,
        subject: &grant.file.subject,
        reason: grant.file.reason.as_deref().map(String::as_str),
        ticket: grant.file.ticket.as_deref().map(String::as_str),
        approvers: grant.approver_names().collect(),
        starts_at: grant.starts_at().as_ref().map(format_timestamp),
        expires_at: format_timestamp(&until),
    }
}

/// A Terraform identifier for the grant's module block. Grant ids are
/// `[a-z0-9][a-z0-9-]*`; the prefix makes one that starts with a digit a
/// valid identifier too. Anything else is refused rather than mangled, so
/// two grants can never map to one name.
pub fn module_name(grant_id: &str) -> Result<String, RenderError> {
    if crate::load::is_valid_grant_id(grant_id) {
        Ok(format!("grant_{grant_id}"))
    } else {
        Err(RenderError::InvalidGrantId(grant_id.to_owned()))
    }
}

/// Every person the subject stands for, as keyed in `people`: the person,
/// or each member of the group.
fn members<'a>(
    policy: &'a Policy,
    directory: &Directory,
    grant: &Grant,
) -> Result<Vec<(&'a String, &'a Person)>, RenderError> {
    let subject = grant.file.subject.as_str();
    let names: Vec<&str> = match subject.strip_prefix(GROUP_PREFIX) {
        Some(group) => policy
            .groups
            .get(group)
            .ok_or_else(|| RenderError::UnknownSubject {
                grant: grant.id.clone(),
                subject: subject.to_owned(),
            })?
            .iter()
            .map(|member| member.value.as_str())
            .collect(),
        None => vec![subject],
    };
    names
        .into_iter()
        .map(|name| {
            directory
                .person(name)
                .and_then(|key| policy.people.get_key_value(key))
                .ok_or_else(|| RenderError::UnknownSubject {
                    grant: grant.id.clone(),
                    subject: name.to_owned(),
                })
        })
        .collect()
}
