//! `lapse offboard PERSON`: one commit on a branch that ends the person's
//! access (at once, or `--at` a date), pushed and proposed as one pull
//! request, like `lapse prune`.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use clap::Args;
use serde::Serialize;

use crate::cli::{GlobalArgs, parse_now};
use crate::history::grants_prefix;
use crate::load;
use crate::model::Directory;
use crate::model::timestamp::format_timestamp;
use crate::offboard::{self, Offboarding, Request, message};
use crate::output::terminal::{printable, printable_lines};
use crate::prune::deliver::{Delivery, deliver};
use crate::prune::summary::text_rows;
use crate::prune::{self, BranchCommit, Candidate, GrantSummary};

use super::Outcome;
use super::prune::{
    BaseReport, BranchWork, DeliveryArgs, DeliveryReport, PruneFormat, branch_work,
};

#[derive(Debug, Args)]
pub struct OffboardArgs {
    /// The person: their key in lapse.yaml `people`, or any of their aliases.
    #[arg(value_name = "PERSON")]
    pub person: String,
    /// End their access at this instant (sets `contract_ends`, or moves it
    /// earlier) instead of removing them now; RFC 3339 with offset.
    #[arg(long, value_name = "T", value_parser = parse_now)]
    pub at: Option<DateTime<Utc>>,
    /// The branch to write (and push); rewritten on every run.
    /// Default: lapse/offboard-<person>.
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
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
    /// Print what would change; write no branch, push nothing, call no API.
    #[arg(long)]
    pub dry_run: bool,
    /// How to print the result.
    #[arg(long, value_enum, default_value_t = PruneFormat::Human)]
    pub format: PruneFormat,
}

/// What the run did, as printed.
#[derive(Debug, Serialize)]
struct OffboardReport {
    dry_run: bool,
    /// The person's key in `people`.
    person: String,
    /// `--at`, when given.
    at: Option<String>,
    /// Their `contract_ends` before, with `--at`.
    contract_was: Option<String>,
    base: BaseReport,
    branch: String,
    /// The places of lapse.yaml that change; empty when nothing does.
    policy_changes: Vec<String>,
    /// Grants removed (without `--at`).
    removed: Vec<GrantSummary>,
    /// Grants whose access now ends at `--at`, with their end before.
    cut_short: Vec<GrantSummary>,
    warnings: Vec<String>,
    #[serde(flatten)]
    delivery: DeliveryReport,
}

pub fn run(global: &GlobalArgs, args: &OffboardArgs) -> anyhow::Result<Outcome> {
    let BranchWork {
        root,
        repo,
        base,
        forge,
    } = branch_work(
        global,
        &DeliveryArgs {
            command: "offboard",
            base: args.base.as_deref(),
            push: args.push.as_deref(),
            open_pr: args.open_pr,
            dry_run: args.dry_run,
        },
    )?;
    let prefix = grants_prefix(&repo, &root)?.unwrap_or_default();
    let request = Request {
        person: args.person.clone(),
        at: args.at,
    };
    let known = |name: &str| known_in_work_tree(&root, name);
    let offboarding = offboard::plan(&repo, base, prefix, &request, global.now(), &known)?;
    let branch = args
        .branch
        .clone()
        .unwrap_or_else(|| Offboarding::default_branch(&offboarding.person));
    prune::check_branch_name(&branch)?;
    for warning in &offboarding.warnings {
        eprintln!("warning: {}", printable(warning));
    }
    let mut report = OffboardReport::planned(&offboarding, &branch, args.dry_run);
    if offboarding.changes_anything() && !args.dry_run {
        let change = BranchCommit {
            base: &offboarding.base,
            edit: offboarding.edit(),
            has_generated: offboarding.has_generated,
            message: message::commit_message(&offboarding),
        };
        let now = global.now();
        let regenerate =
            |candidate: &Candidate| prune::regenerate::generated_for(&repo, candidate, now);
        let delivery = Delivery {
            branch: &branch,
            push: args.push.as_deref(),
            forge: forge.as_deref(),
        };
        let words = |regenerated: bool| {
            (
                message::title(&offboarding),
                message::pull_request_body(&offboarding, regenerated),
            )
        };
        let delivered = deliver(&repo, &change, &delivery, Some(&regenerate), &words)?;
        report.delivery = DeliveryReport::of(delivered, offboarding.has_generated);
    }
    emit(args.format, &report)?;
    Ok(Outcome::Clean)
}

/// Whether the working tree's lapse.yaml knows `name`: only to say, when
/// the base does not, that the person exists but has not been merged.
fn known_in_work_tree(root: &Path, name: &str) -> bool {
    let mut sources = load::Sources::default();
    load::load_policy(root, &mut sources)
        .is_ok_and(|policy| Directory::new(&policy).person(name).is_some())
}

impl OffboardReport {
    fn planned(offboarding: &Offboarding, branch: &str, dry_run: bool) -> Self {
        Self {
            dry_run,
            person: offboarding.person.clone(),
            at: offboarding.at.as_ref().map(format_timestamp),
            contract_was: offboarding.contract_was.as_ref().map(format_timestamp),
            base: BaseReport::of(&offboarding.base),
            branch: branch.to_owned(),
            policy_changes: offboarding
                .policy
                .as_ref()
                .map(|edit| edit.changes.clone())
                .unwrap_or_default(),
            removed: message::summaries(&offboarding.removed),
            cut_short: message::summaries(&offboarding.cut_short),
            warnings: offboarding.warnings.clone(),
            delivery: DeliveryReport::default(),
        }
    }
}

fn emit(format: PruneFormat, report: &OffboardReport) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match format {
        PruneFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &crate::output::json::versioned(report))?;
            writeln!(stdout)?;
        }
        PruneFormat::Human => stdout.write_all(printable_lines(&human(report)).as_bytes())?,
    }
    stdout.flush()?;
    Ok(())
}

fn human(report: &OffboardReport) -> String {
    let base = report.base.human();
    let person = &report.person;
    let mut text = match (&report.at, report.policy_changes.is_empty()) {
        (Some(at), true) => {
            return format!(
                "The contract of {person} on {base} already ends at {}, no later than {at}: nothing to change; no branch written, nothing pushed, no pull request opened.\n",
                report.contract_was.as_deref().unwrap_or("?")
            );
        }
        (Some(at), false) => format!(
            "Ending the access of {person} at {at} (contract_ends was {}) on {base}:\n",
            report.contract_was.as_deref().unwrap_or("not set")
        ),
        (None, _) => format!("Offboarding {person} from {base}:\n"),
    };
    text.push_str(&format!(
        "  lapse.yaml: {}\n",
        report.policy_changes.join(", ")
    ));
    let grants = match report.at {
        Some(_) => &report.cut_short,
        None => &report.removed,
    };
    let what = match (report.at.is_some(), grants.len()) {
        (false, 0) => "  no grant removed\n".to_owned(),
        (false, 1) => "  1 grant removed:\n".to_owned(),
        (false, n) => format!("  {n} grants removed:\n"),
        (true, 0) => "  no grant ends earlier\n".to_owned(),
        (true, 1) => {
            "  1 grant now ends with the contract (shown with its end before):\n".to_owned()
        }
        (true, n) => {
            format!("  {n} grants now end with the contract (shown with their end before):\n")
        }
    };
    text.push_str(&what);
    text.push_str(&text_rows(grants));
    if report.dry_run {
        text.push_str("Dry run: no branch written, nothing pushed, no pull request opened.\n");
        return text;
    }
    text.push_str(&report.delivery.human(&report.branch));
    text
}
