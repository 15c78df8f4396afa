//! Access boundaries are instants. A date without a time, or a time without
//! an offset, would make the boundary depend on whichever time zone the
//! reader assumes, so only RFC 3339 with an explicit offset is accepted.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

pub const ACCEPTED_FORM: &str = "2026-12-06T17:00:00Z or 2026-12-06T18:00:00+01:00";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    #[error("`{0}` is a date without a time of day")]
    DateOnly(String),
    #[error("`{0}` has no UTC offset")]
    MissingOffset(String),
    #[error("`{0}` is not an RFC 3339 timestamp")]
    Malformed(String),
}

impl TimestampError {
    /// What to write instead, shown as the diagnostic's help line.
    pub fn hint(&self) -> String {
        match self {
            Self::DateOnly(text) => format!(
                "write the exact instant with an offset, for example {text}T17:00:00Z; accepted form: {ACCEPTED_FORM}"
            ),
            Self::MissingOffset(text) => format!(
                "add the offset the time is in, for example {text}Z for UTC; accepted form: {ACCEPTED_FORM}"
            ),
            Self::Malformed(_) => format!("accepted form: {ACCEPTED_FORM}"),
        }
    }
}

/// Parses an RFC 3339 timestamp that carries an explicit offset.
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, TimestampError> {
    let trimmed = text.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(trimmed) {
        return Ok(instant.with_timezone(&Utc));
    }
    if NaiveDate::parse_from_str(trimmed, "%Y-%m-%d").is_ok() {
        return Err(TimestampError::DateOnly(trimmed.to_owned()));
    }
    let without_offset = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ];
    if without_offset
        .iter()
        .any(|format| NaiveDateTime::parse_from_str(trimmed, format).is_ok())
    {
        return Err(TimestampError::MissingOffset(trimmed.to_owned()));
    }
    Err(TimestampError::Malformed(trimmed.to_owned()))
}

/// The form lapse writes and prints: UTC, second precision, `Z` suffix.
pub fn format_timestamp(instant: &DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_utc_and_explicit_offsets() {
        let utc = parse_timestamp("2026-12-06T17:00:00Z").unwrap();
        let offset = parse_timestamp("2026-12-06T18:00:00+01:00").unwrap();
        assert_eq!(utc, offset);
    }

    #[test]
    fn rejects_a_date_without_time_with_a_hint_showing_the_accepted_form() {
        let error = parse_timestamp("2026-12-06").unwrap_err();
        assert_eq!(error, TimestampError::DateOnly("2026-12-06".into()));
        assert!(error.hint().contains("2026-12-06T17:00:00Z"));
    }

    #[test]
    fn rejects_a_time_without_offset() {
        let error = parse_timestamp("2026-12-06T17:00:00").unwrap_err();
        assert_eq!(
            error,
            TimestampError::MissingOffset("2026-12-06T17:00:00".into())
        );
        assert!(error.hint().contains("2026-12-06T17:00:00Z"));
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(
            parse_timestamp("next tuesday"),
            Err(TimestampError::Malformed(_))
        ));
    }
}
