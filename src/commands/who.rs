//! `lapse who`: who had which access at an instant, from the git history.

use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::cli::{GlobalArgs, parse_now};
use crate::history::{self, CommitStamp, GrantRecord, GrantRepository};
use crate::load;
use crate::model::Directory;
use crate::model::timestamp::format_timestamp;
use crate::output::terminal::printable;

use super::{Outcome, repository_root};

#[derive(Debug, Args)]
pub struct WhoArgs {
    /// The instant to ask about, RFC 3339 with offset (default: --now).
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub at: Option<DateTime<Utc>>,
    /// Only grants of this subject (any alias or spelling of the person).
    #[arg(long, value_name = "SUBJECT")]
    pub subject: Option<String>,
    /// Only grants of this role.
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    #[arg(long, value_enum, default_value_t = WhoFormat::Human)]
    pub format: WhoFormat,
}

/// `who` lists grants, not findings, so only the formats that suit a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WhoFormat {
    /// One block per grant.
    Human,
    /// One JSON document: the instant and the grants active at it.
    Json,
}

pub fn run(global: &GlobalArgs, args: &WhoArgs) -> anyhow::Result<Outcome> {
    let root = repository_root(global.repo())?;
    let mut sources = load::Sources::default();
    let policy = load::load_policy(&root, &mut sources)?;
    let directory = Directory::new(&policy);
    let repository = GrantRepository::open(&root, "`lapse who`")?;
    let at = args.at.unwrap_or_else(|| global.now());
    let records: Vec<GrantRecord> = history::grants_active_at(&repository, at, &directory)
        .map_err(|error| repository.explain_missing(error))?
        .into_iter()
        .filter(|record| {
            let grant = &record.grant.file;
            args.subject
                .as_deref()
                .is_none_or(|subject| directory.same_person(subject, &grant.subject))
                && args
                    .role
                    .as_deref()
                    .is_none_or(|role| role == grant.role.value)
        })
        .collect();
    let mut stdout = std::io::stdout().lock();
    match args.format {
        WhoFormat::Human => write_human(&records, at, &mut stdout),
        WhoFormat::Json => write_json(&records, at, &mut stdout),
    }
    .context("cannot write to standard output")?;
    Ok(Outcome::Clean)
}

fn write_human(
    records: &[GrantRecord],
    at: DateTime<Utc>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let at = format_timestamp(&at);
    if records.is_empty() {
        return writeln!(out, "no grant was active at {at}");
    }
    writeln!(out, "{} grant(s) active at {at}", records.len())?;
    for record in records {
        writeln!(out)?;
        // Every field comes from a grant file or a commit of the history.
        for line in block(&GrantView::from(record)) {
            writeln!(out, "{}", printable(&line))?;
        }
    }
    Ok(())
}

/// The lines of one grant's block, before escaping.
fn block(view: &GrantView) -> Vec<String> {
    let mut lines = vec![
        format!("{}  ({})", view.id, view.path),
        format!("  subject:   {}", view.subject),
        format!("  role:      {}", view.role),
        format!(
            "  window:    {} .. {}",
            view.starts
                .as_deref()
                .unwrap_or("(from the granting commit)"),
            view.expires
        ),
        format!("  approvers: {}", view.approvers.join(", ")),
        format!("  granted:   {}", describe(&view.granted)),
    ];
    if let Some(removed) = &view.removed {
        lines.push(format!("  removed:   {}", describe(removed)));
    }
    lines
}

fn describe(commit: &CommitView) -> String {
    format!(
        "{} {} by {}",
        &commit.commit[..12],
        commit.time,
        commit.author
    )
}

fn write_json(
    records: &[GrantRecord],
    at: DateTime<Utc>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct Document {
        at: String,
        grants: Vec<GrantView>,
    }
    let document = Document {
        at: format_timestamp(&at),
        grants: records.iter().map(GrantView::from).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &crate::output::json::versioned(document))?;
    writeln!(out)
}

/// One active grant as printed.
#[derive(Serialize)]
struct GrantView {
    id: String,
    path: String,
    subject: String,
    role: String,
    starts: Option<String>,
    expires: String,
    approvers: Vec<String>,
    granted: CommitView,
    removed: Option<CommitView>,
}

#[derive(Serialize)]
struct CommitView {
    commit: String,
    time: String,
    author: String,
}

impl From<&GrantRecord> for GrantView {
    fn from(record: &GrantRecord) -> Self {
        let grant = &record.grant;
        let timestamp = |at: Option<DateTime<Utc>>| at.map(|at| format_timestamp(&at));
        Self {
            id: grant.id.clone(),
            path: grant.path.display().to_string(),
            subject: grant.file.subject.value.clone(),
            role: grant.file.role.value.clone(),
            starts: timestamp(grant.starts_at()),
            expires: timestamp(grant.expires_at()).unwrap_or_default(),
            approvers: grant.approver_names().map(str::to_owned).collect(),
            granted: CommitView::from(record.granted.as_ref()),
            removed: record.removed.as_deref().map(CommitView::from),
        }
    }
}

impl From<&CommitStamp> for CommitView {
    fn from(commit: &CommitStamp) -> Self {
        Self {
            commit: commit.id.to_string(),
            time: format_timestamp(&commit.time),
            author: commit.author.clone(),
        }
    }
}
