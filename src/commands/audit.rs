//! `lapse audit`: every event of every grant the default branch held over a
//! period, from its history alone, for an access review.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};

use crate::audit::build::{AuditRequest, audit};
use crate::audit::report::Window;
use crate::audit::subject::SubjectQuery;
use crate::audit::{BranchRead, checkpoint, format};
use crate::cli::{GlobalArgs, parse_now};
use crate::history::ledger::Ledger;
use crate::history::{GrantRepository, blob_id};
use crate::load::{self, POLICY_FILE};
use crate::model::Directory;
use crate::model::policy::Evidence;
use crate::output::terminal::printable;
use crate::prune::resolve_base;

use super::{Outcome, free_at_exit, repository_root};

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Start of the period, RFC 3339 with offset (default: the beginning).
    #[arg(long, value_name = "T", value_parser = parse_now)]
    pub since: Option<DateTime<Utc>>,
    /// End of the period, RFC 3339 with offset (default: --now).
    #[arg(long, value_name = "T", value_parser = parse_now)]
    pub until: Option<DateTime<Utc>>,
    /// Only grants that gave this person access: theirs (any alias), and
    /// those to groups they belonged to at the time; or group:<name>.
    #[arg(long, value_name = "S")]
    pub subject: Option<String>,
    /// Only grants of this role.
    #[arg(long, value_name = "R")]
    pub role: Option<String>,
    /// The branch (or any revision) to audit, instead of the default
    /// branch: origin/HEAD, else the current branch's upstream, else
    /// origin/main, origin/master, main, master.
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    #[arg(long, value_enum, default_value_t = AuditFormat::Markdown)]
    pub format: AuditFormat,
    /// Report (exit 1) every commit of the checkpoint that the branch no
    /// longer reaches: history rewritten since the previous run.
    #[arg(long, requires = "checkpoint")]
    pub verify: bool,
    /// The checkpoint file: read by --verify, then written with every
    /// commit this run read (not when --verify found a rewrite).
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// One table per role, events in time order: for a person.
    Markdown,
    /// One versioned document, grants with their access and events.
    Json,
    /// One row per event, the columns the README lists: for a spreadsheet.
    Csv,
}

pub fn run(global: &GlobalArgs, args: &AuditArgs) -> anyhow::Result<Outcome> {
    let now = global.now();
    let window = Window {
        since: args.since,
        until: Some(args.until.unwrap_or(now)),
    };
    if let (Some(since), Some(until)) = (window.since, window.until) {
        ensure!(
            since <= until,
            "--since is later than --until (or --now): the period is empty"
        );
    }
    let root = repository_root(global.repo())?;
    let mut sources = load::Sources::default();
    let policy = load::load_policy(&root, &mut sources)?;
    let directory = Directory::new(&policy);
    let policy_blob = blob_id(sources.get(Path::new(POLICY_FILE)).unwrap_or_default());
    let repository = GrantRepository::open(&root, "`lapse audit`")?;
    let base = resolve_base(repository.git(), args.base.as_deref(), "origin")?;
    let branch = BranchRead::from(&base);
    let signed = policy.approvals.evidence.value == Evidence::SignedCommit;
    let ledger = Ledger::read(&repository, base.commit, &directory, signed)
        .map_err(|error| repository.explain_missing(error))?;
    let verification = match (&args.checkpoint, args.verify) {
        (Some(path), true) => {
            let reachable: HashSet<_> = ledger.commits.iter().map(|(id, _)| *id).collect();
            Some(checkpoint::verify(path, &reachable)?)
        }
        _ => None,
    };
    let request = AuditRequest {
        policy: &policy,
        directory: &directory,
        policy_blob,
        now,
        window,
        subject: args
            .subject
            .as_deref()
            .map(|subject| SubjectQuery::new(subject, &policy, &directory)),
        role: args.role.clone(),
    };
    let mut report = audit(&repository, &ledger, branch, &request)
        .map_err(|error| repository.explain_missing(error))?;
    report.verify = verification;
    // A report of every event can be megabytes: written in large blocks,
    // not a system call per line.
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match args.format {
        AuditFormat::Markdown => format::markdown::write(&report, &mut stdout),
        AuditFormat::Json => format::json::write(&report, &mut stdout),
        AuditFormat::Csv => format::csv::write(&report, &mut stdout),
    }
    .and_then(|()| stdout.flush())
    .context("cannot write to standard output")?;
    let rewritten = report.verify.as_ref().is_some_and(|v| v.rewritten());
    if let Some(verification) = &report.verify {
        // The file name is the user's; the commits are hex.
        eprintln!("{}", printable(&verification.summary()));
    }
    if let Some(path) = &args.checkpoint {
        if rewritten {
            eprintln!(
                "{} left as it was: replace or remove it once the rewrite is understood",
                printable(&path.display().to_string())
            );
        } else {
            checkpoint::write(path, &report.branch.describe(), &ledger.commits, now)?;
        }
    }
    free_at_exit((ledger, report, policy));
    Ok(if rewritten {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
