//! `lapse check`: validate the policy and every grant.

use std::io::Write;

use clap::Args;

use crate::cli::GlobalArgs;
use crate::load::{self, LoadError};
use crate::output::{self, Format, Report};
use crate::verdict::{self, VerdictError};

use super::{Outcome, free_at_exit, repository_root, use_colour};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Judge only grants changed in REV..HEAD as a change (pull-request mode).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn run(global: &GlobalArgs, args: &CheckArgs) -> anyhow::Result<Outcome> {
    let root = repository_root(global.repo())?;
    let mut sources = load::Sources::default();
    let verdict = match verdict::judge(&root, global.now(), args.base.as_deref(), &mut sources) {
        Ok(verdict) => verdict,
        Err(VerdictError::Load(error @ LoadError::InvalidPolicy(_))) => {
            return report_broken_policy(&sources, args.format, use_colour(global.color), error);
        }
        Err(error) => return Err(error.into()),
    };
    let report = Report {
        diagnostics: &verdict.diagnostics,
        sources: &sources,
    };
    // Quiet: a clean human report says nothing.
    if !(global.quiet && args.format == Format::Human && verdict.diagnostics.is_empty()) {
        emit(args.format, &report, use_colour(global.color))?;
    }
    let outcome = if verdict.has_errors() {
        Outcome::Findings
    } else {
        Outcome::Clean
    };
    free_at_exit((verdict, sources));
    Ok(outcome)
}

/// A broken policy is shown like any finding, then ends the run with exit 2.
fn report_broken_policy(
    sources: &load::Sources,
    format: Format,
    colour: bool,
    error: LoadError,
) -> anyhow::Result<Outcome> {
    let report = Report {
        diagnostics: error.findings(),
        sources,
    };
    emit(format, &report, colour)?;
    Err(error.into())
}

fn emit(format: Format, report: &Report, colour: bool) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    output::write_report(format, report, &mut stdout, colour)?;
    stdout.flush()?;
    Ok(())
}
