//! How long a grant's access can outlive its expiry, per target. The cloud
//! ends the access of some targets at the instant of expiry; for the
//! others (GitHub, Kubernetes) only the first apply after expiry does, so
//! the worst case is the interval between applies.

use crate::model::{GrantDuration, Policy};
use crate::targets::{Revocation, TARGETS, TargetKind};

/// The apply schedule of the shipped workflows: hourly.
const DEFAULT_APPLY_INTERVAL_MINUTES: i64 = 60;

/// The worst-case revocation of one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationLag {
    pub target: &'static str,
    /// How long access can last after expiry (besides the apply's own run
    /// time): `None` when the cloud ends it at expiry.
    pub lag: Option<GrantDuration>,
    /// What ends it, or why only an apply can.
    pub by: &'static str,
}

/// The worst case of every target the policy's roles use, in the order of
/// `TARGETS`. Targets revoked by an apply are given the policy's
/// `render.apply_interval` (default 1h).
pub fn revocation_lags(policy: &Policy) -> Vec<RevocationLag> {
    let interval = policy
        .render
        .apply_interval
        .unwrap_or_else(|| GrantDuration::from_minutes(DEFAULT_APPLY_INTERVAL_MINUTES));
    TARGETS
        .iter()
        .filter(|kind| used_by_a_role(policy, kind))
        .map(|kind| match kind.revocation {
            Revocation::AtExpiry { how } => RevocationLag {
                target: kind.name,
                lag: None,
                by: how,
            },
            Revocation::AtNextApply { why } => RevocationLag {
                target: kind.name,
                lag: Some(interval),
                by: why,
            },
        })
        .collect()
}

fn used_by_a_role(policy: &Policy, kind: &TargetKind) -> bool {
    policy
        .roles
        .values()
        .filter_map(|role| role.target())
        .any(|target| target.kind().name == kind.name)
}
