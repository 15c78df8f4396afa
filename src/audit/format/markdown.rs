//! `lapse audit --format markdown`: what a person hands an auditor. One
//! table per role, its events in time order, under the role's definition
//! in each policy version that applied. Every value is escaped as in
//! prune's pull requests (`prune::summary::markdown_cell`), so a grant
//! field cannot add rows, links, mentions or headings.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::audit::report::{AuditEvent, AuditReport, AuditedGrant, EventKind};
use crate::model::timestamp::format_timestamp;
use crate::prune::summary::markdown_cell;

use super::{actor, detail};

pub fn write(report: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "# Access audit of {}\n",
        markdown_cell(&report.branch.describe())
    )?;
    let window = match (report.window.since, report.window.until) {
        (None, None) => "the whole history".to_owned(),
        (since, until) => format!(
            "from {} to {}",
            since.map_or("the beginning".to_owned(), |at| format_timestamp(&at)),
            until.map_or("now".to_owned(), |at| format_timestamp(&at))
        ),
    };
    let events: usize = report.grants.iter().map(|grant| grant.events.len()).sum();
    writeln!(
        out,
        "Period: {window}. Judged at {}. {} grant(s), {events} event(s).\n",
        format_timestamp(&report.now),
        report.grants.len()
    )?;
    if report.unreviewed_break_glass > 0 {
        writeln!(
            out,
            "> **BREAK-GLASS: {} emergency grant(s) were not reviewed within their role's `review_within`** (events `unreviewed-break-glass` below).\n",
            report.unreviewed_break_glass
        )?;
    }
    if let Some(verification) = &report.verify {
        writeln!(out, "{}\n", markdown_cell(&verification.summary()))?;
    }
    let mut by_role: BTreeMap<&str, Vec<(&AuditedGrant, &AuditEvent)>> = BTreeMap::new();
    for grant in &report.grants {
        for event in &grant.events {
            let role = event
                .terms
                .as_ref()
                .map_or(grant.role.as_str(), |terms| terms.role.as_str());
            by_role.entry(role).or_default().push((grant, event));
        }
    }
    for (role, mut rows) in by_role {
        rows.sort_by_key(|(_, event)| event.time);
        writeln!(out, "## Role {}\n", markdown_cell(role))?;
        for definition in report.roles.iter().filter(|d| d.role == role) {
            writeln!(
                out,
                "- under lapse.yaml {}: {}",
                short(&definition.policy),
                markdown_cell(&definition.summary())
            )?;
        }
        writeln!(
            out,
            "\n| Time | Grant | Subject | Event | Who | Commit | Details | Policy |\n|---|---|---|---|---|---|---|---|"
        )?;
        for (grant, event) in rows {
            let loud = match event.kind {
                EventKind::UnreviewedBreakGlass { .. } => "**unreviewed-break-glass**",
                _ => event.kind.name(),
            };
            writeln!(
                out,
                "| {} | {} | {} | {loud} | {} | {} | {} | {} |",
                format_timestamp(&event.time),
                markdown_cell(&grant.id),
                markdown_cell(
                    &event
                        .terms
                        .as_ref()
                        .map_or(grant.subject.clone(), |terms| terms.subject.clone())
                ),
                markdown_cell(&actor(event)),
                event
                    .commit
                    .as_ref()
                    .map(|commit| short(&commit.id))
                    .unwrap_or_default(),
                markdown_cell(&detail(event)),
                short(&event.policy),
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// A commit or blob id as people paste it into `git show`.
fn short(id: &str) -> String {
    let short: String = id
        .chars()
        .take(12)
        .filter(char::is_ascii_hexdigit)
        .collect();
    short
}
