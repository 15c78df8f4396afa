//! The checks. Each family of rules is one file declaring its rules (id,
//! severity, help) next to the function that finds them; this file lists
//! them all once. Rules are pure: the policy, the grants, the clock and the
//! history are inputs, findings the only output.

pub mod approvals;
pub mod break_glass;
pub mod expiry;
pub mod history;
mod iam_pattern;
pub mod justification;
pub mod overlap;
pub mod policy_change;
pub mod principals;
pub mod privilege;
pub mod references;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::diagnostic::{Diagnostic, Rule};
use crate::forge::reviews::PullReviews;
use crate::history::{Authorities, Authority, Event, PolicyChange, SignatureCheck};
use crate::load;
use crate::model::{Directory, Grant, Policy};

/// Every rule lapse can report, in the order the README documents them.
pub const RULES: &[&Rule] = &[
    &load::yaml::PARSE_ERROR,
    &load::policy::INVALID_POLICY,
    &load::grant::INVALID_GRANT_ID,
    &load::DUPLICATE_GRANT_ID,
    &load::tree::REFUSED_FILE,
    &expiry::MISSING_EXPIRY,
    &expiry::INVALID_TIMESTAMP,
    &expiry::EXPIRED,
    &expiry::EXPIRES_BEFORE_START,
    &expiry::DURATION_EXCEEDS_MAX,
    &expiry::OUTLIVES_CONTRACT,
    &references::UNKNOWN_ROLE,
    &references::UNKNOWN_SUBJECT,
    &references::ORPHANED_GRANT,
    &references::UNKNOWN_APPROVER,
    &principals::MISSING_IDENTITY,
    &justification::MISSING_REASON,
    &justification::MISSING_TICKET,
    &approvals::INSUFFICIENT_APPROVALS,
    &approvals::UNAUTHORIZED_APPROVER,
    &approvals::SELF_APPROVAL,
    &approvals::DEPARTED_APPROVER,
    &approvals::UNVERIFIED_APPROVAL,
    &approvals::UNSATISFIABLE_APPROVAL,
    &break_glass::BREAK_GLASS,
    &break_glass::UNREVIEWED_BREAK_GLASS,
    &history::STALE_APPROVAL,
    &history::UNCOMMITTED_GRANT,
    &overlap::DUPLICATE_GRANT,
    &policy_change::POLICY_CHANGE_UNAPPROVED,
    &privilege::WILDCARD_ACTION,
    &privilege::WILDCARD_RESOURCE,
    &privilege::PRIVILEGE_ESCALATION,
    &privilege::ADMIN_ROLE,
    &privilege::BASIC_ROLE,
];

pub fn rule_by_id(id: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|rule| rule.id == id)
}

/// Judges one grant on its own.
type GrantCheck = fn(&Grant, &CheckContext, &mut Vec<Diagnostic>);
/// Judges the grants against each other; reports only pairs that involve a
/// grant the run judges in full.
type SetCheck = fn(&[Grant], &CheckContext, &mut Vec<Diagnostic>);
/// Judges the role catalog of the policy.
type CatalogCheck = fn(&Policy, &Path, &mut Vec<Diagnostic>);
/// Judges the change to the policy itself.
type PolicyChangeCheck = fn(&CheckContext, &Path, &mut Vec<Diagnostic>);

const GRANT_CHECKS: &[GrantCheck] = &[
    expiry::check,
    references::check,
    principals::check,
    justification::check,
    approvals::check,
    break_glass::check,
    history::check,
];
const SET_CHECKS: &[SetCheck] = &[overlap::check];
const CATALOG_CHECKS: &[CatalogCheck] = &[privilege::check];
const POLICY_CHANGE_CHECKS: &[PolicyChangeCheck] = &[policy_change::check];

/// Which grants a run judges as changes.
#[derive(Debug, Clone, Default)]
pub enum Scope {
    /// Audit mode: every grant is judged in full; grants already in the
    /// repository are not "new", so an expired one is prune's job (warning).
    #[default]
    Audit,
    /// Pull-request mode: the grants with these ids are the change, and
    /// only they are held to the rules for a change (an expired grant is an
    /// error only there). A change that edits the policy has every grant
    /// judged against the new policy too: a grant the new policy rejects
    /// would otherwise pass the pull request and fail the next audit.
    Change {
        /// By path.
        grants: HashSet<PathBuf>,
        policy_edited: bool,
    },
}

/// Everything a rule may read besides the grant itself.
pub struct CheckContext<'a> {
    pub policy: &'a Policy,
    pub directory: Directory,
    pub now: DateTime<Utc>,
    pub scope: Scope,
    /// Time of the commit that added each grant, by path, when the
    /// history is known: `duration-exceeds-max` measures from it when the
    /// grant has no `starts`.
    pub added_at: HashMap<PathBuf, DateTime<Utc>>,
    /// Each grant's commit history, by path, when lapse runs in a git
    /// repository: `self-approval` and `stale-approval` read it.
    pub history: HashMap<PathBuf, crate::history::GrantHistory>,
    /// Grants on disk that HEAD does not commit as they are (new, edited,
    /// or not in HEAD at all), when lapse runs in a git repository: their
    /// history is not theirs, so it cannot judge them.
    pub uncommitted: HashSet<PathBuf>,
    /// The policy in force before each approving commit's change.
    pub authorities: Authorities,
    /// The blob id of this run's lapse.yaml, to tell an earlier policy
    /// from it.
    pub policy_blob: Option<git2::Oid>,
    /// The signatures of the commits that changed judged grants, when
    /// signed commits are the evidence.
    pub signatures: HashMap<git2::Oid, SignatureCheck>,
    /// The change that made the policy in force, for its owners.
    pub policy_change: Option<PolicyChange>,
    /// The pull request's reviews, in pull-request mode under forge-review
    /// evidence.
    pub reviews: Option<PullReviews>,
    /// In audit mode, when each grant's current terms were put in force on
    /// the branch: a break-glass grant's review is due from then.
    pub in_force: HashMap<PathBuf, DateTime<Utc>>,
}

/// By what an approval of a grant is judged.
pub enum ApprovalJudge<'a> {
    /// Already on the base branch in pull-request mode: judged when it was
    /// merged.
    Base,
    /// Recorded in a commit: judged by the policy in force before the
    /// change that brought it, as of when it took effect.
    Recorded {
        event: &'a Event,
        authority: &'a Authority,
        at: DateTime<Utc>,
    },
    /// No history to tell (no repository, or the policy's first version):
    /// the policy this run reads, now.
    Current,
}

impl<'a> CheckContext<'a> {
    pub fn new(policy: &'a Policy, now: DateTime<Utc>) -> Self {
        Self {
            policy,
            directory: Directory::new(policy),
            now,
            scope: Scope::Audit,
            added_at: HashMap::new(),
            history: HashMap::new(),
            uncommitted: HashSet::new(),
            authorities: Authorities::default(),
            policy_blob: None,
            signatures: HashMap::new(),
            policy_change: None,
            reviews: None,
            in_force: HashMap::new(),
        }
    }

    /// Whether the run judges this grant as part of the change under review.
    pub fn is_in_change(&self, grant: &Grant) -> bool {
        match &self.scope {
            Scope::Audit => false,
            Scope::Change { grants, .. } => grants.contains(&grant.path),
        }
    }

    /// How the approval of `person` (a resolved identity) listed in `grant`
    /// is judged: from the commit that recorded it for the grant's current
    /// terms (else the latest that recorded it at all).
    pub fn approval_judge(&self, grant: &Grant, person: &str) -> ApprovalJudge<'_> {
        let Some(history) = self.history.get(&grant.path) else {
            // In pull-request mode a grant the change did not touch is as
            // the base branch holds it.
            return match self.scope {
                Scope::Change { .. } if !self.is_in_change(grant) => ApprovalJudge::Base,
                _ => ApprovalJudge::Current,
            };
        };
        let event = history
            .approval_covering(person, &grant.file)
            .or_else(|| history.latest_approval_of(person));
        let Some(event) = event else {
            return ApprovalJudge::Current;
        };
        let Some(commit) = &event.commit else {
            return ApprovalJudge::Base;
        };
        match self.authorities.of(commit.id) {
            Some(judged) => ApprovalJudge::Recorded {
                event,
                authority: &judged.authority,
                at: judged.effective,
            },
            None => ApprovalJudge::Current,
        }
    }

    /// Whether `approver`, who is not in `people` now, approved `grant`
    /// while they were: an approval that stays valid after its approver
    /// leaves, on a grant this run does not judge as a change.
    pub fn approved_before_leaving(&self, grant: &Grant, approver: &str) -> bool {
        if self.is_in_change(grant) {
            return false;
        }
        match self.approval_judge(grant, &self.directory.resolve(approver)) {
            ApprovalJudge::Base => true,
            ApprovalJudge::Recorded { authority, .. } => {
                authority.directory.person(approver).is_some()
            }
            ApprovalJudge::Current => false,
        }
    }

    /// Whether `commit` carries a valid signature by one of the keys this
    /// run's policy lists for `person`: with signed commits, who signed a
    /// change wrote it, whatever its author field claims.
    pub fn signed_by(&self, commit: git2::Oid, person: &str) -> bool {
        match self.signatures.get(&commit) {
            Some(SignatureCheck::Valid(key)) => {
                approvals::signing_keys(self.policy, person).contains(key)
            }
            _ => false,
        }
    }

    /// The people of `policy` whose forge account approved the pull
    /// request's head commit.
    pub fn reviewed_head_by(&self, policy: &Policy, directory: &Directory) -> BTreeSet<String> {
        let Some(reviews) = &self.reviews else {
            return BTreeSet::new();
        };
        policy
            .people
            .iter()
            .filter(|(_, person)| {
                reviews
                    .forge
                    .login_of(person)
                    .and_then(|login| reviews.approval_by(login))
                    .is_some_and(|approval| approval.of_head)
            })
            .map(|(key, _)| directory.resolve(key))
            .collect()
    }

    /// Whether every rule applies to this grant in this run.
    pub fn judges_in_full(&self, grant: &Grant) -> bool {
        match &self.scope {
            Scope::Audit => true,
            Scope::Change {
                grants,
                policy_edited,
            } => *policy_edited || grants.contains(&grant.path),
        }
    }
}

/// The findings of every grant on its own, on every core: each grant is
/// judged apart from the others, and an audit of ten thousand grants spent
/// a twentieth of its time here on one thread. In the order of `grants`.
fn check_each_grant(grants: &[Grant], context: &CheckContext) -> Vec<Diagnostic> {
    let check_chunk = |chunk: &[Grant]| {
        let mut findings = Vec::new();
        for grant in chunk {
            if context.judges_in_full(grant) {
                for check in GRANT_CHECKS {
                    check(grant, context, &mut findings);
                }
            } else {
                expiry::check_expired(grant, context, &mut findings);
            }
        }
        findings
    };
    crate::parallel::map_chunks(grants, 512, check_chunk)
        .into_iter()
        .flatten()
        .collect()
}

/// Runs every registered rule. In pull-request mode, grants outside the
/// change only get the `expired` warning that tells prune's story.
pub fn check_all(grants: &[Grant], policy_path: &Path, context: &CheckContext) -> Vec<Diagnostic> {
    let mut findings = Vec::new();
    for check in CATALOG_CHECKS {
        check(context.policy, policy_path, &mut findings);
    }
    for check in POLICY_CHANGE_CHECKS {
        check(context, policy_path, &mut findings);
    }
    findings.extend(check_each_grant(grants, context));
    for check in SET_CHECKS {
        check(grants, context, &mut findings);
    }
    findings
}
