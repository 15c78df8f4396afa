//! `lapse.yaml`: text to `Policy`, then the structural checks serde cannot
//! express. A policy that fails either is fatal (exit 2): no grant can be
//! judged against a broken policy.

use std::collections::HashMap;
use std::path::Path;

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::model::identity::{GROUP_PREFIX, fold_identity};
use crate::model::policy::EXCEPTABLE_RULES;
use crate::model::timestamp::parse_timestamp;
use crate::model::{Directory, Policy, Position};
use crate::targets;

use super::yaml::parse_strict;
use crate::history::signature::parse_signing_key;

pub const INVALID_POLICY: Rule = Rule {
    id: "invalid-policy",
    severity: Severity::Error,
    summary: "the policy file is well-formed YAML but not a usable policy",
    help: "fix lapse.yaml as the message says; `lapse schema` prints the accepted structure",
};

pub const SUPPORTED_VERSION: u32 = 1;

pub fn parse_policy(path: &Path, text: &str) -> Result<Policy, Vec<Diagnostic>> {
    let mut policy: Policy = parse_strict(path, text).map_err(|finding| vec![finding])?;
    let mut problems = identity_clashes(path, &policy);
    problems.extend(structural_problems(path, &policy));
    if problems.is_empty() {
        for person in policy.people.values_mut() {
            person.parsed_signing_keys = person
                .signing_keys
                .iter()
                .filter_map(|key| parse_signing_key(key).ok())
                .collect();
        }
        Ok(policy)
    } else {
        Err(problems)
    }
}

/// Every spelling (key or alias, case-folded) must name one person. If two
/// people shared one, which of them an approval or a commit belongs to would
/// depend on the order of `people`, and a person could approve their own
/// grant under the other's name.
fn identity_clashes(path: &Path, policy: &Policy) -> Vec<Diagnostic> {
    let mut owner: HashMap<String, &str> = HashMap::new();
    let mut problems = Vec::new();
    for key in policy.people.keys() {
        if let Some(first) = owner.insert(fold_identity(key), key) {
            problems.push(INVALID_POLICY.at(
                path,
                Position::new(1, 1),
                format!("people `{first}` and `{key}` are the same identity once case is ignored; keep one entry"),
            ));
        }
    }
    for (key, person) in &policy.people {
        for alias in &person.aliases {
            match owner.insert(fold_identity(alias), key) {
                Some(other) if other != key.as_str() => problems.push(INVALID_POLICY.at(
                    path,
                    alias.at,
                    format!("alias `{}` of `{key}` already names `{other}`; an identity belongs to one person", alias.value),
                )),
                _ => {}
            }
        }
    }
    problems
}

fn structural_problems(path: &Path, policy: &Policy) -> Vec<Diagnostic> {
    let directory = Directory::new(policy);
    let mut problems = Vec::new();
    let mut problem =
        |at: Position, message: String| problems.push(INVALID_POLICY.at(path, at, message));

    if policy.version.value != SUPPORTED_VERSION {
        problem(
            policy.version.at,
            format!(
                "policy version {} is not supported; this lapse reads version {SUPPORTED_VERSION}",
                policy.version.value
            ),
        );
    }
    for (name, role) in &policy.roles {
        let targets = role.targets();
        if targets.len() != 1 {
            let found: Vec<_> = targets.iter().map(|t| t.kind().name).collect();
            problem(
                role.at,
                format!(
                    "role `{name}` must have exactly one target block ({}), found {}",
                    targets::names_for_message(),
                    if found.is_empty() {
                        "none".to_owned()
                    } else {
                        found.join(", ")
                    }
                ),
            );
        }
        for (at, message) in targets.iter().flat_map(|target| target.problems()) {
            let at = if at == Position::default() {
                role.at
            } else {
                at
            };
            problem(at, format!("role `{name}`: {message}"));
        }
        if role.min_approvals == 0 {
            problem(
                role.at,
                format!(
                    "role `{name}` has min_approvals 0; every grant needs at least one approver"
                ),
            );
        }
        for approver in &role.approvers {
            if let Some(message) = unknown_reference(policy, &directory, approver) {
                problem(
                    approver.at,
                    format!("role `{name}` names approver {message}"),
                );
            }
        }
        for exception in &role.exceptions {
            if !EXCEPTABLE_RULES.contains(&exception.rule.as_str()) {
                problem(
                    exception.rule.at,
                    format!(
                        "role `{name}` has an exception for `{}`; exceptions exist only for {}",
                        exception.rule.value,
                        EXCEPTABLE_RULES.join(", ")
                    ),
                );
            }
            if exception.justification.trim().len() < policy.defaults.min_reason_length {
                problem(
                    exception.justification.at,
                    format!(
                        "the exception for `{}` on role `{name}` needs a written justification",
                        exception.rule.value
                    ),
                );
            }
        }
    }
    for owner in &policy.owners {
        if let Some(message) = unknown_reference(policy, &directory, owner) {
            problem(owner.at, format!("`owners` names {message}"));
        }
    }
    for (name, members) in &policy.groups {
        for member in members {
            if directory.person(member).is_none() {
                problem(
                    member.at,
                    format!(
                        "group `{name}` lists `{}`, who is not in `people`",
                        member.value
                    ),
                );
            }
        }
    }
    problems.extend(signing_key_problems(path, policy));
    for (key, person) in &policy.people {
        for (at, message) in targets::principal_problems(key, person) {
            problems.push(INVALID_POLICY.at(path, at, message));
        }
        if let Some(ends) = &person.contract_ends
            && let Err(error) = parse_timestamp(ends)
        {
            problems.push(
                INVALID_POLICY
                    .at(path, ends.at, format!("contract_ends of `{key}`: {error}"))
                    .with_help(error.hint()),
            );
        }
    }
    problems
}

/// Every `signing_keys` entry must be an OpenSSH public key, and belong to
/// one person: a key two people share would make either's signature prove
/// the other's approval.
fn signing_key_problems(path: &Path, policy: &Policy) -> Vec<Diagnostic> {
    let mut owner = HashMap::new();
    let mut problems = Vec::new();
    for (name, person) in &policy.people {
        for key in &person.signing_keys {
            match parse_signing_key(key) {
                Err(error) => problems.push(
                    INVALID_POLICY
                        .at(path, key.at, format!("signing key of `{name}` is not an OpenSSH public key: {error}"))
                        .with_help("write the public key line, as in ~/.ssh/id_ed25519.pub: `ssh-ed25519 AAAA... comment`"),
                ),
                Ok(data) => {
                    if let Some(other) = owner.insert(data, name.as_str()).filter(|o| *o != name.as_str()) {
                        problems.push(INVALID_POLICY.at(
                            path,
                            key.at,
                            format!("signing key of `{name}` is also a signing key of `{other}`; a key belongs to one person"),
                        ));
                    }
                }
            }
        }
    }
    problems
}

/// Why a person or `group:<name>` named as an approver or owner is not in
/// the policy, if it is not.
fn unknown_reference(policy: &Policy, directory: &Directory, name: &str) -> Option<String> {
    match name.strip_prefix(GROUP_PREFIX) {
        Some(group) if !policy.groups.contains_key(group) => {
            Some(format!("group `{group}`, which is not defined in `groups`"))
        }
        Some(_) => None,
        None if directory.person(name).is_none() => {
            Some(format!("`{name}`, who is not in `people`"))
        }
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Policy, Vec<Diagnostic>> {
        parse_policy(Path::new("lapse.yaml"), text)
    }

    #[test]
    fn a_role_with_two_targets_is_rejected_at_the_role() {
        let text = "version: 1\nroles:\n  r:\n    gcp: {project: p, role: roles/viewer}\n    github: {repository: o/r, permission: pull}\n";
        let problems = parse(text).unwrap_err();
        assert_eq!(problems[0].rule, "invalid-policy");
        assert_eq!(problems[0].line, 4);
        assert!(problems[0].message.contains("gcp, github"));
    }

    #[test]
    fn unknown_version_is_rejected() {
        let problems = parse("version: 2\n").unwrap_err();
        assert!(problems[0].message.contains("version 2"));
    }

    #[test]
    fn an_invalid_duration_is_a_parse_error_on_its_line() {
        let problems = parse("version: 1\ndefaults:\n  max_duration: 3 days\n").unwrap_err();
        assert_eq!(problems[0].rule, "parse-error");
        assert_eq!(problems[0].line, 3, "{:?}", problems[0]);
    }

    #[test]
    fn approver_groups_must_exist() {
        let text = "version: 1\nroles:\n  r:\n    approvers: [group:nobody]\n    gcp: {project: p, role: roles/viewer}\n";
        let problems = parse(text).unwrap_err();
        assert!(problems[0].message.contains("group `nobody`"));
    }
}
