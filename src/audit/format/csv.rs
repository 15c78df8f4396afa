//! `lapse audit --format csv`: one row per event, every grant's events in
//! time order, for a spreadsheet. The columns are documented in the README.
//!
//! Every cell comes from a grant file, the policy or a commit, and a
//! spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a
//! formula (CSV injection, https://owasp.org/www-community/attacks/CSV_Injection);
//! such cells, and those starting with a tab or carriage return, get a
//! leading `'`, which spreadsheets show as text. The `csv` crate quotes
//! separators, quotes and line breaks.

use std::collections::HashMap;
use std::io::{self, Write};

use crate::audit::report::{AuditEvent, AuditReport, AuditedGrant, EventKind};
use crate::model::timestamp::format_timestamp;

use super::detail;

/// The header row, in order.
pub const COLUMNS: &[&str] = &[
    "time",
    "event",
    "grant",
    "path",
    "subject",
    "role",
    "starts",
    "expires",
    "commit",
    "author",
    "approver",
    "evidence",
    "signing_key",
    "counted",
    "detail",
    "policy",
    "role_definition",
];

pub fn write(report: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    let definitions: HashMap<(&str, &str), String> = report
        .roles
        .iter()
        .map(|role| ((role.policy.as_str(), role.role.as_str()), role.summary()))
        .collect();
    let mut rows: Vec<(&AuditedGrant, &AuditEvent)> = report
        .grants
        .iter()
        .flat_map(|grant| grant.events.iter().map(move |event| (grant, event)))
        .collect();
    rows.sort_by_key(|(_, event)| event.time);
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(COLUMNS)?;
    for (grant, event) in rows {
        let terms = event.terms.as_ref();
        let role = terms.map_or(grant.role.as_str(), |terms| terms.role.as_str());
        let (approver, evidence, key, counted) = match &event.kind {
            EventKind::Approved {
                approver,
                evidence,
                counted,
                ..
            } => (
                approver.as_str(),
                evidence.kind,
                evidence.key.as_deref().unwrap_or_default(),
                if *counted { "yes" } else { "no" },
            ),
            _ => ("", "", "", ""),
        };
        let definition = definitions
            .get(&(event.policy.as_str(), role))
            .map(String::as_str)
            .unwrap_or_default();
        let record = [
            format_timestamp(&event.time),
            event.kind.name().to_owned(),
            grant.id.clone(),
            grant.path.clone(),
            terms.map(|t| t.subject.clone()).unwrap_or_default(),
            role.to_owned(),
            terms.and_then(|t| t.starts.clone()).unwrap_or_default(),
            terms.and_then(|t| t.expires.clone()).unwrap_or_default(),
            event
                .commit
                .as_ref()
                .map(|c| c.id.clone())
                .unwrap_or_default(),
            event
                .commit
                .as_ref()
                .map(|c| c.author.clone())
                .unwrap_or_default(),
            approver.to_owned(),
            evidence.to_owned(),
            key.to_owned(),
            counted.to_owned(),
            detail(event),
            event.policy.clone(),
            definition.to_owned(),
        ];
        writer.write_record(record.iter().map(|cell| inert(cell)))?;
    }
    writer.flush()
}

/// The cell as text a spreadsheet will not evaluate.
pub fn inert(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::inert;

    #[test]
    fn formula_cells_become_text() {
        assert_eq!(
            inert("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(inert("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(inert("-2+3"), "'-2+3");
        assert_eq!(inert("alex@example.com"), "alex@example.com");
    }
}
