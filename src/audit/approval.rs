//! Whether an approval in the history counted, judged as `lapse check`
//! judges it: by the policy of the default branch before the change that
//! brought it (the one its pull request was judged by), as of when it took
//! effect, with the evidence that policy asks for.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use git2::Oid;
use ssh_key::HashAlg;

use crate::history::ledger::Recorded;
use crate::history::{Authority, SignatureCheck};
use crate::model::policy::Evidence;
use crate::model::timestamp::format_timestamp;
use crate::rules::approvals::{is_authorised, owner_of_key, signing_keys};

use super::report::EvidenceView;

/// One approval as the audit reports it.
pub struct Judgement {
    pub evidence: EvidenceView,
    /// `Err` with why, when it does not count toward `min_approvals`.
    pub counted: Result<(), String>,
}

/// What an approval is judged with.
pub struct ApprovalContext<'a> {
    /// The policy in force before the change that brought the approval.
    pub authority: &'a Authority,
    /// When it took effect on the default branch.
    pub effective: DateTime<Utc>,
    pub signatures: &'a HashMap<Oid, SignatureCheck>,
}

/// Judges `person`'s approval recorded in `recorded`, where `earlier` are
/// the events of the grant up to and including it.
pub fn judge(
    person: &str,
    recorded: &Recorded,
    earlier: &[Recorded],
    context: &ApprovalContext,
) -> Judgement {
    let authority = context.authority;
    let commit = recorded.event.commit.as_ref();
    let signature = commit.and_then(|commit| context.signatures.get(&commit.id));
    let signer_key = match signature {
        Some(SignatureCheck::Valid(key)) => Some(key),
        _ => None,
    };
    let evidence = EvidenceView {
        kind: authority.policy.approvals.evidence.value.as_str(),
        recorded_by: commit
            .map(|commit| commit.author.clone())
            .unwrap_or_default(),
        key: signer_key.map(|key| key.fingerprint(HashAlg::Sha256).to_string()),
        signer: signer_key
            .and_then(|key| owner_of_key(&authority.policy, key))
            .map(str::to_owned),
    };
    let counted = counts(person, recorded, earlier, context, signature);
    Judgement { evidence, counted }
}

fn counts(
    person: &str,
    recorded: &Recorded,
    earlier: &[Recorded],
    context: &ApprovalContext,
    signature: Option<&SignatureCheck>,
) -> Result<(), String> {
    let (policy, directory) = (&context.authority.policy, &context.authority.directory);
    let Some(version) = recorded.event.version.as_deref() else {
        return Err("the version it approves is not a valid grant".to_owned());
    };
    let role = policy.role(&version.role).ok_or_else(|| {
        format!(
            "role `{}` is not in the policy in force",
            version.role.value
        )
    })?;
    let key = directory
        .person(person)
        .ok_or_else(|| format!("`{person}` was not in `people` of the policy in force"))?;
    let resolved = directory.resolve(person);
    let subject = &version.subject.value;
    let is_subject = policy
        .names_behind(subject)
        .any(|name| directory.resolve(name) == resolved);
    if is_subject {
        return Err("the approver is the subject, or in the subject group".to_owned());
    }
    if let Some(ends) = policy.people.get(key).and_then(|p| p.contract_ends_at())
        && ends <= context.effective
    {
        return Err(format!(
            "it took effect after the approver's contract ended {}",
            format_timestamp(&ends)
        ));
    }
    if !is_authorised(role, &resolved, policy, directory) {
        return Err(format!(
            "`{person}` was not among the approvers of role `{}`",
            version.role.value
        ));
    }
    let keys = signing_keys(policy, key);
    let signed_by_them = |check: Option<&SignatureCheck>| matches!(check, Some(SignatureCheck::Valid(k)) if keys.contains(k));
    if let Some(change) = earlier.iter().find(|earlier| {
        earlier.event.substantive
            && earlier.event.commit.as_ref().is_some_and(|commit| {
                commit.is_by(person) || signed_by_them(context.signatures.get(&commit.id))
            })
    }) {
        let commit = change
            .event
            .commit
            .as_ref()
            .map(|c| c.short_id())
            .unwrap_or_default();
        return Err(format!(
            "the approver wrote commit {commit}, which changed the grant (self-approval)"
        ));
    }
    if policy.approvals.evidence.value == Evidence::SignedCommit && !signed_by_them(signature) {
        return Err(match signature {
            Some(SignatureCheck::Valid(_)) => {
                "the commit is signed by a key that is not one of the approver's signing_keys"
                    .to_owned()
            }
            Some(other) => other.describe(),
            None => "the commit's signature was not checked".to_owned(),
        });
    }
    Ok(())
}
