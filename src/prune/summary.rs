//! How a removed or expiring grant reads to a person: subject, role, expiry
//! and approvers. The same rows go into the prune commit message (the
//! revocation record in `git log`), the pull-request body and the
//! `lapse expiring` notifications.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::Grant;
use crate::model::timestamp::format_timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantSummary {
    pub id: String,
    pub path: PathBuf,
    pub subject: String,
    pub role: String,
    /// RFC 3339, UTC, as lapse prints every instant.
    pub expires: String,
    pub approvers: Vec<String>,
}

impl GrantSummary {
    /// A summary of a grant whose expiry is known (the callers only select
    /// grants with a valid `expires`).
    pub fn of(grant: &Grant, expires_at: DateTime<Utc>) -> Self {
        Self {
            id: grant.id.clone(),
            path: grant.path.clone(),
            subject: grant.file.subject.value.clone(),
            role: grant.file.role.value.clone(),
            expires: format_timestamp(&expires_at),
            approvers: grant.approver_names().map(str::to_owned).collect(),
        }
    }

    /// Approvers joined for a reader, or a visible "none" rather than blank.
    pub fn approvers_text(&self) -> String {
        if self.approvers.is_empty() {
            "none".to_owned()
        } else {
            self.approvers.join(", ")
        }
    }
}

/// A markdown table of grants. Cells are escaped: a grant file is written by
/// whoever opens a pull request, and its values must not be able to add
/// rows, links or @-mentions to a notification or a pull-request body.
pub fn markdown_table(rows: &[GrantSummary]) -> String {
    let mut table =
        String::from("| Grant | Subject | Role | Expires | Approvers |\n|---|---|---|---|---|\n");
    for row in rows {
        table.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            markdown_cell(&row.id),
            markdown_cell(&row.subject),
            markdown_cell(&row.role),
            markdown_cell(&row.expires),
            markdown_cell(&row.approvers_text()),
        ));
    }
    table
}

/// Plain-text lines, one per grant, columns aligned for a terminal or a
/// job log: expiry, id, subject, role, approvers.
pub fn text_rows(rows: &[GrantSummary]) -> String {
    let width = |field: fn(&GrantSummary) -> &str| {
        rows.iter()
            .map(|row| field(row).chars().count())
            .max()
            .unwrap_or(0)
    };
    let (id, subject, role) = (width(|r| &r.id), width(|r| &r.subject), width(|r| &r.role));
    let mut text = String::new();
    for row in rows {
        text.push_str(&format!(
            "  {}  {:id$}  {:subject$}  {:role$}  approved by {}\n",
            row.expires,
            single_line(&row.id),
            single_line(&row.subject),
            single_line(&row.role),
            single_line(&row.approvers_text()),
        ));
    }
    text
}

/// Escapes every character CommonMark or GitHub give a meaning to, and turns
/// line breaks into spaces so a value stays inside its cell.
fn markdown_cell(text: &str) -> String {
    let mut cell = String::with_capacity(text.len());
    for c in single_line(text).chars() {
        if "\\`*_[]()<>|#!~@&".contains(c) {
            cell.push('\\');
        }
        cell.push(c);
    }
    cell
}

/// The text with control characters (line breaks included) replaced by
/// spaces, so that a value cannot forge extra lines in a commit message.
pub fn single_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(subject: &str) -> GrantSummary {
        GrantSummary {
            id: "alex-deploy".into(),
            path: "grants/alex-deploy.yaml".into(),
            subject: subject.into(),
            role: "deployer".into(),
            expires: "2026-12-06T17:00:00Z".into(),
            approvers: vec![],
        }
    }

    #[test]
    fn a_cell_cannot_break_out_of_its_row_or_mention_anyone() {
        let table = markdown_table(&[row("a | b\n| x | @org/admins")]);
        let last = table.lines().last().unwrap();
        assert_eq!(table.lines().count(), 3, "{table}");
        assert!(last.contains(r"a \| b \| x \| \@org/admins"), "{last}");
        assert!(last.ends_with("| none |"), "{last}");
    }
}
