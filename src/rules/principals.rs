//! A grant render can provision: every person it binds has a principal at
//! the role's target. Found by check, on the grant's `subject` line,
//! rather than by render after the merge, where it would stop the render
//! of every grant.

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::model::Grant;
use crate::model::identity::GROUP_PREFIX;

use super::CheckContext;

pub const MISSING_IDENTITY: Rule = Rule {
    id: "missing-identity",
    severity: Severity::Error,
    summary: "the subject, or a member of the subject group, has no principal at the role's target",
    help: "add the person's identity at the target under `people` in lapse.yaml (aws: role or user ARN, gcp: member, azure: object id, github: login, ...)",
};

pub fn check(grant: &Grant, context: &CheckContext, findings: &mut Vec<Diagnostic>) {
    let policy = context.policy;
    let Some(target) = policy.role(&grant.file.role).and_then(|role| role.target()) else {
        return;
    };
    let kind = target.kind();
    let subject = &grant.file.subject;
    let members: Vec<&str> = match subject.strip_prefix(GROUP_PREFIX) {
        Some(group) => policy
            .groups
            .get(group)
            .into_iter()
            .flatten()
            .map(|member| member.value.as_str())
            .collect(),
        None => vec![subject.value.as_str()],
    };
    for member in members {
        // An unknown subject is `unknown-subject`'s finding.
        let Some((key, person)) = context
            .directory
            .person(member)
            .and_then(|key| policy.people.get_key_value(key))
        else {
            continue;
        };
        if kind.principal_of(key, person).is_none() {
            let whom = if subject.starts_with(GROUP_PREFIX) {
                format!("{key}, a member of `{}`,", subject.value)
            } else {
                key.clone()
            };
            findings.push(MISSING_IDENTITY.at(
                &grant.path,
                subject.at,
                format!(
                    "{whom} has no `{}` principal, so role `{}` cannot be provisioned for them; add people.{key}.{}",
                    kind.name, grant.file.role.value, kind.name
                ),
            ));
        }
    }
}
