//! Durations as people write them in policy and on the command line:
//! `90m`, `4h`, `14d`, `2w`.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use chrono::TimeDelta;
use schemars::JsonSchema;
use serde::Deserialize;

/// Ten years: no access grant is meant to last longer, and the bound keeps
/// arithmetic on timestamps far from chrono's overflow limits.
const MAX_MINUTES: i64 = 10 * 366 * 24 * 60;

/// A length of time, and the unit it was written in: `7d` prints as `7d`
/// and `1w` as `1w`, though they are equal, so that messages quote the
/// policy and the command line as the person wrote them.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "String")]
pub struct GrantDuration {
    minutes: i64,
    unit: Unit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Minutes,
    Hours,
    Days,
    Weeks,
}

impl Unit {
    const ALL: [Self; 4] = [Self::Minutes, Self::Hours, Self::Days, Self::Weeks];

    fn minutes(self) -> i64 {
        match self {
            Self::Minutes => 1,
            Self::Hours => 60,
            Self::Days => 24 * 60,
            Self::Weeks => 7 * 24 * 60,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Self::Minutes => "m",
            Self::Hours => "h",
            Self::Days => "d",
            Self::Weeks => "w",
        }
    }
}

impl PartialEq for GrantDuration {
    fn eq(&self, other: &Self) -> bool {
        self.minutes == other.minutes
    }
}

impl Eq for GrantDuration {}

impl PartialOrd for GrantDuration {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GrantDuration {
    fn cmp(&self, other: &Self) -> Ordering {
        self.minutes.cmp(&other.minutes)
    }
}

impl Hash for GrantDuration {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.minutes.hash(state);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}` is not a duration: {reason}; write a whole number and a unit, for example 90m, 4h, 14d or 2w"
)]
pub struct DurationError {
    text: String,
    reason: &'static str,
}

impl GrantDuration {
    /// A duration lapse chose itself (a default), written in the largest
    /// of minutes, hours and days that divides it: `30d`, `7d`, `90m`.
    pub fn from_minutes(minutes: i64) -> Self {
        let unit = [Unit::Days, Unit::Hours]
            .into_iter()
            .find(|unit| minutes % unit.minutes() == 0)
            .unwrap_or(Unit::Minutes);
        Self { minutes, unit }
    }

    pub fn as_time_delta(self) -> TimeDelta {
        TimeDelta::minutes(self.minutes)
    }
}

impl FromStr for GrantDuration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |reason| DurationError {
            text: text.to_owned(),
            reason,
        };
        let trimmed = text.trim();
        let split = trimmed
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| error("the unit is missing"))?;
        let (number, unit) = trimmed.split_at(split);
        let count: i64 = number
            .parse()
            .map_err(|_| error("the number is missing or too large"))?;
        let unit = Unit::ALL
            .into_iter()
            .find(|known| known.suffix() == unit)
            .ok_or_else(|| error("the unit must be m, h, d or w"))?;
        let minutes = count
            .checked_mul(unit.minutes())
            .filter(|m| *m <= MAX_MINUTES)
            .ok_or_else(|| error("it is longer than ten years"))?;
        if minutes == 0 {
            return Err(error("it must be longer than zero"));
        }
        Ok(Self { minutes, unit })
    }
}

impl TryFrom<String> for GrantDuration {
    type Error = DurationError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl fmt::Display for GrantDuration {
    /// In the unit it was written in: `14d` prints back as `14d`, `2w` as `2w`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}",
            self.minutes / self.unit.minutes(),
            self.unit.suffix()
        )
    }
}

impl JsonSchema for GrantDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9]+[mhdw]$",
            "description": "A whole number and a unit: m (minutes), h (hours), d (days), w (weeks). Examples: 90m, 4h, 14d, 2w."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        assert_eq!(
            "90m".parse::<GrantDuration>().unwrap().as_time_delta(),
            TimeDelta::minutes(90)
        );
        assert_eq!(
            "4h".parse::<GrantDuration>().unwrap().as_time_delta(),
            TimeDelta::hours(4)
        );
        assert_eq!(
            "14d".parse::<GrantDuration>().unwrap().as_time_delta(),
            TimeDelta::days(14)
        );
        assert_eq!(
            "2w".parse::<GrantDuration>().unwrap().as_time_delta(),
            TimeDelta::days(14)
        );
    }

    #[test]
    fn rejects_missing_unit_zero_unknown_unit_and_overflow() {
        for bad in ["14", "0d", "3y", "d", "99999999999999999999d", "-1d", ""] {
            assert!(bad.parse::<GrantDuration>().is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn displays_as_written() {
        for text in ["14d", "2w", "90m", "48h", "7d", "1w"] {
            assert_eq!(text.parse::<GrantDuration>().unwrap().to_string(), text);
        }
        assert_eq!(
            "14d".parse::<GrantDuration>().unwrap(),
            "2w".parse::<GrantDuration>().unwrap()
        );
    }

    #[test]
    fn defaults_display_in_days_hours_or_minutes() {
        assert_eq!(GrantDuration::from_minutes(7 * 24 * 60).to_string(), "7d");
        assert_eq!(GrantDuration::from_minutes(30 * 24 * 60).to_string(), "30d");
        assert_eq!(GrantDuration::from_minutes(90).to_string(), "90m");
    }
}
