//! `lapse check`: validate the policy and every grant.

use std::io::Write;
use std::path::Path;
use std::sync::mpsc;

use clap::Args;

use crate::cli::GlobalArgs;
use crate::diagnostic::sort_diagnostics;
use crate::history::{self, ChangeHistory, GrantRepository, KnownVersions};
use crate::load::{self, LoadError, POLICY_FILE};
use crate::model::{Directory, Grant};
use crate::output::{self, Format, Report};
use crate::rules::{self, CheckContext, Scope};

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
    let policy = match load::load_policy(&root, &mut sources) {
        Ok(policy) => policy,
        Err(error @ LoadError::InvalidPolicy(_)) => {
            return report_broken_policy(&sources, args.format, use_colour(global.color), error);
        }
        Err(error) => return Err(error.into()),
    };
    let directory = Directory::new(&policy);
    // The history walk starts by listing commits while the grant files are
    // read; then the files' versions go to the walk, which need not read
    // and parse them from git again.
    let (known_sender, known) = mpsc::channel();
    let ((grants, mut diagnostics), history) = std::thread::scope(|scope| {
        let history = scope.spawn(|| {
            let known = move || known.recv().unwrap_or_default();
            read_history(&root, args.base.as_deref(), &directory, known)
        });
        let loaded = load::load_grants(&root, &mut sources);
        // Only the audit walks far enough back to use them. The walk may
        // have ended already (no repository, an error), and then nobody is
        // waiting for the versions.
        if args.base.is_none() {
            let _ = known_sender.send(versions_on_disk(&loaded.0, &sources));
        }
        (loaded, history.join())
    });
    let history = history.map_err(|_| anyhow::anyhow!("reading the git history failed"))??;
    let mut context = CheckContext::new(&policy, global.now());
    if let Some(history) = history {
        context.added_at = history
            .grants
            .iter()
            .filter_map(|(id, grant)| Some((id.clone(), grant.added.as_ref()?.time)))
            .collect();
        if let Some(change) = history.change {
            let policy = sources.get(Path::new(POLICY_FILE)).unwrap_or_default();
            context.scope = Scope::Change {
                policy_edited: change.edits_policy(policy),
                grants: change.grants,
            };
        }
        context.history = history.grants;
    }
    diagnostics.extend(rules::check_all(&grants, Path::new(POLICY_FILE), &context));
    sort_diagnostics(&mut diagnostics);
    let report = Report {
        diagnostics: &diagnostics,
        sources: &sources,
    };
    // Quiet: a clean human report says nothing.
    if !(global.quiet && args.format == Format::Human && diagnostics.is_empty()) {
        emit(args.format, &report, use_colour(global.color))?;
    }
    let outcome = if diagnostics.iter().any(|d| d.is_error()) {
        Outcome::Findings
    } else {
        Outcome::Clean
    };
    free_at_exit((grants, sources, diagnostics, context));
    Ok(outcome)
}

/// What the git history decides: with `--base`, which grants the change
/// touches and their commits in it; without, every grant's whole history.
/// Outside a git repository the audit judges the files alone, as there is
/// no history to judge; `--base` there is an error, never a silent pass.
fn read_history(
    root: &Path,
    base: Option<&str>,
    directory: &Directory,
    known: impl FnOnce() -> KnownVersions,
) -> anyhow::Result<Option<ChangeHistory>> {
    let repository = match base {
        Some(_) => GrantRepository::open(root, "`lapse check --base`")?,
        None => match GrantRepository::discover(root)? {
            Some(repository) => repository,
            None => return Ok(None),
        },
    };
    let history = match base {
        Some(rev) => history::change_history(&repository, rev, directory),
        None => history::audit_history(&repository, directory, known).map(|grants| ChangeHistory {
            change: None,
            grants,
        }),
    };
    Ok(Some(
        history.map_err(|error| repository.explain_missing(error))?,
    ))
}

/// The grants as read from disk, for the history walk.
fn versions_on_disk(grants: &[Grant], sources: &load::Sources) -> KnownVersions {
    let files = grants
        .iter()
        .filter_map(|grant| Some((sources.get(&grant.path)?, &grant.file)));
    history::known_versions(files)
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
