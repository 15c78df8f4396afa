//! `lapse check`: validate the policy and every grant.

use std::io::Write;
use std::path::Path;

use clap::Args;

use crate::cli::GlobalArgs;
use crate::diagnostic::sort_diagnostics;
use crate::history::{self, GrantRepository};
use crate::load::{self, LoadError, POLICY_FILE};
use crate::output::{self, Format, Report};
use crate::rules::{self, CheckContext, Scope};

use super::{Outcome, repository_root, use_colour};

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
    let workspace = match load::load_workspace(&root) {
        Ok(workspace) => workspace,
        Err(error @ LoadError::InvalidPolicy(_)) => {
            return report_broken_policy(&root, args.format, error);
        }
        Err(error) => return Err(error.into()),
    };
    let mut context = CheckContext::new(&workspace.policy, global.now());
    read_history(&root, args.base.as_deref(), &mut context)?;
    let mut diagnostics = workspace.findings.clone();
    diagnostics.extend(rules::check_all(
        &workspace.grants,
        Path::new(POLICY_FILE),
        &context,
    ));
    sort_diagnostics(&mut diagnostics);
    let report = Report {
        diagnostics: &diagnostics,
        sources: &workspace.sources,
    };
    emit(args.format, &report)?;
    Ok(if diagnostics.iter().any(|d| d.is_error()) {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// What the git history decides: with `--base`, which grants the change
/// touches and their commits in it; without, every grant's whole history.
/// Outside a git repository the audit judges the files alone, as there is
/// no history to judge; `--base` there is an error, never a silent pass.
fn read_history(root: &Path, base: Option<&str>, context: &mut CheckContext) -> anyhow::Result<()> {
    let repository = match base {
        Some(_) => GrantRepository::open(root, "`lapse check --base`")?,
        None => match GrantRepository::discover(root) {
            Some(repository) => repository,
            None => return Ok(()),
        },
    };
    let grants = match base {
        Some(rev) => {
            let change = history::change_history(&repository, rev, &context.directory)?;
            context.scope = Scope::Change(change.changed);
            change.grants
        }
        None => history::audit_history(&repository, &context.directory)?,
    };
    context.added_at = grants
        .iter()
        .filter_map(|(id, history)| Some((id.clone(), history.added.as_ref()?.time)))
        .collect();
    context.history = grants;
    Ok(())
}

/// A broken policy is shown like any finding, then ends the run with exit 2.
fn report_broken_policy(root: &Path, format: Format, error: LoadError) -> anyhow::Result<Outcome> {
    let mut sources = load::Sources::default();
    if let Ok(text) = std::fs::read_to_string(root.join(POLICY_FILE)) {
        sources.insert(POLICY_FILE.into(), text);
    }
    let report = Report {
        diagnostics: error.findings(),
        sources: &sources,
    };
    emit(format, &report)?;
    Err(error.into())
}

fn emit(format: Format, report: &Report) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    output::write_report(format, report, &mut stdout, use_colour())?;
    stdout.flush()?;
    Ok(())
}
