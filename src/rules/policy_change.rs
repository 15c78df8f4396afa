//! Policy changes are approved too: a change to lapse.yaml, templates/ or
//! modules/ needs approval by `owners` of the policy before it, as many as
//! `approvals.owner_approvals`, who did not write it, with the evidence
//! that policy asks for. Without `owners` in the policy before the change,
//! nothing is required (the change that introduces owners is the last one
//! made without them).

use std::collections::BTreeSet;
use std::path::Path;

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::history::commit::POLICY_APPROVAL_TRAILER;
use crate::history::{Authority, CommitStamp, PolicyChange, SignatureCheck};
use crate::model::Position;
use crate::model::policy::Evidence;

use super::CheckContext;
use super::approvals::owner_of_key;

pub const POLICY_CHANGE_UNAPPROVED: Rule = Rule {
    id: "policy-change-unapproved",
    severity: Severity::Error,
    summary: "a change to the policy, templates or modules without approval by `owners`",
    help: "an owner who did not write the change approves it with a commit that carries the trailer `Lapse-Approves: policy` (signed with their key under signed-commit evidence), or an approving review of the head commit under forge-review",
};

pub fn check(context: &CheckContext, policy_path: &Path, findings: &mut Vec<Diagnostic>) {
    let Some(change) = &context.policy_change else {
        return;
    };
    let Some(before) = &change.before else {
        return;
    };
    let owners = before.policy.owner_people(&before.directory);
    if owners.is_empty() {
        return;
    }
    let evidence = before.policy.approvals.evidence.value;
    if evidence == Evidence::ForgeReview {
        // Forge reviews are read in pull-request mode only; the audit
        // trusts what was merged.
        if context.reviews.is_none() {
            return;
        }
    }
    let writers = writers(change, context, before);
    let approved = approvers(change, context, before, evidence);
    let counted: BTreeSet<&String> = approved
        .iter()
        .filter(|person| owners.contains(*person) && !writers.contains(*person))
        .collect();
    let needed = before.policy.approvals.owner_approvals as usize;
    if counted.len() >= needed {
        return;
    }
    let written_by = change
        .writers
        .iter()
        .map(|stamp| stamp.short_id())
        .collect::<Vec<_>>()
        .join(", ");
    findings.push(
        POLICY_CHANGE_UNAPPROVED
            .at(
                policy_path,
                Position::new(1, 1),
                format!(
                    "the change to {} (commit {written_by}) has {} of the {needed} approval(s) it needs from owners ({}) who did not write it",
                    change.files.join(", "),
                    counted.len(),
                    before
                        .policy
                        .owners
                        .iter()
                        .map(|owner| owner.value.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .with_help(help_for(evidence)),
    );
}

fn help_for(evidence: Evidence) -> String {
    match evidence {
        Evidence::CommitAuthor => format!(
            "an owner who did not write the change commits their approval: git commit --allow-empty -m \"Approve the policy change\" --trailer \"{POLICY_APPROVAL_TRAILER}\""
        ),
        Evidence::SignedCommit => format!(
            "an owner who did not write the change commits their approval, signed with one of their signing_keys: git commit -S --allow-empty -m \"Approve the policy change\" --trailer \"{POLICY_APPROVAL_TRAILER}\""
        ),
        Evidence::ForgeReview => {
            "an owner who did not write the change approves the pull request's head commit on the forge".to_owned()
        }
    }
}

/// Who wrote the change: authors and co-authors of its commits, and under
/// signed-commit evidence whoever signed them.
fn writers(change: &PolicyChange, context: &CheckContext, before: &Authority) -> BTreeSet<String> {
    let mut people = BTreeSet::new();
    for stamp in &change.writers {
        people.extend(stamp.people.iter().cloned());
        people.extend(signer(stamp, context, before));
    }
    people
}

/// Who approved the policy as it is in force: the author of each approving
/// commit, or its signer under signed-commit evidence, or each owner whose
/// forge review approved the head commit.
fn approvers(
    change: &PolicyChange,
    context: &CheckContext,
    before: &Authority,
    evidence: Evidence,
) -> BTreeSet<String> {
    match evidence {
        Evidence::CommitAuthor => change
            .approvals
            .iter()
            .filter_map(|stamp| stamp.people.first().cloned())
            .collect(),
        Evidence::SignedCommit => change
            .approvals
            .iter()
            .filter_map(|stamp| signer(stamp, context, before))
            .collect(),
        Evidence::ForgeReview => context.reviewed_head_by(&before.policy, &before.directory),
    }
}

/// The person whose signing key (in the policy before the change) signed
/// the commit, if one did.
fn signer(stamp: &CommitStamp, context: &CheckContext, before: &Authority) -> Option<String> {
    match context.signatures.get(&stamp.id) {
        Some(SignatureCheck::Valid(key)) => owner_of_key(&before.policy, key).map(str::to_owned),
        _ => None,
    }
}
