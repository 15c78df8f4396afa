//! Access boundaries are instants. A date without a time, or a time without
//! an offset, would make the boundary depend on whichever time zone the
//! reader assumes, so only RFC 3339 with an explicit offset is accepted.
//! And an accepted instant must be one that lapse can write back in UTC
//! for every consumer (Terraform above all), or one grant would break the
//! plan of every other.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};

pub const ACCEPTED_FORM: &str = "2026-12-06T17:00:00Z or 2026-12-06T18:00:00+01:00";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    #[error("`{0}` is a date without a time of day")]
    DateOnly(String),
    #[error("`{0}` has no UTC offset")]
    MissingOffset(String),
    #[error("`{0}` is not an RFC 3339 timestamp")]
    Malformed(String),
    #[error("`{0}` names a leap second (second 60), which Terraform does not accept")]
    LeapSecond(String),
    #[error("`{0}` is outside the years 0000 to 9999 once converted to UTC")]
    OutOfRange(String),
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
            Self::Malformed(_) | Self::OutOfRange(_) => format!("accepted form: {ACCEPTED_FORM}"),
            Self::LeapSecond(_) => format!(
                "write second 59 or the next minute's second 00 instead; accepted form: {ACCEPTED_FORM}"
            ),
        }
    }
}

/// Parses an RFC 3339 timestamp that carries an explicit offset.
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, TimestampError> {
    let trimmed = text.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(trimmed) {
        return writable_in_utc(trimmed, instant.with_timezone(&Utc));
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

/// Refuses what chrono parses but cannot be written back as RFC 3339 in
/// UTC. chrono reads second 60 as a leap second, and `format_timestamp`
/// would write it back as `:60`, which Go's `time.Parse` (Terraform's
/// `timecmp`, https://developer.hashicorp.com/terraform/language/functions/timecmp)
/// rejects with "second out of range". Refused rather than moved to the
/// next second: an access boundary must be the instant the file says.
/// An offset can also carry a year 0000 or 9999 instant across the year
/// range RFC 3339 has (https://www.rfc-editor.org/rfc/rfc3339#section-5.6).
fn writable_in_utc(text: &str, instant: DateTime<Utc>) -> Result<DateTime<Utc>, TimestampError> {
    if instant.nanosecond() >= 1_000_000_000 {
        return Err(TimestampError::LeapSecond(text.to_owned()));
    }
    if !(0..=9999).contains(&instant.year()) {
        return Err(TimestampError::OutOfRange(text.to_owned()));
    }
    Ok(instant)
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
    fn rejects_a_leap_second_in_any_offset_or_fraction() {
        for text in [
            "2026-12-31T23:59:60Z",
            "2026-12-06T12:34:60Z",
            "2026-12-06T12:34:60.5+01:00",
        ] {
            let error = parse_timestamp(text).unwrap_err();
            assert_eq!(error, TimestampError::LeapSecond(text.into()));
            assert!(error.hint().contains("second 59"), "{}", error.hint());
        }
    }

    #[test]
    fn rejects_an_instant_whose_utc_year_rfc_3339_cannot_write() {
        for text in ["0000-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"] {
            let error = parse_timestamp(text).unwrap_err();
            assert_eq!(error, TimestampError::OutOfRange(text.into()));
        }
        for text in ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"] {
            let instant = parse_timestamp(text).unwrap();
            assert_eq!(format_timestamp(&instant), text);
        }
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(
            parse_timestamp("next tuesday"),
            Err(TimestampError::Malformed(_))
        ));
    }
}
