//! The audit's output formats: functions from the report to bytes.

pub mod csv;
pub mod json;
pub mod markdown;

use crate::model::timestamp::format_timestamp;

use super::report::{AuditEvent, EventKind};

/// Who an event names: the approver of an approval, else the author of
/// its commit.
pub fn actor(event: &AuditEvent) -> String {
    match &event.kind {
        EventKind::Approved { approver, .. } => approver.clone(),
        EventKind::MemberEnded { member } => member.clone(),
        _ => event
            .commit
            .as_ref()
            .map(|commit| commit.author.clone())
            .unwrap_or_default(),
    }
}

/// What a reader needs to know of an event beyond its kind, in words.
pub fn detail(event: &AuditEvent) -> String {
    match &event.kind {
        EventKind::Requested | EventKind::Changed => String::new(),
        EventKind::Approved {
            effective,
            evidence,
            not_counted,
            ..
        } => {
            let mut text = format!(
                "{} recorded by {}, effective {}",
                evidence.kind,
                evidence.recorded_by,
                format_timestamp(effective)
            );
            if let Some(key) = &evidence.key {
                text.push_str(&format!("; signed with {key}"));
                if let Some(signer) = &evidence.signer {
                    text.push_str(&format!(" ({signer})"));
                }
            }
            match not_counted {
                Some(why) => text.push_str(&format!("; NOT COUNTED: {why}")),
                None => text.push_str("; counted"),
            }
            text
        }
        EventKind::InForce {
            access_from,
            approved_by,
            break_glass_review_by,
        } => {
            let approved = if approved_by.is_empty() {
                "no counted approval".to_owned()
            } else {
                format!("approved by {}", approved_by.join(", "))
            };
            let mut text = format!("access from {}; {approved}", format_timestamp(access_from));
            if let Some(review_by) = break_glass_review_by {
                text.push_str(&format!(
                    "; BREAK-GLASS, to be reviewed by {}",
                    format_timestamp(review_by)
                ));
            }
            text
        }
        EventKind::Moved { from, to } => format!("from {from} to {to}"),
        EventKind::Ended { reason } => reason.as_str().to_owned(),
        EventKind::MemberEnded { member } => {
            format!("contract-ends: {member}'s access through the group ended with their contract")
        }
        EventKind::UnreviewedBreakGlass {
            in_force_at,
            approved_late_by,
        } => {
            let mut text = format!(
                "UNREVIEWED BREAK-GLASS: in force since {}, no authorised review in time",
                format_timestamp(in_force_at)
            );
            if !approved_late_by.is_empty() {
                text.push_str(&format!(
                    "; approved late by {}",
                    approved_late_by.join(", ")
                ));
            }
            text
        }
    }
}
