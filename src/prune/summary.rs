//! How a removed or expiring grant reads to a person: subject, role, when
//! and why it ends, and approvers. The same rows go into the prune commit
//! message (the revocation record in `git log`), the pull-request body and
//! the `lapse expiring` notifications.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::output::terminal::printable;

use crate::model::Grant;
use crate::model::lifecycle::{EndReason, GrantEnd};
use crate::model::timestamp::format_timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantSummary {
    pub id: String,
    pub path: PathBuf,
    pub subject: String,
    pub role: String,
    /// The grant's own `expires`: RFC 3339, UTC, as lapse prints every instant.
    pub expires: String,
    /// When the access ends: the earlier of `expires` and the subject's
    /// `contract_ends`.
    pub ends: String,
    /// Why it ends then: `expires` or `contract-ends`.
    pub end_reason: EndReason,
    /// An emergency grant (its role has `break_glass`); written only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub break_glass: bool,
    pub approvers: Vec<String>,
}

impl GrantSummary {
    /// A summary of a grant that expires at `expires_at` and whose access
    /// ends at `end` (earlier when the subject's contract ends first).
    pub fn ending(
        grant: &Grant,
        expires_at: DateTime<Utc>,
        end: GrantEnd,
        break_glass: bool,
    ) -> Self {
        Self {
            id: grant.id.clone(),
            path: grant.path.clone(),
            subject: grant.file.subject.value.clone(),
            role: grant.file.role.value.clone(),
            expires: format_timestamp(&expires_at),
            ends: format_timestamp(&end.at),
            end_reason: end.reason,
            break_glass,
            approvers: grant.approver_names().map(str::to_owned).collect(),
        }
    }

    /// A summary of a grant whose access has no known end: an orphaned
    /// grant without a valid `expires`, shown as written (`expires` and
    /// `ends` hold that text, or `none`).
    pub fn unended(grant: &Grant, written: String, break_glass: bool) -> Self {
        Self {
            id: grant.id.clone(),
            path: grant.path.clone(),
            subject: grant.file.subject.value.clone(),
            role: grant.file.role.value.clone(),
            expires: written.clone(),
            ends: written,
            end_reason: EndReason::Expires,
            break_glass,
            approvers: grant.approver_names().map(str::to_owned).collect(),
        }
    }

    /// When the access ends, with the reason when it is not `expires`:
    /// `2026-12-15T00:00:00Z (contract end)`.
    pub fn ends_text(&self) -> String {
        match self.end_reason {
            EndReason::Expires => self.ends.clone(),
            EndReason::ContractEnds => format!("{} (contract end)", self.ends),
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
        let loud = if row.break_glass {
            " **BREAK-GLASS**"
        } else {
            ""
        };
        let reason = match row.end_reason {
            EndReason::Expires => "",
            EndReason::ContractEnds => " (contract end)",
        };
        table.push_str(&format!(
            "| {}{loud} | {} | {} | {}{reason} | {} |\n",
            markdown_cell(&row.id),
            markdown_cell(&row.subject),
            markdown_cell(&row.role),
            markdown_cell(&row.ends),
            markdown_cell(&row.approvers_text()),
        ));
    }
    table
}

/// Plain-text lines, one per grant, columns aligned for a terminal or a
/// job log: end, id, subject, role, approvers, and the end's reason and
/// `BREAK-GLASS` where they apply.
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
        let mut line = format!(
            "  {}  {:id$}  {:subject$}  {:role$}  approved by {}",
            row.ends,
            printable(&single_line(&row.id)),
            printable(&single_line(&row.subject)),
            printable(&single_line(&row.role)),
            printable(&single_line(&row.approvers_text())),
        );
        if row.end_reason == EndReason::ContractEnds {
            line.push_str("  (contract end)");
        }
        if row.break_glass {
            line.push_str("  BREAK-GLASS");
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// Escapes every character CommonMark or GitHub give a meaning to, and turns
/// line breaks into spaces so a value stays inside its cell.
pub fn markdown_cell(text: &str) -> String {
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
            ends: "2026-12-06T17:00:00Z".into(),
            end_reason: EndReason::Expires,
            break_glass: false,
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
