//! A request for access as `lapse new` takes it: checked against the
//! policy in the terms of the request (a role name, a duration), then
//! written as the text of a grant file; and the follow-on request `lapse
//! extend` makes for a grant (`Extension`).

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;

use crate::load::grant::MAX_GRANT_ID_LENGTH;
use crate::model::identity::GROUP_PREFIX;
use crate::model::lifecycle::{
    EndReason, SubjectStatus, contract_end, effective_end, subject_status,
};
use crate::model::policy::BreakGlass;
use crate::model::timestamp::format_timestamp;
use crate::model::{Directory, Grant, GrantDuration, Policy};

/// What a person asks for. Subject and approvers may be spelled as any of
/// a person's aliases; [`GrantRequest::resolve`] rewrites them to the key
/// in `lapse.yaml`, the spelling audits search for.
#[derive(Debug, Clone)]
pub struct GrantRequest {
    pub subject: String,
    pub role: String,
    pub duration: GrantDuration,
    pub reason: String,
    pub ticket: Option<String>,
    pub approvers: Vec<String>,
    pub starts: Option<DateTime<Utc>>,
    /// When set, the grant expires then, whatever `duration` says
    /// (`lapse extend --until`).
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("role `{role}` is not in the catalog of lapse.yaml; the roles are: {known}")]
    UnknownRole { role: String, known: String },
    #[error(
        "subject `{0}` is neither a person in lapse.yaml `people` nor `group:<name>` of a group in `groups`"
    )]
    UnknownSubject(String),
    #[error(
        "--for {requested} is longer than the {max} that role `{role}` allows; ask for {max} or less and extend later with a new approval"
    )]
    TooLong {
        requested: GrantDuration,
        max: GrantDuration,
        role: String,
    },
    #[error("cannot write the grant as YAML: {0}")]
    Yaml(String),
    #[error(
        "role `{0}` has no `break_glass` in lapse.yaml, so its grants are approved before they are merged; drop --break-glass, or use a break-glass role"
    )]
    NoBreakGlass(String),
    #[error(
        "--for {requested} is longer than the {max} that break-glass allows on role `{role}` before its approvals; ask for {max} or less, or for a reviewed grant without --break-glass"
    )]
    TooLongForBreakGlass {
        requested: GrantDuration,
        max: GrantDuration,
        role: String,
    },
}

/// The fields of a grant file in the order people read them. Only this
/// serialiser writes the values, so a reason with `: #`, quotes or line
/// breaks is quoted as YAML needs and reads back unchanged.
#[derive(Serialize)]
struct GrantText<'a> {
    subject: &'a str,
    role: &'a str,
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket: Option<&'a str>,
    approvers: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    starts: Option<String>,
    expires: String,
}

/// The first lines of every file `lapse new` writes: where approvals go.
const HEADER: &str = "\
# Written by `lapse new`. Approvers add themselves to `approvers` in review;
# `lapse check` reports the approvals still missing.
";

/// The first lines of a break-glass request (`lapse new --break-glass`).
const BREAK_GLASS_HEADER: &str = "\
# Written by `lapse new --break-glass`: emergency access, merged before it
# is approved. The role's approvers add themselves to `approvers` within
# the role's `review_within` of the merge; `lapse check` reports it as
# break-glass until then, and unreviewed-break-glass after.
";

impl GrantRequest {
    /// Checks what can be said in the request's own terms (the role exists,
    /// the subject is known, `--for` fits the role's maximum) and spells the
    /// subject and approvers as in `lapse.yaml`.
    pub fn resolve(mut self, policy: &Policy) -> Result<Self, RequestError> {
        let Some(role) = policy.role(&self.role) else {
            return Err(RequestError::UnknownRole {
                known: policy.roles.keys().cloned().collect::<Vec<_>>().join(", "),
                role: self.role,
            });
        };
        let max = policy.max_duration_of(role);
        if self.duration > max {
            return Err(RequestError::TooLong {
                requested: self.duration,
                max,
                role: self.role,
            });
        }
        let directory = Directory::new(policy);
        self.subject = match self.subject.strip_prefix(GROUP_PREFIX) {
            Some(group) if policy.groups.contains_key(group) => self.subject,
            Some(_) => return Err(RequestError::UnknownSubject(self.subject)),
            None => directory
                .person(&self.subject)
                .map(str::to_owned)
                .ok_or(RequestError::UnknownSubject(self.subject))?,
        };
        for approver in &mut self.approvers {
            if let Some(key) = directory.person(approver) {
                *approver = key.to_owned();
            }
        }
        Ok(self)
    }

    /// `starts`, else `now`, plus the duration. Whole seconds, because
    /// that is the precision written to the file: rounding the written
    /// start down could otherwise make the grant a fraction too long.
    pub fn expires(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        if let Some(until) = self.until {
            return until;
        }
        let from = self.starts.unwrap_or(now).trunc_subsecs(0);
        from + self.duration.as_time_delta()
    }

    /// The role's break-glass terms, when the request may use them: the
    /// role has `break_glass` and `--for` fits its `max_duration`.
    pub fn break_glass<'p>(&self, policy: &'p Policy) -> Result<&'p BreakGlass, RequestError> {
        let glass = policy
            .role(&self.role)
            .and_then(|role| role.break_glass.as_deref())
            .ok_or_else(|| RequestError::NoBreakGlass(self.role.clone()))?;
        if self.duration > glass.max_duration {
            return Err(RequestError::TooLongForBreakGlass {
                requested: self.duration,
                max: glass.max_duration,
                role: self.role.clone(),
            });
        }
        Ok(glass)
    }

    /// The text of a break-glass request: a grant like any other, under a
    /// header that says it is merged before its review.
    pub fn to_break_glass_yaml(&self, now: DateTime<Utc>) -> Result<String, RequestError> {
        Ok(self.to_yaml(now)?.replacen(HEADER, BREAK_GLASS_HEADER, 1))
    }

    /// The grant file's text, timestamps in UTC with a `Z`.
    pub fn to_yaml(&self, now: DateTime<Utc>) -> Result<String, RequestError> {
        self.to_yaml_headed(now, HEADER)
    }

    /// The grant file's text after `header` (comment lines).
    pub fn to_yaml_headed(&self, now: DateTime<Utc>, header: &str) -> Result<String, RequestError> {
        let fields = GrantText {
            subject: &self.subject,
            role: &self.role,
            reason: &self.reason,
            ticket: self.ticket.as_deref(),
            approvers: &self.approvers,
            starts: self.starts.map(|starts| format_timestamp(&starts)),
            expires: format_timestamp(&self.expires(now)),
        };
        let body = serde_saphyr::to_string(&fields)
            .map_err(|error| RequestError::Yaml(error.to_string()))?;
        Ok(format!("{header}{body}"))
    }

    /// `<who>-<role>`: the subject's local part (or group name) and the
    /// role, made into a valid grant id, short enough to take a suffix.
    pub fn default_id(&self) -> String {
        let who = self
            .subject
            .strip_prefix(GROUP_PREFIX)
            .unwrap_or_else(|| self.subject.split('@').next().unwrap_or_default());
        let id = slugify(&format!("{who}-{}", self.role));
        // Room for a `-NN` suffix when the id is taken.
        let truncated: String = id.chars().take(MAX_GRANT_ID_LENGTH - 4).collect();
        match truncated.trim_end_matches('-') {
            "" => "grant".to_owned(),
            id => id.to_owned(),
        }
    }
}

/// Lower-case ASCII letters and digits, every other run of characters one
/// dash, no dash at either end: the grant id alphabet.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// How long an extension lasts: `--for DUR` from the grant's end, or
/// `--until T`.
#[derive(Debug, Clone, Copy)]
pub enum Length {
    For(GrantDuration),
    Until(DateTime<Utc>),
}

/// A follow-on request for a grant: same subject, role and ticket, the
/// reason given (else the grant's), no approvers, starting when the grant's
/// access ends. The approved grant is left as it is, so its approval
/// stays valid and there is no gap.
#[derive(Debug, Clone)]
pub struct Extension {
    pub request: GrantRequest,
    pub starts: DateTime<Utc>,
    pub expires: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtendError {
    #[error("grant `{0}` has no valid `expires`, so it has no end to extend from; fix it first")]
    NoEnd(String),
    #[error(
        "the subject of grant `{id}`, `{subject}`, is no longer in lapse.yaml; a grant for someone who left cannot be extended"
    )]
    Orphaned { id: String, subject: String },
    #[error("role `{role}` of grant `{id}` is not in the catalog of lapse.yaml")]
    UnknownRole { id: String, role: String },
    #[error(
        "grant `{id}` already ends with the contract of {person} at {ends}; an extension cannot pass it: move their contract_ends in lapse.yaml first (a change of its own)"
    )]
    ContractEnded {
        id: String,
        person: String,
        ends: String,
    },
    #[error(
        "the contract of {person} ends at {ends}: the extension may last until then at most (--until {ends})"
    )]
    PastContract { person: String, ends: String },
    #[error(
        "the extension would last {length} from {starts}, longer than the {max} that role `{role}` allows; ask for {max} or less"
    )]
    TooLong {
        length: String,
        starts: String,
        max: GrantDuration,
        role: String,
    },
    #[error("--until {until} is not after {starts}, when grant `{id}` ends")]
    NotAfterStart {
        id: String,
        until: String,
        starts: String,
    },
    #[error("grant `{id}` is already extended by `{by}` (until {until}); extend `{by}` instead")]
    AlreadyExtended {
        id: String,
        by: String,
        until: String,
    },
}

impl Extension {
    /// The extension of `grant` for `length`, judged against the policy and
    /// the other grants: it starts at the grant's effective end (or now,
    /// when that has passed: access that has already ended has a gap
    /// anyway), fits the role's `max_duration` and the subject's contract.
    pub fn of(
        grant: &Grant,
        grants: &[Grant],
        policy: &Policy,
        length: Length,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Self, ExtendError> {
        let directory = Directory::new(policy);
        let id = grant.id.clone();
        let subject = grant.file.subject.value.clone();
        if subject_status(grant, policy, &directory) == SubjectStatus::Orphaned {
            return Err(ExtendError::Orphaned { id, subject });
        }
        let role = policy
            .role(&grant.file.role)
            .ok_or_else(|| ExtendError::UnknownRole {
                id: id.clone(),
                role: grant.file.role.value.clone(),
            })?;
        let end = effective_end(grant, policy, &directory).ok_or(ExtendError::NoEnd(id.clone()))?;
        let contract = contract_end(&subject, policy, &directory);
        if end.reason == EndReason::ContractEnds {
            return Err(ExtendError::ContractEnded {
                id,
                person: subject,
                ends: format_timestamp(&end.at),
            });
        }
        // Whole seconds, the precision lapse writes and renders: the
        // extension's `starts` is then exactly the grant's rendered end.
        let starts = end.at.max(now).trunc_subsecs(0);
        if let Some(next) = extended_by(grant, grants, &directory, starts) {
            return Err(ExtendError::AlreadyExtended {
                id,
                by: next.id.clone(),
                until: next
                    .expires_at()
                    .map(|at| format_timestamp(&at))
                    .unwrap_or_default(),
            });
        }
        let expires = match length {
            Length::For(duration) => starts + duration.as_time_delta(),
            Length::Until(until) => until,
        };
        if expires <= starts {
            return Err(ExtendError::NotAfterStart {
                id,
                until: format_timestamp(&expires),
                starts: format_timestamp(&starts),
            });
        }
        let max = policy.max_duration_of(role);
        if expires - starts > max.as_time_delta() {
            return Err(ExtendError::TooLong {
                length: describe_length(length, expires - starts),
                starts: format_timestamp(&starts),
                max,
                role: grant.file.role.value.clone(),
            });
        }
        if let Some(ends) = contract.filter(|ends| expires > *ends) {
            return Err(ExtendError::PastContract {
                person: directory.resolve(&subject),
                ends: format_timestamp(&ends),
            });
        }
        let request = GrantRequest {
            subject: directory.person(&subject).map_or(subject, str::to_owned),
            role: grant.file.role.value.clone(),
            duration: match length {
                Length::For(duration) => duration,
                Length::Until(_) => max,
            },
            reason: reason
                .or_else(|| grant.file.reason.as_ref().map(|r| r.value.clone()))
                .unwrap_or_default(),
            ticket: grant.file.ticket.as_ref().map(|t| t.value.clone()),
            approvers: Vec::new(),
            starts: Some(starts),
            until: Some(expires),
        };
        Ok(Self {
            request,
            starts,
            expires,
        })
    }

    /// The request file's text, headed by what it extends.
    pub fn to_yaml(&self, extends: &str) -> Result<String, RequestError> {
        let header = format!(
            "# Written by `lapse extend`: extends grant `{extends}` from when it ends.\n# Approvers add themselves to `approvers` in review; `lapse check` reports\n# the approvals still missing.\n"
        );
        self.request.to_yaml_headed(self.starts, &header)
    }
}

/// `--for 14d` as written; `--until` as the length it makes.
fn describe_length(length: Length, span: chrono::TimeDelta) -> String {
    match length {
        Length::For(duration) => duration.to_string(),
        Length::Until(_) => GrantDuration::from_minutes(span.num_minutes()).to_string(),
    }
}

/// Another grant of the same role to the same subject that starts when
/// `grant` ends: an extension made before.
fn extended_by<'g>(
    grant: &Grant,
    grants: &'g [Grant],
    directory: &Directory,
    starts: DateTime<Utc>,
) -> Option<&'g Grant> {
    grants.iter().find(|other| {
        other.path != grant.path
            && other.file.role == grant.file.role
            && directory.same_person(&other.file.subject, &grant.file.subject)
            && other
                .starts_at()
                .is_some_and(|at| at.trunc_subsecs(0) == starts)
    })
}

/// The id of the next extension of `id`: `<id>-ext`, then `-ext-2`,
/// `-ext-3`…, counted from the grant the chain began with (extending
/// `alex-deploy-ext` gives `alex-deploy-ext-2`), and cut to fit the id limit.
pub fn extension_id(id: &str, taken: impl Fn(&str) -> bool) -> String {
    let root = chain_root(id);
    let room = MAX_GRANT_ID_LENGTH - "-ext-999".len();
    let root: String = root.chars().take(room).collect();
    let root = root.trim_end_matches('-');
    std::iter::once(format!("{root}-ext"))
        .chain((2..1000).map(|n| format!("{root}-ext-{n}")))
        .find(|candidate| !taken(candidate))
        .unwrap_or_else(|| format!("{root}-ext-1000"))
}

/// `alex-deploy` for `alex-deploy`, `alex-deploy-ext` and `alex-deploy-ext-7`.
fn chain_root(id: &str) -> &str {
    if let Some(root) = id.strip_suffix("-ext") {
        return root;
    }
    match id.rsplit_once("-ext-") {
        Some((root, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => root,
        _ => id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{is_valid_grant_id, parse_grant};
    use std::path::Path;

    fn request(reason: &str) -> GrantRequest {
        GrantRequest {
            subject: "Alex.Smith@contractor.example".into(),
            role: "payments-deployer".into(),
            duration: "14d".parse().unwrap(),
            reason: reason.into(),
            ticket: Some("PAY-123".into()),
            approvers: Vec::new(),
            starts: None,
            until: None,
        }
    }

    #[test]
    fn the_default_id_is_the_local_part_and_the_role_as_a_valid_id() {
        let id = request("r").default_id();
        assert_eq!(id, "alex-smith-payments-deployer");
        assert!(is_valid_grant_id(&id));
        let mut long = request("r");
        long.role = "x".repeat(200);
        assert!(is_valid_grant_id(&format!("{}-99", long.default_id())));
    }

    #[test]
    fn awkward_reasons_read_back_unchanged() {
        let now = "2026-11-22T09:00:00.750Z".parse().unwrap();
        for reason in [
            "Deploy: hotfix # sprint 42",
            "line one\nline two\n",
            "'quoted' \"twice\" - [x] {y} &a *b !tag %p @at `tick`",
            "yes",
            "2026-12-06",
            "  leading and trailing spaces  ",
        ] {
            let text = request(reason).to_yaml(now).unwrap();
            let grant = parse_grant(Path::new("grants/a.yaml"), &text)
                .unwrap_or_else(|finding| panic!("{finding:?}\n{text}"));
            assert_eq!(
                grant.file.reason.as_deref().map(String::as_str),
                Some(reason),
                "{text}"
            );
            assert_eq!(
                grant.file.expires.as_deref().map(String::as_str),
                Some("2026-12-06T09:00:00Z")
            );
        }
    }

    #[test]
    fn extension_ids_count_from_the_start_of_the_chain_and_fit_the_limit() {
        let none = |_: &str| false;
        assert_eq!(extension_id("alex-deploy", none), "alex-deploy-ext");
        assert_eq!(
            extension_id("alex-deploy-ext", |id| id == "alex-deploy-ext"),
            "alex-deploy-ext-2"
        );
        assert_eq!(
            extension_id("alex-deploy-ext-2", |id| id.ends_with("-ext")
                || id.ends_with("-ext-2")),
            "alex-deploy-ext-3"
        );
        assert_eq!(extension_id("next", none), "next-ext");
        let long = extension_id(&"a".repeat(MAX_GRANT_ID_LENGTH), none);
        assert!(is_valid_grant_id(&long) && long.ends_with("-ext"), "{long}");
    }
}
