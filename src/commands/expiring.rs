//! `lapse expiring`: grants whose access ends soon (at their `expires`, or
//! with their subject's contract), contracts that end soon, and with
//! `--notify` the warnings delivered to Slack, Teams or a GitHub issue. It
//! informs and never fails a pipeline over what it finds: exit 0 whether
//! or not anything ends; exit 2 only when it cannot read the repository or
//! deliver a warning.

use std::io::Write;

use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::load;
use crate::model::timestamp::format_timestamp;
use crate::model::{Directory, GrantDuration};
use crate::notify::{self, Channel, Delivery, Warnings};
use crate::prune::GrantSummary;
use crate::prune::summary::{markdown_cell, markdown_table, single_line, text_rows};
use crate::prune::window::ContractEnd;
use crate::uri::redact_credentials;

use super::{Outcome, repository_root};

#[derive(Debug, Args)]
pub struct ExpiringArgs {
    /// The window to look ahead (default: defaults.warn_before in lapse.yaml).
    #[arg(long, value_name = "DUR")]
    pub within: Option<GrantDuration>,
    /// How to print the result.
    #[arg(long, value_enum, default_value_t = ExpiringFormat::Human)]
    pub format: ExpiringFormat,
    /// Deliver the warnings (repeatable): slack (LAPSE_SLACK_WEBHOOK),
    /// teams (LAPSE_TEAMS_WEBHOOK) or github-issue (GITHUB_API_URL,
    /// GITHUB_REPOSITORY, GITHUB_TOKEN).
    #[arg(long, value_enum, value_name = "CHANNEL")]
    pub notify: Vec<Channel>,
    /// How often the job runs: Slack and Teams announce a grant in the run
    /// of the period (aligned on UTC) in which it enters the window.
    #[arg(long, value_name = "DUR", default_value = "1d")]
    pub every: GrantDuration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExpiringFormat {
    /// One aligned line per grant and per contract end.
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
    contract_ends: Vec<ContractEnd>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notified: Vec<Delivery>,
}

pub fn run(global: &GlobalArgs, args: &ExpiringArgs) -> anyhow::Result<Outcome> {
    let root = repository_root(global.repo())?;
    let workspace = load::load_workspace(&root)?;
    let policy = &workspace.policy;
    let directory = Directory::new(policy);
    let within = args.within.unwrap_or(policy.defaults.warn_before);
    let now = global.now();
    // With --notify, a webhook run may announce grants that enter the
    // window later in its period, so the selection reaches further.
    let reach = if args.notify.is_empty() {
        crate::prune::ExpiryWindow::starting_at(now, within)
    } else {
        Warnings::horizon(now, within, args.every)
    };
    let grants = reach.select(&workspace.grants, policy, &directory);
    let contracts = reach.contract_ends(policy, &directory, &workspace.grants);
    let warnings = Warnings {
        now,
        within,
        every: args.every,
        policy,
        directory: &directory,
        grants: &grants,
        contracts: &contracts,
    };
    let env = |name: &str| std::env::var(name).ok();
    let notified = args
        .notify
        .iter()
        .map(|channel| notify::deliver(*channel, &warnings, &env))
        .collect::<Result<Vec<_>, _>>()?;
    let window = warnings.window();
    let report = ExpiringReport {
        now: format_timestamp(&window.from),
        until: format_timestamp(&window.until),
        within: within.to_string(),
        grants: warnings
            .grants_in_window()
            .map(|grant| grant.summary.clone())
            .collect(),
        contract_ends: warnings.contracts_in_window().cloned().collect(),
        notified,
    };
    let mut stdout = std::io::stdout().lock();
    match args.format {
        ExpiringFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &crate::output::json::versioned(&report))?;
            writeln!(stdout)?;
        }
        ExpiringFormat::Human => stdout.write_all(human(&report, &warnings).as_bytes())?,
        ExpiringFormat::Markdown => stdout.write_all(markdown(&report, &warnings).as_bytes())?,
    }
    stdout.flush()?;
    Ok(Outcome::Clean)
}

fn headline(report: &ExpiringReport) -> String {
    let by = format!("within {} (by {})", report.within, report.until);
    match report.grants.len() {
        0 => format!("No grant ends {by}."),
        1 => format!("1 grant ends {by}:"),
        n => format!("{n} grants end {by}:"),
    }
}

fn contract_headline(report: &ExpiringReport) -> String {
    match report.contract_ends.len() {
        1 => format!("1 contract ends within {}:", report.within),
        n => format!("{n} contracts end within {}:", report.within),
    }
}

/// "Contract of alex@example.com ends in 5 days (…): 3 grants end with it".
fn contract_lines(report: &ExpiringReport, warnings: &Warnings, prefix: &str) -> String {
    report
        .contract_ends
        .iter()
        .map(|contract| {
            let who = match prefix {
                "- " => markdown_cell(&contract.person),
                _ => single_line(&contract.person),
            };
            format!(
                "{prefix}{}\n",
                notify::contract_sentence(contract, &who, warnings.now)
            )
        })
        .collect()
}

fn human(report: &ExpiringReport, warnings: &Warnings) -> String {
    let mut text = format!("{}\n{}", headline(report), text_rows(&report.grants));
    if !report.contract_ends.is_empty() {
        text.push_str(&format!(
            "{}\n{}",
            contract_headline(report),
            contract_lines(report, warnings, "  ")
        ));
    }
    for delivery in &report.notified {
        text.push_str(&delivery_line(delivery));
    }
    text
}

fn markdown(report: &ExpiringReport, warnings: &Warnings) -> String {
    let mut text = format!("{}\n", headline(report));
    if !report.grants.is_empty() {
        text.push_str(&format!("\n{}", markdown_table(&report.grants)));
    }
    if !report.contract_ends.is_empty() {
        text.push_str(&format!(
            "\n{}\n\n{}",
            contract_headline(report),
            contract_lines(report, warnings, "- ")
        ));
    }
    text
}

/// "Slack: announced 2 grants and 1 contract end." for a job log.
fn delivery_line(delivery: &Delivery) -> String {
    let place = match &delivery.issue {
        Some(issue) => format!(
            "GitHub issue #{} {}",
            issue.number,
            single_line(&redact_credentials(&issue.url))
        ),
        None => delivery.channel.name().to_owned(),
    };
    let what = match (delivery.grants.len(), delivery.contracts.len()) {
        (0, 0) => return format!("{place}: nothing new to announce.\n"),
        (grants, 0) => notify::count_grants(grants, "announced", "announced"),
        (0, 1) => "1 contract end announced".to_owned(),
        (0, contracts) => format!("{contracts} contract ends announced"),
        (grants, contracts) => format!(
            "{} and {contracts} contract end{} announced",
            match grants {
                1 => "1 grant".to_owned(),
                n => format!("{n} grants"),
            },
            if contracts == 1 { "" } else { "s" }
        ),
    };
    format!("{place}: {what}.\n")
}
