//! `lapse expiring`: grants whose end is near, for a notification step.

use chrono::{DateTime, Utc};

use crate::model::{Grant, GrantDuration};

use super::summary::GrantSummary;

/// The instants `(now, now + within]`: a grant expiring in the window is
/// still active now and will not be by the end of it.
#[derive(Debug, Clone, Copy)]
pub struct ExpiryWindow {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl ExpiryWindow {
    pub fn starting_at(now: DateTime<Utc>, within: GrantDuration) -> Self {
        Self {
            from: now,
            until: now + within.as_time_delta(),
        }
    }

    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.from < instant && instant <= self.until
    }

    /// The grants expiring in the window, soonest first (then by id, so the
    /// order never depends on the file system).
    pub fn select(&self, grants: &[Grant]) -> Vec<GrantSummary> {
        let mut expiring: Vec<(DateTime<Utc>, &Grant)> = grants
            .iter()
            .filter_map(|grant| grant.expires_at().map(|expires| (expires, grant)))
            .filter(|(expires, _)| self.contains(*expires))
            .collect();
        expiring.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
        expiring
            .into_iter()
            .map(|(expires, grant)| GrantSummary::of(grant, expires))
            .collect()
    }
}
