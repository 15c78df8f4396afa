//! What `lapse audit` reports: every grant the default branch held in the
//! period, with the events of its life, as the output formats read them.

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::model::timestamp::format_timestamp;

use super::BranchRead;
use super::checkpoint::Verification;
use super::role::RoleDefinition;

/// The whole audit.
#[derive(Debug, Serialize)]
pub struct AuditReport {
    pub branch: BranchRead,
    /// The instant the audit was judged at (`--now`): events after it are
    /// not reported, and a grant still in force then has no `ended`.
    #[serde(serialize_with = "instant")]
    pub now: DateTime<Utc>,
    pub window: Window,
    /// Every grant that overlapped the window, by id then first event.
    pub grants: Vec<AuditedGrant>,
    /// The definition of each role as each policy version in force had it,
    /// as events refer to them (`policy`, `role`).
    pub roles: Vec<RoleDefinition>,
    /// How many `unreviewed-break-glass` events the report holds.
    pub unreviewed_break_glass: usize,
    /// What `--verify` found, when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify: Option<Verification>,
}

/// `--since` and `--until`.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Window {
    #[serde(serialize_with = "optional_instant")]
    pub since: Option<DateTime<Utc>>,
    #[serde(serialize_with = "optional_instant")]
    pub until: Option<DateTime<Utc>>,
}

impl Window {
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.since.is_none_or(|since| since <= at) && self.until.is_none_or(|until| at <= until)
    }

    /// Whether access over `[from, until)` overlaps the window.
    pub fn overlaps(&self, access: &Access) -> bool {
        self.since.is_none_or(|since| since < access.until)
            && self.until.is_none_or(|until| access.from <= until)
    }
}

/// One grant's life on the default branch.
#[derive(Debug, Serialize)]
pub struct AuditedGrant {
    pub id: String,
    /// Its last path, subject and role on the branch.
    pub path: String,
    pub subject: String,
    pub role: String,
    /// When it gave access, from the branch's history: `lapse who --at T`
    /// lists the grant exactly when `T` falls in one of these.
    pub access: Vec<Access>,
    /// Everything that happened to it, by time.
    pub events: Vec<AuditEvent>,
}

/// A span of access, `from` included, `until` excluded. `until` may lie
/// after `now` for a grant still in force: when it ends unless changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Access {
    #[serde(serialize_with = "instant")]
    pub from: DateTime<Utc>,
    #[serde(serialize_with = "instant")]
    pub until: DateTime<Utc>,
}

/// One event of a grant's life.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    #[serde(serialize_with = "instant")]
    pub time: DateTime<Utc>,
    #[serde(flatten)]
    pub kind: EventKind,
    /// The commit it happened in, if a commit made it happen (an expiry
    /// does not).
    pub commit: Option<CommitRef>,
    /// The blob id of the `lapse.yaml` in force: for a request, approval or
    /// change, the policy of the default branch before the commit came to
    /// it (the one its approvals are judged by); for the others, the
    /// branch's policy at that moment.
    pub policy: String,
    /// The grant's terms as this event saw them.
    pub terms: Option<Terms>,
}

/// What happened, with what only that kind of event has.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum EventKind {
    /// The commit that wrote the grant first (its author asked).
    Requested,
    /// A person's approval, recorded in a commit.
    Approved {
        approver: String,
        /// When it took effect: not before the commit that brought it to the
        /// default branch.
        #[serde(serialize_with = "instant")]
        effective: DateTime<Utc>,
        evidence: EvidenceView,
        /// Whether it counts toward the role's `min_approvals` under the
        /// policy it is judged by.
        counted: bool,
        /// Why it does not, when it does not.
        #[serde(skip_serializing_if = "Option::is_none")]
        not_counted: Option<String>,
    },
    /// A change of the terms after the request, by the commit's author.
    Changed,
    /// The default branch moved the grant's file (`git mv`).
    Moved { from: String, to: String },
    /// The default branch gave access under these terms from this commit
    /// on: the first time, after a gap, or with new terms.
    InForce {
        /// When access began: the commit's time, or `starts` when later.
        #[serde(serialize_with = "instant")]
        access_from: DateTime<Utc>,
        /// The people whose counted approvals of these terms had reached
        /// the branch by then.
        approved_by: Vec<String>,
        /// Set when the grant is break-glass: in force with fewer approvals
        /// than the role needs, to be reviewed by then.
        #[serde(
            serialize_with = "optional_instant",
            skip_serializing_if = "Option::is_none"
        )]
        break_glass_review_by: Option<DateTime<Utc>>,
    },
    /// Access ended.
    Ended { reason: EndKind },
    /// A member's access through a grant to a group ended with their
    /// contract, while the grant went on for the others (render gives the
    /// member a block of their own that ends then).
    MemberEnded { member: String },
    /// A break-glass grant whose authorised approvals were not recorded
    /// within the role's `review_within` of the commit that put it in force.
    UnreviewedBreakGlass {
        #[serde(serialize_with = "instant")]
        in_force_at: DateTime<Utc>,
        /// Counted approvals recorded too late, if any.
        approved_late_by: Vec<String>,
    },
}

impl EventKind {
    /// The event's name, as JSON and CSV write it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Approved { .. } => "approved",
            Self::Changed => "changed",
            Self::Moved { .. } => "moved",
            Self::InForce { .. } => "in-force",
            Self::Ended { .. } => "ended",
            Self::MemberEnded { .. } => "member-ended",
            Self::UnreviewedBreakGlass { .. } => "unreviewed-break-glass",
        }
    }
}

/// Why access ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndKind {
    /// The grant's `expires`.
    Expires,
    /// The subject's `contract_ends` (as the policy in force said).
    ContractEnds,
    /// A commit removed the grant from the branch.
    Removed,
    /// A commit changed it so that it gave no more access (shortened,
    /// started later, or made invalid).
    Changed,
    /// A commit removed the subject from the policy.
    SubjectLeft,
}

impl EndKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expires => "expires",
            Self::ContractEnds => "contract-ends",
            Self::Removed => "removed",
            Self::Changed => "changed",
            Self::SubjectLeft => "subject-left",
        }
    }
}

/// What an approval's commit proves, as the evidence mode of the policy
/// judging it asks.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceView {
    /// `commit-author`, `signed-commit` or `forge-review`.
    pub kind: &'static str,
    /// The author of the commit that recorded the approval.
    pub recorded_by: String,
    /// The SSH key that signed that commit (`SHA256:…`), when it carries a
    /// valid signature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Whose `signing_keys` list that key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
}

/// A commit, as events name it.
#[derive(Debug, Clone, Serialize)]
pub struct CommitRef {
    pub id: String,
    pub author: String,
    #[serde(serialize_with = "instant")]
    pub time: DateTime<Utc>,
}

/// A grant's terms.
#[derive(Debug, Clone, Serialize)]
pub struct Terms {
    pub subject: String,
    pub role: String,
    pub starts: Option<String>,
    pub expires: Option<String>,
    pub approvers: Vec<String>,
}

fn instant<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_timestamp(at))
}

fn optional_instant<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => instant(at, serializer),
        None => serializer.serialize_none(),
    }
}
