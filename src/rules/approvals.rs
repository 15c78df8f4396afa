//! Approval rules that the grant file alone can decide: enough distinct
//! people, each allowed to approve the role, none of them the subject.
//! Approval rules that need the commit history live in `history`.

use std::collections::BTreeSet;

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::history::{Authority, SignatureCheck};
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
            Judgement::Counts => {
                counted.insert(person);
            }
            Judgement::ReportedElsewhere => {}
            Judgement::Rejected(finding) => findings.push(finding),
        }
    }
    let Some(role) = role else { return };
    let needed = role.min_approvals as usize;
    // A break-glass grant is merged first and approved within its window.
    if counted.len() < needed && !super::break_glass::awaits_review(grant, role, context) {
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

/// What one listed approval amounts to.
pub(super) enum Judgement {
    Counts,
    /// Another rule reports it (an unknown name or role).
    ReportedElsewhere,
    Rejected(Diagnostic),
}

/// Whether one listed approval counts. The approver's authority, and
/// whether they were still here, come from the policy in force before the
/// change that recorded the approval, as of when it took effect: a pull
/// request that adds someone to an approver group, or adds a role, cannot
/// make them an approver in the same change, and an approval stays valid
/// after its approver leaves, as it was given while they were here.
pub(super) fn judge_approval(
    grant: &Grant,
    approver: &Spanned<String>,
    person: &str,
    context: &CheckContext,
) -> Judgement {
    let (policy, directory, at, then, commit) = match context.approval_judge(grant, person) {
        ApprovalJudge::Base => return Judgement::Counts,
        ApprovalJudge::Recorded {
            event,
            authority,
            at,
        } => (
            &authority.policy,
            &authority.directory,
            at,
            Some(authority),
            event.commit.as_ref().map(|commit| commit.id),
        ),
        ApprovalJudge::Current => (context.policy, &context.directory, context.now, None, None),
    };
    let known_now = context.directory.person(approver).is_some();
    let Some(key) = directory.person(approver) else {
        // An identity outside `people` now is `unknown-approver`'s finding;
        // one that is known now but was not when it approved had no
        // authority then.
        if !known_now {
            return Judgement::ReportedElsewhere;
        }
        return Judgement::Rejected(DEPARTED_APPROVER.at(
            &grant.path,
            approver.at,
            format!(
                "`{}` was not in `people` of the policy in force when this approval was recorded ({})",
                approver.value,
                describe_policy(then)
            ),
        ));
    };
    if !known_now && context.is_in_change(grant) {
        return Judgement::ReportedElsewhere;
    }
    if let Some(ends) = policy.people.get(key).and_then(|p| p.contract_ends_at())
        && ends <= at
    {
        return Judgement::Rejected(DEPARTED_APPROVER.at(
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
    let authorised = policy
        .role(&grant.file.role)
        .is_some_and(|role| is_authorised(role, &directory.resolve(approver), policy, directory));
    if !authorised {
        if context.policy.role(&grant.file.role).is_none() {
            return Judgement::ReportedElsewhere;
        }
        return Judgement::Rejected(unauthorised(grant, approver, policy, then, context));
    }
    match check_evidence(grant, approver, key, policy, commit, context) {
        Ok(()) => Judgement::Counts,
        Err(finding) => Judgement::Rejected(finding),
    }
}

fn unauthorised(
    grant: &Grant,
    approver: &Spanned<String>,
    policy: &Policy,
    then: Option<&Authority>,
    context: &CheckContext,
) -> Diagnostic {
    let role = &grant.file.role.value;
    let message = match then {
        Some(authority) if Some(authority.blob) != context.policy_blob => {
            let why = if policy.role(role).is_none() {
                format!("role `{role}` does not exist in the policy in force before this change")
            } else {
                format!(
                    "`{}` may not approve role `{role}` under the policy in force before this change",
                    approver.value
                )
            };
            format!(
                "{why} ({}); a change that gives authority cannot also use it",
                describe_policy(Some(authority))
            )
        }
        _ => format!("`{}` may not approve role `{role}`", approver.value),
    };
    UNAUTHORIZED_APPROVER.at(&grant.path, approver.at, message)
}

/// Whether the approval carries the evidence the judging policy asks for.
fn check_evidence(
    grant: &Grant,
    approver: &Spanned<String>,
    key: &str,
    policy: &Policy,
    commit: Option<git2::Oid>,
    context: &CheckContext,
) -> Result<(), Diagnostic> {
    match policy.approvals.evidence.value {
        Evidence::CommitAuthor => return Ok(()),
        Evidence::ForgeReview => return check_review(grant, approver, key, policy, context),
        Evidence::SignedCommit => {}
    }
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

/// Under forge-review evidence, in pull-request mode: the approver's forge
/// account (in the judging policy) approved the pull request's head
/// commit. A review of an older commit is stale. The audit trusts what was
/// merged (the forge enforced the review then).
fn check_review(
    grant: &Grant,
    approver: &Spanned<String>,
    key: &str,
    policy: &Policy,
    context: &CheckContext,
) -> Result<(), Diagnostic> {
    let Some(reviews) = &context.reviews else {
        return Ok(());
    };
    if !context.is_in_change(grant) {
        return Ok(());
    }
    let forge = reviews.forge;
    let unverified = |why: String| {
        Err(UNVERIFIED_APPROVAL
            .at(
                &grant.path,
                approver.at,
                format!(
                    "the approval of `{}` has no approving review on {}: {why}",
                    approver.value,
                    forge.name()
                ),
            )
            .with_help(format!(
                "{key} approves pull request #{} on {} after its last commit",
                reviews.number,
                forge.name()
            )))
    };
    let Some(login) = policy
        .people
        .get(key)
        .and_then(|person| forge.login_of(person))
    else {
        return unverified(format!(
            "lapse.yaml has no {} account for {key}",
            forge.name()
        ));
    };
    match reviews.approval_by(login) {
        Some(approval) if approval.of_head => Ok(()),
        Some(approval) => unverified(format!(
            "{login} approved commit {}, not the head commit {}",
            approval.commit_sha, reviews.head_sha
        )),
        None => unverified(format!(
            "{login} has not approved pull request #{}",
            reviews.number
        )),
    }
}

/// The keys a person signs with, as the policy lists them. Keys that do not
/// parse are `invalid-policy` when the policy loads.
pub fn signing_keys<'p>(policy: &'p Policy, person: &str) -> &'p [KeyData] {
    policy
        .people
        .get(person)
        .map_or(&[], |person| person.parsed_signing_keys.as_slice())
}

/// Whose `signing_keys` list `key`, if anyone's.
pub fn owner_of_key<'p>(policy: &'p Policy, key: &KeyData) -> Option<&'p str> {
    policy
        .people
        .keys()
        .find(|person| signing_keys(policy, person).contains(key))
        .map(String::as_str)
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
    let role_approvers = role.approvers.iter().map(|approver| approver.as_str());
    let approvers = context
        .policy
        .people_behind(role_approvers, &context.directory);
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

/// The people a grant gives access to: the subject, or every member of the
/// subject group.
pub(super) fn subject_people(
    grant: &Grant,
    policy: &Policy,
    directory: &Directory,
) -> BTreeSet<String> {
    policy.people_behind([grant.file.subject.value.as_str()], directory)
}

/// Whether `person` (already resolved) is among the role's approvers,
/// directly or through a group.
pub fn is_authorised(role: &Role, person: &str, policy: &Policy, directory: &Directory) -> bool {
    role.approvers
        .iter()
        .flat_map(|allowed| policy.names_behind(allowed))
        .any(|name| directory.resolve(name) == person)
}
