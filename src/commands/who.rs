//! `lapse who`: who had which access at an instant, from the git history.

use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::audit::BranchRead;
use crate::audit::subject::SubjectQuery;
use crate::cli::{GlobalArgs, parse_now};
use crate::history::{self, ActiveAt, CommitStamp, GrantRecord, GrantRepository};
use crate::load;
use crate::model::lifecycle::{EndReason, effective_end};
use crate::model::timestamp::format_timestamp;
use crate::model::{Directory, Policy};
use crate::output::terminal::printable;
use crate::prune::resolve_base;

use super::{Outcome, repository_root};

#[derive(Debug, Args)]
pub struct WhoArgs {
    /// The instant to ask about, RFC 3339 with offset (default: --now).
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub at: Option<DateTime<Utc>>,
    /// Only grants that gave this person access: theirs (any alias or
    /// spelling), and those to groups they belonged to at the time.
    #[arg(long, value_name = "SUBJECT")]
    pub subject: Option<String>,
    /// Only grants of this role.
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// The branch (or any revision) to read, instead of the default
    /// branch: origin/HEAD, else the current branch's upstream, else
    /// origin/main, origin/master, main, master.
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
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
    // DESIGN.md: who answers from the default branch, not from whatever
    // branch is checked out (a feature branch's grants were never in force).
    let base = resolve_base(repository.git(), args.base.as_deref(), "origin")?;
    let tip = repository.git().find_commit(base.commit)?;
    let at = args.at.unwrap_or_else(|| global.now());
    let ActiveAt {
        records,
        policy: then,
    } = history::grants_active_at(&repository, tip, at, &directory, (&policy, &directory))
        .map_err(|error| repository.explain_missing(error))?;
    let (then_policy, then_directory) = then.as_deref().map_or((&policy, &directory), |then| {
        (&then.policy, &then.directory)
    });
    let subject = args
        .subject
        .as_deref()
        .map(|subject| SubjectQuery::new(subject, &policy, &directory));
    let records: Vec<GrantRecord> = records
        .into_iter()
        .filter(|record| {
            let grant = &record.grant.file;
            subject.as_ref().is_none_or(|subject| {
                subject.matches_at(&grant.subject, then_policy, then_directory, &directory, at)
            }) && args
                .role
                .as_deref()
                .is_none_or(|role| role == grant.role.value)
        })
        .collect();
    let views: Vec<GrantView> = records
        .iter()
        .map(|record| GrantView::of(record, then_policy, then_directory))
        .collect();
    let branch = BranchRead::from(&base);
    let mut stdout = std::io::stdout().lock();
    match args.format {
        WhoFormat::Human => write_human(&views, at, &branch, &mut stdout),
        WhoFormat::Json => write_json(views, at, &branch, &mut stdout),
    }
    .context("cannot write to standard output")?;
    Ok(Outcome::Clean)
}

fn write_human(
    views: &[GrantView],
    at: DateTime<Utc>,
    branch: &BranchRead,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let at = format_timestamp(&at);
    // The branch name comes from the repository.
    let on = printable(&branch.describe()).into_owned();
    if views.is_empty() {
        return writeln!(out, "no grant was active at {at} on {on}");
    }
    writeln!(out, "{} grant(s) active at {at} on {on}", views.len())?;
    for view in views {
        writeln!(out)?;
        // Every field comes from a grant file or a commit of the history.
        for line in block(view) {
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
        format!("  ends:      {}", view.ends.describe()),
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
    grants: Vec<GrantView>,
    at: DateTime<Utc>,
    branch: &BranchRead,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct Document<'a> {
        at: String,
        branch: &'a BranchRead,
        grants: Vec<GrantView>,
    }
    let document = Document {
        at: format_timestamp(&at),
        branch,
        grants,
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
    /// When the access ends: the earlier of `expires` and the subject's
    /// `contract_ends` in the policy of that moment.
    ends: EndView,
    approvers: Vec<String>,
    granted: CommitView,
    removed: Option<CommitView>,
}

#[derive(Serialize)]
struct EndView {
    at: String,
    reason: EndReason,
}

impl EndView {
    fn describe(&self) -> String {
        let why = match self.reason {
            EndReason::Expires => "its expires",
            EndReason::ContractEnds => "the subject's contract_ends, before its expires",
        };
        format!("{} ({why})", self.at)
    }
}

#[derive(Serialize)]
struct CommitView {
    commit: String,
    time: String,
    author: String,
}

impl GrantView {
    /// The record as printed, its end judged by the policy of that moment.
    fn of(record: &GrantRecord, policy: &Policy, directory: &Directory) -> Self {
        let grant = &record.grant;
        let timestamp = |at: Option<DateTime<Utc>>| at.map(|at| format_timestamp(&at));
        // An active grant has a valid expires, so it has an end.
        let end = effective_end(grant, policy, directory);
        Self {
            id: grant.id.clone(),
            path: grant.path.display().to_string(),
            subject: grant.file.subject.value.clone(),
            role: grant.file.role.value.clone(),
            starts: timestamp(grant.starts_at()),
            expires: timestamp(grant.expires_at()).unwrap_or_default(),
            ends: EndView {
                at: timestamp(end.map(|end| end.at)).unwrap_or_default(),
                reason: end.map_or(EndReason::Expires, |end| end.reason),
            },
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
