//! A grant file: one time-bound access grant, `grants/**/<grant-id>.yaml`.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Deserialize;

use super::spanned::Spanned;
use super::timestamp::parse_timestamp;

/// The fields of a grant file exactly as written. Timestamps stay text here
/// so that a malformed one is an `invalid-timestamp` finding on its line
/// rather than a parse failure of the whole file.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "lapse grant",
    description = "One time-bound access grant. The file stem is the grant id."
)]
pub struct GrantFile {
    /// A person from `lapse.yaml` `people`, or `group:<name>`.
    pub subject: Spanned<String>,
    /// A role from the catalog in `lapse.yaml`.
    pub role: Spanned<String>,
    /// Why the access is needed.
    #[serde(default)]
    pub reason: Option<Spanned<String>>,
    /// Change or incident ticket; required when the policy says so.
    #[serde(default)]
    pub ticket: Option<Spanned<String>>,
    /// Who approved the grant: people from `lapse.yaml`.
    #[serde(default)]
    pub approvers: Vec<Spanned<String>>,
    /// RFC 3339 timestamp with an explicit offset; the grant is inactive before it.
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub starts: Option<Spanned<String>>,
    /// RFC 3339 timestamp with an explicit offset; the grant ends at it.
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub expires: Option<Spanned<String>>,
}

/// A grant loaded from the repository: its id (the file stem), the path it
/// was read from (relative to the repository root) and its fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub id: String,
    pub path: PathBuf,
    pub file: GrantFile,
}

impl Grant {
    /// `expires`, when it is present and well formed.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        parse_optional(&self.file.expires)
    }

    /// `starts`, when it is present and well formed.
    pub fn starts_at(&self) -> Option<DateTime<Utc>> {
        parse_optional(&self.file.starts)
    }

    /// Whether the grant gives access at `now`: started (or no start) and
    /// not yet expired. A grant without a valid expiry is never active.
    pub fn is_active_at(&self, now: DateTime<Utc>) -> bool {
        let started = self.starts_at().is_none_or(|starts| starts <= now);
        started && self.expires_at().is_some_and(|expires| now < expires)
    }

    /// Whether the grant has expired at `now`. A grant without a valid
    /// expiry is not "expired": nothing may be pruned on a guess.
    pub fn has_expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at().is_some_and(|expires| expires <= now)
    }

    pub fn approver_names(&self) -> impl Iterator<Item = &str> {
        self.file.approvers.iter().map(|a| a.value.as_str())
    }
}

fn parse_optional(field: &Option<Spanned<String>>) -> Option<DateTime<Utc>> {
    field.as_ref().and_then(|text| parse_timestamp(text).ok())
}
