//! `lapse check`: validate the policy and every grant.

use std::io::Write;
use std::path::Path;

use clap::Args;

use crate::cli::GlobalArgs;
use crate::diagnostic::sort_diagnostics;
use crate::history::{self, ChangeHistory, GrantRepository};
use crate::load::{self, LoadError, POLICY_FILE};
use crate::model::Directory;
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
    let mut sources = load::Sources::default();
    let policy = match load::load_policy(&root, &mut sources) {
        Ok(policy) => policy,
        Err(error @ LoadError::InvalidPolicy(_)) => {
            return report_broken_policy(&sources, args.format, error);
        }
        Err(error) => return Err(error.into()),
    };
    let directory = Directory::new(&policy);
    // Reading the grant files and reading the history are independent, so
    // they run side by side: on a two-core CI runner the history walk then
    // costs little more than the files alone.
    let ((grants, mut diagnostics), history) = std::thread::scope(|scope| {
        let history = scope.spawn(|| read_history(&root, args.base.as_deref(), &directory));
        (load::load_grants(&root, &mut sources), history.join())
    });
    let history = history.map_err(|_| anyhow::anyhow!("reading the git history failed"))??;
    let mut context = CheckContext::new(&policy, global.now());
    if let Some(history) = history {
        context.added_at = history
            .grants
            .iter()
            .filter_map(|(id, grant)| Some((id.clone(), grant.added.as_ref()?.time)))
            .collect();
        if let Some(changed) = history.changed {
            context.scope = Scope::Change(changed);
        }
        context.history = history.grants;
    }
    diagnostics.extend(rules::check_all(&grants, Path::new(POLICY_FILE), &context));
    sort_diagnostics(&mut diagnostics);
    let report = Report {
        diagnostics: &diagnostics,
        sources: &sources,
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
fn read_history(
    root: &Path,
    base: Option<&str>,
    directory: &Directory,
) -> anyhow::Result<Option<ChangeHistory>> {
    let repository = match base {
        Some(_) => GrantRepository::open(root, "`lapse check --base`")?,
        None => match GrantRepository::discover(root) {
            Some(repository) => repository,
            None => return Ok(None),
        },
    };
    Ok(Some(match base {
        Some(rev) => history::change_history(&repository, rev, directory)?,
        None => ChangeHistory {
            changed: None,
            grants: history::audit_history(&repository, directory)?,
        },
    }))
}

/// A broken policy is shown like any finding, then ends the run with exit 2.
fn report_broken_policy(
    sources: &load::Sources,
    format: Format,
    error: LoadError,
) -> anyhow::Result<Outcome> {
    let report = Report {
        diagnostics: error.findings(),
        sources,
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
