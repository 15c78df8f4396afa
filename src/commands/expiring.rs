//! `lapse expiring`: grants that expire soon, for a notification step. It
//! informs and never fails a pipeline: exit 0 whether or not grants expire.

use std::io::Write;

use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::load;
use crate::model::GrantDuration;
use crate::model::timestamp::format_timestamp;
use crate::prune::summary::{markdown_table, text_rows};
use crate::prune::{ExpiryWindow, GrantSummary};

use super::{Outcome, repository_root};

#[derive(Debug, Args)]
pub struct ExpiringArgs {
    /// The window to look ahead (default: defaults.warn_before in lapse.yaml).
    #[arg(long, value_name = "DUR")]
    pub within: Option<GrantDuration>,
    /// How to print the result.
    #[arg(long, value_enum, default_value_t = ExpiringFormat::Human)]
    pub format: ExpiringFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExpiringFormat {
    /// One aligned line per grant.
    Human,
    /// One JSON document, for scripts and chat webhooks.
    Json,
    /// A markdown table, for issues, chat and e-mail.
    Markdown,
}

#[derive(Debug, Serialize)]
struct ExpiringReport {
    now: String,
    until: String,
    within: String,
    grants: Vec<GrantSummary>,
}

pub fn run(global: &GlobalArgs, args: &ExpiringArgs) -> anyhow::Result<Outcome> {
    let root = repository_root(global.repo())?;
    let workspace = load::load_workspace(&root)?;
    let within = args.within.unwrap_or(workspace.policy.defaults.warn_before);
    let window = ExpiryWindow::starting_at(global.now(), within);
    let report = ExpiringReport {
        now: format_timestamp(&window.from),
        until: format_timestamp(&window.until),
        within: within.to_string(),
        grants: window.select(&workspace.grants),
    };
    let mut stdout = std::io::stdout().lock();
    match args.format {
        ExpiringFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &crate::output::json::versioned(&report))?;
            writeln!(stdout)?;
        }
        ExpiringFormat::Human => stdout.write_all(human(&report).as_bytes())?,
        ExpiringFormat::Markdown => stdout.write_all(markdown(&report).as_bytes())?,
    }
    stdout.flush()?;
    Ok(Outcome::Clean)
}

fn headline(report: &ExpiringReport) -> String {
    match report.grants.len() {
        0 => format!(
            "No grant expires within {} (by {}).",
            report.within, report.until
        ),
        1 => format!(
            "1 grant expires within {} (by {}):",
            report.within, report.until
        ),
        n => format!(
            "{n} grants expire within {} (by {}):",
            report.within, report.until
        ),
    }
}

fn human(report: &ExpiringReport) -> String {
    format!("{}\n{}", headline(report), text_rows(&report.grants))
}

fn markdown(report: &ExpiringReport) -> String {
    if report.grants.is_empty() {
        return format!("{}\n", headline(report));
    }
    format!("{}\n\n{}", headline(report), markdown_table(&report.grants))
}
