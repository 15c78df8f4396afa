//! Approval rules that the grant file alone can decide: enough distinct
//! people, each allowed to approve the role, none of them the subject.
//! Approval rules that need the commit history live in `history`.

use std::collections::BTreeSet;

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::history::signature::parse_signing_key;
use crate::history::{Authority, SignatureCheck};
use crate::model::identity::GROUP_PREFIX;
use crate::model::policy::Evidence;
use crate::model::timestamp::format_timestamp;
use crate::model::{Directory, Grant, Policy, Role, Spanned};
use ssh_key::public::KeyData;

use super::{ApprovalJudge, CheckContext};

pub const INSUFFICIENT_APPROVALS: Rule = Rule {
    id: "insufficient-approvals",
    severity: Severity::Error,
    summary: "fewer distinct approving people than the role's `min_approvals`",
    help: "ask another authorised approver; the same person under two spellings or aliases counts once",
};

pub const UNAUTHORIZED_APPROVER: Rule = Rule {
    id: "unauthorized-approver",
    severity: Severity::Error,
    summary: "an approver is not allowed to approve this role",
    help: "approvers must be listed in the role's `approvers`, directly or through a group",
};

pub const SELF_APPROVAL: Rule = Rule {
    id: "self-approval",
    severity: Severity::Error,
    summary: "an approver is the subject, or wrote the grant",
    help: "nobody approves their own access: ask another authorised approver",
};

pub const DEPARTED_APPROVER: Rule = Rule {
    id: "departed-approver",
    severity: Severity::Error,
    summary: "the approval was recorded after the approver's contract ended, or when the approver was not in `people`",
    help: "people who have left cannot approve: ask an authorised approver who is still here",
};

pub const UNVERIFIED_APPROVAL: Rule = Rule {
    id: "unverified-approval",
    severity: Severity::Error,
    summary: "the approval lacks the evidence `approvals.evidence` requires",
    help: "with signed-commit evidence, the approver adds their own name in a commit they sign with one of their `signing_keys` (git config gpg.format ssh, commit -S)",
};

pub const UNSATISFIABLE_APPROVAL: Rule = Rule {
    id: "unsatisfiable-approval",
    severity: Severity::Error,
    summary: "too few authorised approvers are left once the subject is excluded",
    help: "nobody approves their own access: add approvers outside the subject (group) to the role, or grant to fewer people",
};

pub fn check(grant: &Grant, context: &CheckContext, findings: &mut Vec<Diagnostic>) {
    let directory = &context.directory;
    let subject_members = subject_people(grant, context.policy, directory);
    let role = context.policy.role(&grant.file.role);
    let mut counted = BTreeSet::new();
    for approver in &grant.file.approvers {
        let person = directory.resolve(approver);
        if subject_members.contains(&person) {
            findings.push(SELF_APPROVAL.at(
                &grant.path,
                approver.at,
                format!(
                    "`{}` approves a grant whose subject includes them",
                    approver.value
                ),
            ));
            continue;
        }
        match judge_approval(grant, approver, &person, context) {
            Ok(Some(())) => {
                counted.insert(person);
            }
            Ok(None) => {}
            Err(finding) => findings.push(finding),
        }
    }
    let Some(role) = role else { return };
    let needed = role.min_approvals as usize;
    if counted.len() < needed {
        findings.push(INSUFFICIENT_APPROVALS.at(
            &grant.path,
            grant.file.approvers.first().map_or(grant.file.role.at, |a| a.at),
            format!(
                "role `{}` needs {needed} approval(s) from distinct authorised people; this grant has {}",
                grant.file.role.value,
                counted.len()
            ),
        ));
    }
    check_satisfiable(grant, role, &subject_members, context, findings);
}

/// Whether one listed approval counts: `Ok(Some(()))` when it does,
/// `Ok(None)` when another rule reports it (an unknown name), `Err` with
/// the finding when this family rejects it. The approver's authority, and
/// whether they were still here, come from the policy in force before the
/// change that recorded the approval, as of when it took effect: a pull
/// request that adds someone to an approver group cannot make them an
/// approver in the same change, and an approval stays valid after its
/// approver leaves, as it was given while they were here.
fn judge_approval(
    grant: &Grant,
    approver: &Spanned<String>,
    person: &str,
    context: &CheckContext,
) -> Result<Option<()>, Diagnostic> {
    let (policy, directory, at, then) = match context.approval_judge(grant, person) {
        ApprovalJudge::Base => return Ok(Some(())),
        ApprovalJudge::Recorded { authority, at, .. } => {
            (&authority.policy, &authority.directory, at, Some(authority))
        }
        ApprovalJudge::Current => (context.policy, &context.directory, context.now, None),
    };
    let known_now = context.directory.person(approver).is_some();
    let Some(key) = directory.person(approver) else {
        // An identity outside `people` now is `unknown-approver`'s finding;
        // one that is known now but was not when it approved had no
        // authority then.
        return if known_now {
            Err(DEPARTED_APPROVER.at(
                &grant.path,
                approver.at,
                format!(
                    "`{}` was not in `people` of the policy in force when this approval was recorded ({})",
                    approver.value,
                    describe_policy(then)
                ),
            ))
        } else {
            Ok(None)
        };
    };
    if !known_now && context.is_in_change(grant) {
        return Ok(None);
    }
    if let Some(ends) = policy.people.get(key).and_then(|p| p.contract_ends_at())
        && ends <= at
    {
        return Err(DEPARTED_APPROVER.at(
            &grant.path,
            approver.at,
            format!(
                "the approval of `{}` took effect {}, after their contract ended {}",
                approver.value,
                format_timestamp(&at),
                format_timestamp(&ends)
            ),
        ));
    }
    let Some(role) = policy.role(&grant.file.role) else {
        // A role the earlier policy lacks: only the current one can say.
        return authorised_now(grant, approver, person, context);
    };
    if is_authorised(role, &directory.resolve(approver), policy, directory) {
        return check_evidence(grant, approver, key, policy, context).map(Some);
    }
    let message = match then {
        Some(authority) if Some(authority.blob) != context.policy_blob => format!(
            "`{}` may not approve role `{}` under the policy in force before this change ({}); a change that gives them that authority cannot also use it",
            approver.value,
            grant.file.role.value,
            describe_policy(Some(authority))
        ),
        _ => format!(
            "`{}` may not approve role `{}`",
            approver.value, grant.file.role.value
        ),
    };
    Err(UNAUTHORIZED_APPROVER.at(&grant.path, approver.at, message))
}

/// Whether the approval carries the evidence the judging policy asks for.
fn check_evidence(
    grant: &Grant,
    approver: &Spanned<String>,
    key: &str,
    policy: &Policy,
    context: &CheckContext,
) -> Result<(), Diagnostic> {
    if policy.approvals.evidence.value != Evidence::SignedCommit {
        return Ok(());
    }
    let person = context.directory.resolve(approver);
    let commit = match context.approval_judge(grant, &person) {
        ApprovalJudge::Recorded { event, .. } => event.commit.as_ref().map(|c| c.id),
        _ => None,
    };
    let unverified = |why: String| {
        UNVERIFIED_APPROVAL.at(
            &grant.path,
            approver.at,
            format!(
                "the approval of `{}` is not signed by them: {why}",
                approver.value
            ),
        )
    };
    let Some(commit) = commit else {
        return Err(unverified(
            "no commit in the history records it, so no signature can be checked".to_owned(),
        ));
    };
    let keys = signing_keys(policy, key);
    match context.signatures.get(&commit) {
        Some(SignatureCheck::Valid(signer)) if keys.contains(signer) => Ok(()),
        Some(SignatureCheck::Valid(signer)) => Err(unverified(format!(
            "commit {} is signed by {}, which is not one of {key}'s signing_keys",
            short(&commit),
            owner_of_key(policy, signer).map_or("an unknown key".to_owned(), |owner| {
                format!("{owner}'s key")
            })
        ))),
        Some(other) => Err(unverified(format!(
            "commit {}: {}",
            short(&commit),
            other.describe()
        ))),
        None => Err(unverified(format!(
            "commit {} was not checked",
            short(&commit)
        ))),
    }
}

/// The keys a person signs with, as the policy lists them. Keys that do not
/// parse are `invalid-policy` when the policy loads.
pub fn signing_keys(policy: &Policy, person: &str) -> Vec<KeyData> {
    policy
        .people
        .get(person)
        .into_iter()
        .flat_map(|person| &person.signing_keys)
        .filter_map(|key| parse_signing_key(key).ok())
        .collect()
}

/// Whose `signing_keys` list `key`, if anyone's.
pub fn owner_of_key<'p>(policy: &'p Policy, key: &KeyData) -> Option<&'p str> {
    policy
        .people
        .keys()
        .find(|person| signing_keys(policy, person).contains(key))
        .map(String::as_str)
}

fn authorised_now(
    grant: &Grant,
    approver: &Spanned<String>,
    person: &str,
    context: &CheckContext,
) -> Result<Option<()>, Diagnostic> {
    let Some(role) = context.policy.role(&grant.file.role) else {
        return Ok(None);
    };
    if is_authorised(role, person, context.policy, &context.directory) {
        Ok(Some(()))
    } else {
        Err(UNAUTHORIZED_APPROVER.at(
            &grant.path,
            approver.at,
            format!(
                "`{}` may not approve role `{}`",
                approver.value, grant.file.role.value
            ),
        ))
    }
}

fn describe_policy(authority: Option<&Authority>) -> String {
    match authority {
        Some(authority) => format!("lapse.yaml blob {}", short(&authority.blob)),
        None => "this run's lapse.yaml".to_owned(),
    }
}

fn short(id: &git2::Oid) -> String {
    let mut text = id.to_string();
    text.truncate(12);
    text
}

/// `unsatisfiable-approval`: a grant whose subject includes so many of the
/// role's approvers that fewer than `min_approvals` others are left can
/// never be approved, and is better refused when it is written.
fn check_satisfiable(
    grant: &Grant,
    role: &Role,
    subject_members: &BTreeSet<String>,
    context: &CheckContext,
    findings: &mut Vec<Diagnostic>,
) {
    let approvers = approver_people(role, context.policy, &context.directory);
    let others = approvers.difference(subject_members).count();
    let needed = role.min_approvals as usize;
    if others < needed {
        findings.push(UNSATISFIABLE_APPROVAL.at(
            &grant.path,
            grant.file.subject.at,
            format!(
                "role `{}` needs {needed} approval(s), and only {others} of its approvers are outside subject `{}`",
                grant.file.role.value, grant.file.subject.value
            ),
        ));
    }
}

/// Every person who may approve `role`, resolved.
fn approver_people(role: &Role, policy: &Policy, directory: &Directory) -> BTreeSet<String> {
    role.approvers
        .iter()
        .flat_map(|allowed| match allowed.strip_prefix(GROUP_PREFIX) {
            Some(group) => members(policy, group)
                .map(|m| directory.resolve(m))
                .collect(),
            None => vec![directory.resolve(allowed)],
        })
        .collect()
}

/// The people a grant gives access to: the subject, or every member of the
/// subject group.
fn subject_people(grant: &Grant, policy: &Policy, directory: &Directory) -> BTreeSet<String> {
    let subject = &grant.file.subject.value;
    match subject.strip_prefix(GROUP_PREFIX) {
        Some(group) => members(policy, group)
            .map(|m| directory.resolve(m))
            .collect(),
        None => BTreeSet::from([directory.resolve(subject)]),
    }
}

fn members<'p>(policy: &'p Policy, group: &str) -> impl Iterator<Item = &'p str> {
    policy
        .groups
        .get(group)
        .into_iter()
        .flatten()
        .map(|m| m.value.as_str())
}

/// Whether `person` (already resolved) is among the role's approvers,
/// directly or through a group.
pub fn is_authorised(role: &Role, person: &str, policy: &Policy, directory: &Directory) -> bool {
    role.approvers
        .iter()
        .any(|allowed| match allowed.strip_prefix(GROUP_PREFIX) {
            Some(group) => members(policy, group).any(|member| directory.resolve(member) == person),
            None => directory.resolve(allowed) == person,
        })
}
