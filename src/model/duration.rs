//! Durations as people write them in policy and on the command line:
//! `90m`, `4h`, `14d`, `2w`.

use std::fmt;
use std::str::FromStr;

use chrono::TimeDelta;
use schemars::JsonSchema;
use serde::Deserialize;

/// Ten years: no access grant is meant to last longer, and the bound keeps
/// arithmetic on timestamps far from chrono's overflow limits.
const MAX_MINUTES: i64 = 10 * 366 * 24 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct GrantDuration {
    minutes: i64,
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
    pub fn from_minutes(minutes: i64) -> Self {
        Self { minutes }
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
        let minutes_per_unit = match unit {
            "m" => 1,
            "h" => 60,
            "d" => 24 * 60,
            "w" => 7 * 24 * 60,
            _ => return Err(error("the unit must be m, h, d or w")),
        };
        let minutes = count
            .checked_mul(minutes_per_unit)
            .filter(|m| *m <= MAX_MINUTES)
            .ok_or_else(|| error("it is longer than ten years"))?;
        if minutes == 0 {
            return Err(error("it must be longer than zero"));
        }
        Ok(Self { minutes })
    }
}

impl TryFrom<String> for GrantDuration {
    type Error = DurationError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl fmt::Display for GrantDuration {
    /// The largest unit that divides the duration exactly, so `14d` prints
    /// back as `2w` and `90m` stays `90m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, size) in [("w", 7 * 24 * 60), ("d", 24 * 60), ("h", 60)] {
            if self.minutes % size == 0 {
                return write!(f, "{}{unit}", self.minutes / size);
            }
        }
        write!(f, "{}m", self.minutes)
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
    fn displays_in_the_largest_exact_unit() {
        assert_eq!("14d".parse::<GrantDuration>().unwrap().to_string(), "2w");
        assert_eq!("90m".parse::<GrantDuration>().unwrap().to_string(), "90m");
        assert_eq!("48h".parse::<GrantDuration>().unwrap().to_string(), "2d");
    }
}
