//! What a template sees: one grant, its role's target, the principals it
//! binds and the module it instantiates, as plain serialisable data.

use std::collections::BTreeMap;

use serde::Serialize;

use super::RenderError;
use super::tags::aws_tags;
use crate::model::identity::GROUP_PREFIX;
use crate::model::lifecycle;
use crate::model::timestamp::format_timestamp;
use crate::model::{Directory, Grant, Policy};
use crate::targets::{TargetBlock, TargetKind};

/// The variables of a target template.
#[derive(Debug, Serialize)]
pub struct GrantContext<'a> {
    /// Terraform name of the module block: `grant_<grant id>`.
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

/// Builds the context of an active grant whose role has `target`.
pub fn grant_context<'a>(
    policy: &'a Policy,
    directory: &Directory,
    grant: &'a Grant,
    target: &dyn TargetBlock,
    module_source: String,
) -> Result<GrantContext<'a>, RenderError> {
    // The cloud enforces the effective end: a contract that ends before
    // `expires` ends the access with it.
    let expires = lifecycle::effective_end(grant, policy, directory)
        .map(|end| end.at)
        .ok_or_else(|| RenderError::NoExpiry {
            grant: grant.id.clone(),
        })?;
    Ok(GrantContext {
        module_name: module_name(&grant.id)?,
        module_source,
        grant: GrantView {
            id: &grant.id,
            role: &grant.file.role,
            subject: &grant.file.subject,
            reason: grant.file.reason.as_deref().map(String::as_str),
            ticket: grant.file.ticket.as_deref().map(String::as_str),
            approvers: grant.approver_names().collect(),
            starts_at: grant.starts_at().as_ref().map(format_timestamp),
            expires_at: format_timestamp(&expires),
        },
        principals: principals(policy, directory, grant, target.kind())?,
        tags: aws_tags(grant),
        target: target.view(),
    })
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

/// Person key → principal for every person the subject stands for.
fn principals<'a>(
    policy: &'a Policy,
    directory: &Directory,
    grant: &Grant,
    target: &TargetKind,
) -> Result<BTreeMap<&'a str, &'a str>, RenderError> {
    let subject = grant.file.subject.as_str();
    let members: Vec<&str> = match subject.strip_prefix(GROUP_PREFIX) {
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
    let mut principals = BTreeMap::new();
    for member in members {
        let (key, person) = directory
            .person(member)
            .and_then(|key| policy.people.get_key_value(key))
            .ok_or_else(|| RenderError::UnknownSubject {
                grant: grant.id.clone(),
                subject: member.to_owned(),
            })?;
        let principal =
            target
                .principal_of(key, person)
                .ok_or_else(|| RenderError::MissingPrincipal {
                    grant: grant.id.clone(),
                    person: key.clone(),
                    target: target.name,
                })?;
        principals.insert(key.as_str(), principal);
    }
    Ok(principals)
}
