//! Two active grants of the same role to the same subject at the same time
//! are one grant too many: the second hides an extension from review. An
//! extension that starts when the grant before it ends is not an overlap.

use std::collections::HashSet;

use chrono::{DateTime, SubsecRound, Utc};

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::model::Grant;

use super::{CheckContext, Scope};

pub const DUPLICATE_GRANT: Rule = Rule {
    id: "duplicate-grant",
    severity: Severity::Error,
    summary: "two grants of the same role to the same subject overlap in time",
    help: "for more time, run `lapse extend` on the existing grant: its request starts when that grant ends, so the two do not overlap",
};

pub fn check(grants: &[Grant], context: &CheckContext, findings: &mut Vec<Diagnostic>) {
    // A pull request that leaves the policy alone only hears of overlaps
    // with a grant it changes, and an overlap needs the same role, so grants
    // of other roles are not even compared (most of a large repository, in
    // a pull request). An edited policy (a new alias) can make any two
    // grants overlap.
    let roles_in_change: Option<HashSet<&str>> = match &context.scope {
        Scope::Audit
        | Scope::Change {
            policy_edited: true,
            ..
        } => None,
        Scope::Change { .. } => Some(
            grants
                .iter()
                .filter(|grant| context.is_in_change(grant))
                .map(|grant| grant.file.role.value.as_str())
                .collect(),
        ),
    };
    let mut windows: Vec<_> = grants
        .iter()
        .filter(|grant| {
            roles_in_change
                .as_ref()
                .is_none_or(|roles| roles.contains(grant.file.role.value.as_str()))
        })
        .filter_map(|grant| {
            // Windows are half-open, [starts, expires), and compared in
            // whole seconds: the precision lapse writes and renders
            // (`format_timestamp`), so an extension whose `starts` is the
            // rendered end of the grant before it runs on from it without
            // overlapping, even when that grant's `expires` had a fraction.
            let expires_at = grant.expires_at()?;
            let expires = expires_at.trunc_subsecs(0);
            let starts = grant
                .starts_at()
                .map_or(DateTime::<Utc>::MIN_UTC, |starts| starts.trunc_subsecs(0));
            (expires_at > context.now).then(|| {
                let key = (
                    context.directory.resolve(&grant.file.subject),
                    grant.file.role.value.clone(),
                );
                (key, starts, expires, grant)
            })
        })
        .collect();
    // Sorting by (subject, role, start) leaves overlapping windows adjacent
    // within a key, so one pass finds them without comparing every pair.
    windows.sort_by(|a, b| (&a.0, a.1, &a.3.id).cmp(&(&b.0, b.1, &b.3.id)));
    for (index, (key, starts, _, grant)) in windows.iter().enumerate() {
        let earlier = windows[..index]
            .iter()
            .rev()
            .take_while(|(other_key, ..)| other_key == key)
            .find(|(_, _, other_expires, _)| *starts < *other_expires);
        if let Some((_, _, _, other)) = earlier
            && (context.judges_in_full(grant) || context.judges_in_full(other))
        {
            let reported = if context.judges_in_full(grant) {
                grant
            } else {
                other
            };
            let counterpart = if std::ptr::eq(*reported, *grant) {
                other
            } else {
                grant
            };
            findings.push(DUPLICATE_GRANT.at(
                &reported.path,
                reported.file.role.at,
                format!(
                    "overlaps grant `{}` ({}) of role `{}` to the same subject",
                    counterpart.id,
                    counterpart.path.display(),
                    grant.file.role.value
                ),
            ));
        }
    }
}
