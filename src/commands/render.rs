//! `lapse render`: Terraform for the grants active at `--now`, written to
//! the output directory or, with `--check`, compared with it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use crate::cli::GlobalArgs;
use crate::load;
use crate::output::terminal::printable;
use crate::render::output_dir::{self, Drift};
use crate::render::{self, RenderOptions, SplitBy, TemplateSet, revocation};
use crate::verdict::{self, Withheld};

use super::{Outcome, repository_root};

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Output directory, relative to the repository root.
    #[arg(long, value_name = "DIR", default_value = "generated")]
    pub out: PathBuf,
    /// Write nothing; exit 1 naming the files that differ from a fresh render.
    #[arg(long)]
    pub check: bool,
    /// One Terraform root module per group: `team` is the first directory
    /// under grants/ (out/<team>/), `target` the grant's target
    /// (out/aws/, out/github/, ...). Default: `render.split_by` in lapse.yaml.
    #[arg(long, value_enum, value_name = "GROUPING")]
    pub split_by: Option<SplitBy>,
}

pub fn run(global: &GlobalArgs, args: &RenderArgs) -> anyhow::Result<Outcome> {
    let root = repository_root(global.repo())?;
    let mut sources = load::Sources::default();
    let verdict = verdict::judge(&root, global.now(), None, &mut sources, None)?;
    if let Some(finding) = verdict.unapproved_policy() {
        anyhow::bail!(
            "{}; nothing was rendered: the policy in force is not approved by its owners, and it decides what every grant provisions",
            finding.one_line()
        );
    }
    let withheld = verdict.withheld();
    report_withheld(&withheld)?;
    let out_dir = output_dir::resolve_out_dir(&root, &args.out)?;
    let templates = TemplateSet::for_repository(&root)?;
    let options = RenderOptions {
        out_dir: out_dir.clone(),
        split_by: args.split_by.or(verdict.policy.render.split_by),
    };
    let provisioned = verdict.provisioned(&withheld);
    let files = render::render_files(
        &verdict.policy,
        &provisioned,
        global.now(),
        &templates,
        &options,
    )?;
    // Left out for a failing check: the rest is rendered (revocations
    // included), and the run still fails so that someone looks.
    let failing = withheld
        .values()
        .any(|why| matches!(why, Withheld::Failing(_)));
    let out = root.join(&out_dir);
    let mut stdout = std::io::stdout().lock();
    if args.check {
        let drift = output_dir::drift(&out, &files)?;
        report(
            &mut stdout,
            &out_dir,
            &drift,
            "differs from a fresh render",
            CHECK_LABELS,
        )?;
        if drift.is_empty() {
            if !global.quiet {
                writeln!(stdout, "{} is up to date", out_dir.display())?;
            }
            return Ok(outcome(failing));
        }
        writeln!(stdout, "run `lapse render` to update it")?;
        return Ok(Outcome::Findings);
    }
    let changes = output_dir::write(&out, &files)
        .with_context(|| format!("cannot update {}", out_dir.display()))?;
    report(&mut stdout, &out_dir, &changes, "updated", WRITE_LABELS)?;
    // -q: what changed and what was left out only.
    if !global.quiet {
        writeln!(
            stdout,
            "{} files in {}",
            files.len(),
            display_dir(&out_dir).display()
        )?;
        report_revocation(&mut stdout, &verdict.policy)?;
    }
    Ok(outcome(failing))
}

fn outcome(failing: bool) -> Outcome {
    if failing {
        Outcome::Findings
    } else {
        Outcome::Clean
    }
}

/// One line on stderr per grant left out, with why: the apply job's log
/// must say which access was not provisioned.
fn report_withheld(withheld: &BTreeMap<PathBuf, Withheld>) -> anyhow::Result<()> {
    let mut stderr = std::io::stderr().lock();
    for (path, why) in withheld {
        let path = path.display().to_string();
        let path = printable(&path);
        match why {
            Withheld::Failing(rules) => writeln!(
                stderr,
                "left out {path}: {} (run `lapse check` for the findings)",
                rules.join(", ")
            )?,
            Withheld::Orphaned => writeln!(
                stderr,
                "left out {path}: orphaned-grant (its subject is no longer in lapse.yaml; `lapse prune` removes it)"
            )?,
        }
    }
    Ok(())
}

/// How long access can outlive expiry at each target, so that whoever
/// schedules the applies sees what the schedule bounds.
fn report_revocation(out: &mut impl Write, policy: &crate::model::Policy) -> anyhow::Result<()> {
    let lags = revocation::revocation_lags(policy);
    if lags.is_empty() {
        return Ok(());
    }
    writeln!(out, "worst-case revocation lag after expiry, per target:")?;
    for lag in lags {
        match lag.lag {
            None => writeln!(out, "  {:<11} none: {}", lag.target, lag.by)?,
            Some(interval) => writeln!(
                out,
                "  {:<11} up to {interval} plus the apply's run time: only the next apply revokes ({}; render.apply_interval is {interval})",
                lag.target, lag.by
            )?,
        }
    }
    Ok(())
}

/// How each kind of difference reads: before a write (`--check`) and after.
const CHECK_LABELS: [&str; 3] = ["missing", "extra", "changed"];
const WRITE_LABELS: [&str; 3] = ["created", "deleted", "updated"];

/// One line per file that differs, labelled by kind.
fn report(
    out: &mut impl Write,
    dir: &Path,
    drift: &Drift,
    what: &str,
    labels: [&str; 3],
) -> anyhow::Result<()> {
    if drift.is_empty() {
        return Ok(());
    }
    writeln!(out, "{} {what}:", display_dir(dir).display())?;
    let kinds = [&drift.missing, &drift.extra, &drift.changed];
    for (kind, paths) in labels.into_iter().zip(kinds) {
        for path in paths {
            let path = dir.join(path).display().to_string();
            writeln!(out, "  {kind:<8}{}", printable(&path))?;
        }
    }
    Ok(())
}

fn display_dir(dir: &Path) -> &Path {
    if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }
}
