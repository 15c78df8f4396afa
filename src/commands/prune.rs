//! `lapse prune`: a branch with one commit removing every grant whose
//! access has ended (expired, or with its subject's contract) and every
//! orphaned grant, optionally pushed and proposed as a pull request.

use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use git2::Repository;
use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::forge::{self, Forge, Published};
use crate::history::{discover_git, grants_prefix};
use crate::model::GrantDuration;
use crate::model::timestamp::format_timestamp;
use crate::output::terminal::printable;
use crate::prune::deliver::{Delivered, Delivery, deliver};
use crate::prune::summary::text_rows;
use crate::prune::{self, Base, BranchCommit, Candidate, Plan, RemovedGrant, Why, message, push};
use crate::uri::redact_credentials;

use super::{Outcome, repository_root};

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Print what would be removed; write no branch, push nothing, call no API.
    #[arg(long)]
    pub dry_run: bool,
    /// Remove only grants expired for longer than this (90m, 4h, 14d, 2w).
    #[arg(long, value_name = "DUR")]
    pub grace: Option<GrantDuration>,
    /// The branch to write (and push); rewritten on every run.
    #[arg(long, value_name = "NAME", default_value = prune::DEFAULT_BRANCH)]
    pub branch: String,
    /// Start from this branch or commit instead of the default branch
    /// (<remote>/HEAD, the current branch's upstream, then main or master).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Push the branch to this remote with the git CLI.
    #[arg(long, value_name = "REMOTE")]
    pub push: Option<String>,
    /// Open (or update) a pull request on GitHub, GitLab or Gitea.
    #[arg(long, requires = "push")]
    pub open_pr: bool,
    /// How to print the result.
    #[arg(long, value_enum, default_value_t = PruneFormat::Human)]
    pub format: PruneFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PruneFormat {
    /// Sentences and an aligned list of the removed grants.
    Human,
    /// One JSON document describing the run.
    Json,
}

/// What the run did, as printed.
#[derive(Debug, Serialize)]
struct PruneReport {
    dry_run: bool,
    cutoff: String,
    base: BaseReport,
    branch: String,
    removed: Vec<RemovedGrant>,
    #[serde(flatten)]
    delivery: DeliveryReport,
}

/// The base a lapse branch starts from, as printed.
#[derive(Debug, Serialize)]
pub(super) struct BaseReport {
    branch: Option<String>,
    source: String,
    commit: String,
}

impl BaseReport {
    pub(super) fn of(base: &Base) -> Self {
        Self {
            branch: base.branch.clone(),
            source: base.source.clone(),
            commit: base.commit.to_string(),
        }
    }

    /// `origin/main (abc1234)`.
    pub(super) fn human(&self) -> String {
        format!("{} ({})", self.source, &self.commit[..7])
    }
}

/// What happened to a lapse branch: commit, push, pull request.
#[derive(Debug, Default, Serialize)]
pub(super) struct DeliveryReport {
    commit: Option<String>,
    /// Whether `generated/` is committed on the base but was not refreshed.
    generated_stale: bool,
    pushed_to: Option<String>,
    pull_request: Option<PullRequestReport>,
}

#[derive(Debug, Serialize)]
struct PullRequestReport {
    number: u64,
    url: String,
    action: Published,
}

impl DeliveryReport {
    pub(super) fn of(delivered: Delivered, has_generated: bool) -> Self {
        Self {
            commit: Some(delivered.commit.to_string()),
            generated_stale: has_generated && !delivered.regenerated,
            pushed_to: delivered.pushed_to,
            pull_request: delivered
                .pull_request
                .map(|(request, action)| PullRequestReport {
                    number: request.number,
                    url: redact_credentials(&request.url),
                    action,
                }),
        }
    }

    /// The lines that say what was committed, pushed and opened.
    pub(super) fn human(&self, branch: &str) -> String {
        let mut text = String::new();
        if let Some(commit) = &self.commit {
            text.push_str(&format!("Committed {} on branch {branch}.\n", &commit[..7]));
        }
        if self.generated_stale {
            text.push_str("Note: generated/ was not refreshed on the branch; run lapse render there before merging.\n");
        }
        if let Some(remote) = &self.pushed_to {
            text.push_str(&format!("Pushed {branch} to {remote}.\n"));
        }
        if let Some(request) = &self.pull_request {
            let what = match request.action {
                Published::Opened => "Opened pull request",
                Published::Updated => "Updated pull request",
                Published::Unchanged => "Pull request is up to date:",
            };
            text.push_str(&format!("{what} #{} {}\n", request.number, request.url));
        }
        text
    }
}

/// What a command that writes a branch (prune, offboard) works on.
pub(super) struct BranchWork {
    pub root: std::path::PathBuf,
    pub repo: Repository,
    pub base: Base,
    /// The forge to open the pull request on, with `--open-pr`.
    pub forge: Option<Box<dyn Forge>>,
}

/// How a branch-writing command was asked to deliver.
pub(super) struct DeliveryArgs<'a> {
    pub command: &'a str,
    pub base: Option<&'a str>,
    pub push: Option<&'a str>,
    pub open_pr: bool,
    pub dry_run: bool,
}

/// The repository, the base commit and the forge of a branch-writing
/// command. Configuration problems (no git, an unknown remote, no forge
/// token) surface here, before anything is written.
pub(super) fn branch_work(global: &GlobalArgs, args: &DeliveryArgs) -> anyhow::Result<BranchWork> {
    let root = repository_root(global.repo())?;
    let repo = discover_git(&root)?.with_context(|| {
        format!(
            "{} is not inside a git repository; lapse {} commits to the grants repository's git history",
            root.display(),
            args.command
        )
    })?;
    let remote = args.push.unwrap_or("origin");
    if let Some(remote) = args.push {
        push::ensure_remote(&repo, remote)?;
    }
    let base = prune::resolve_base(&repo, args.base, remote)?;
    let forge = match (args.open_pr && !args.dry_run, &base.branch) {
        (false, _) => None,
        (true, None) => return Err(forge::ForgeError::NoBaseBranch.into()),
        (true, Some(_)) => Some(forge::from_env(&|name| std::env::var(name).ok())?),
    };
    Ok(BranchWork {
        root,
        repo,
        base,
        forge,
    })
}

pub fn run(global: &GlobalArgs, args: &PruneArgs) -> anyhow::Result<Outcome> {
    prune::check_branch_name(&args.branch)?;
    let BranchWork {
        root,
        repo,
        base,
        forge,
    } = branch_work(
        global,
        &DeliveryArgs {
            command: "prune",
            base: args.base.as_deref(),
            push: args.push.as_deref(),
            open_pr: args.open_pr,
            dry_run: args.dry_run,
        },
    )?;
    let grace = args
        .grace
        .map(GrantDuration::as_time_delta)
        .unwrap_or_default();
    // Where check reads the grants (a grants repository in a subdirectory
    // of the git work tree), prune reads and removes them too.
    let prefix = grants_prefix(&repo, &root)?.unwrap_or_default();
    let plan = prune::plan(&repo, base, prefix, global.now() - grace)?;
    warn_skipped(&plan.skipped);
    if let Some(problem) = &plan.policy_problem {
        eprintln!(
            "warning: {}; only grants past their own `expires` are removed, contract ends and orphaned grants wait until it loads",
            printable(problem)
        );
    }
    let mut report = PruneReport::planned(&plan, args, global.now());
    if !plan.removed.is_empty() && !args.dry_run {
        carry_out(
            &repo,
            &plan,
            global.now(),
            args,
            forge.as_deref(),
            &mut report,
        )?;
    }
    // -q: a run that removes nothing prints nothing.
    if !(global.quiet && report.removed.is_empty() && args.format == PruneFormat::Human) {
        emit(args.format, &report)?;
    }
    Ok(Outcome::Clean)
}

/// Names under `grants/` that prune could not read are left in place; the
/// run goes on for every other grant, and says which it did not judge.
fn warn_skipped(skipped: &[String]) {
    for name in skipped {
        eprintln!(
            "warning: {} was not read and is never removed: its name is not valid UTF-8 (or not one git checks out); `lapse check` refuses it, rename it",
            printable(name)
        );
    }
}

/// Commit, push, pull request (`prune::deliver`).
fn carry_out(
    repo: &Repository,
    plan: &Plan,
    now: DateTime<Utc>,
    args: &PruneArgs,
    forge: Option<&dyn Forge>,
    report: &mut PruneReport,
) -> anyhow::Result<()> {
    let change = BranchCommit {
        base: &plan.base,
        edit: plan.edit(),
        has_generated: plan.has_generated,
        message: message::commit_message(&report.removed),
    };
    let regenerate = |candidate: &Candidate| prune::regenerate::generated_for(repo, candidate, now);
    let delivery = Delivery {
        branch: &args.branch,
        push: args.push.as_deref(),
        forge,
    };
    let words = |regenerated: bool| {
        (
            message::title(&report.removed),
            message::pull_request_body(&report.removed, regenerated),
        )
    };
    let delivered = deliver(repo, &change, &delivery, Some(&regenerate), &words)?;
    report.delivery = DeliveryReport::of(delivered, plan.has_generated);
    Ok(())
}

impl PruneReport {
    fn planned(plan: &Plan, args: &PruneArgs, now: DateTime<Utc>) -> Self {
        Self {
            dry_run: args.dry_run,
            cutoff: format_timestamp(&plan.cutoff),
            base: BaseReport::of(&plan.base),
            branch: args.branch.clone(),
            removed: plan.removed(now),
            delivery: DeliveryReport::default(),
        }
    }
}

fn emit(format: PruneFormat, report: &PruneReport) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match format {
        PruneFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &crate::output::json::versioned(report))?;
            writeln!(stdout)?;
        }
        PruneFormat::Human => stdout.write_all(human(report).as_bytes())?,
    }
    stdout.flush()?;
    Ok(())
}

fn human(report: &PruneReport) -> String {
    let base = report.base.human();
    if report.removed.is_empty() {
        return format!(
            "Nothing on {base} expired or ended with a contract at or before {}, and no grant is orphaned: no branch written, nothing pushed, no pull request opened.\n",
            report.cutoff
        );
    }
    let verb = if report.dry_run {
        "Would remove"
    } else {
        "Removing"
    };
    let mut text = format!(
        "{verb} {} from {base}:\n{}",
        count(&report.removed),
        rows(&report.removed)
    );
    let extensions: Vec<&str> = report
        .removed
        .iter()
        .filter_map(|grant| grant.extend.as_deref())
        .collect();
    if !extensions.is_empty() {
        text.push_str("To keep access, request an extension before the removal is merged:\n");
        for command in extensions {
            text.push_str(&format!("  {command}\n"));
        }
    }
    if report.dry_run {
        text.push_str("Dry run: no branch written, nothing pushed, no pull request opened.\n");
        return text;
    }
    text.push_str(&report.delivery.human(&report.branch));
    text
}

/// "2 expired grants", or "3 grants (2 expired, 1 orphaned)".
fn count(removed: &[RemovedGrant]) -> String {
    let plural = if removed.len() == 1 { "" } else { "s" };
    if removed.iter().all(|g| g.removed_because == Why::Expired) {
        return format!("{} expired grant{plural}", removed.len());
    }
    let mut reasons = Vec::new();
    for why in [Why::Expired, Why::ContractEnded, Why::Orphaned] {
        let n = removed.iter().filter(|g| g.removed_because == why).count();
        if n > 0 {
            reasons.push(format!("{n} {}", why.word()));
        }
    }
    format!("{} grant{plural} ({})", removed.len(), reasons.join(", "))
}

/// The aligned rows of `text_rows`, each ended by why it goes when that is
/// not plain expiry.
fn rows(removed: &[RemovedGrant]) -> String {
    let summaries: Vec<_> = removed.iter().map(|g| g.summary.clone()).collect();
    let mut text = String::new();
    for (line, grant) in text_rows(&summaries).lines().zip(removed) {
        text.push_str(line);
        if grant.removed_because == Why::Orphaned {
            text.push_str("  (orphaned: subject no longer in lapse.yaml)");
        }
        text.push('\n');
    }
    text
}
