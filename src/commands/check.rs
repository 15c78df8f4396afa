//! `lapse check`: validate the policy and every grant.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};

use clap::Args;
use git2::Oid;

use crate::cli::GlobalArgs;
use crate::diagnostic::sort_diagnostics;
use crate::history::{self, ChangeHistory, GrantRepository, HistoryInputs, KnownVersions};
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
            return report_broken_policy(&sources, args.format, error);
        }
        Err(error) => return Err(error.into()),
    };
    let directory = Directory::new(&policy);
    // The history walk starts by listing commits while the grant files are
    // read; then the files' versions go to the walk, which need not read
    // and parse them from git again.
    let (known_sender, known) = mpsc::channel();
    let ((grants, mut diagnostics), disk_blobs, history) = std::thread::scope(|scope| {
        let history = scope.spawn(|| {
            let known = move || known.recv().unwrap_or_default();
            let inputs = HistoryInputs {
                directory: &directory,
                now: global.now(),
                evidence: policy.approvals.evidence.value,
            };
            read_history(&root, args.base.as_deref(), &inputs, known)
        });
        let loaded = load::load_grants(&root, &mut sources);
        let disk_blobs = blob_ids(&loaded.0, &sources);
        // Only the audit walks far enough back to use them. The walk may
        // have ended already (no repository, an error), and then nobody is
        // waiting for the versions.
        if args.base.is_none() {
            let _ = known_sender.send(known_versions(&loaded.0, &disk_blobs));
        }
        (loaded, disk_blobs, history.join())
    });
    let history = history.map_err(|_| anyhow::anyhow!("reading the git history failed"))??;
    let mut context = CheckContext::new(&policy, global.now());
    if let Some(history) = history {
        let policy_text = sources.get(Path::new(POLICY_FILE)).unwrap_or_default();
        apply_history(&mut context, history, &grants, &disk_blobs, policy_text);
    }
    diagnostics.extend(rules::check_all(&grants, Path::new(POLICY_FILE), &context));
    sort_diagnostics(&mut diagnostics);
    let report = Report {
        diagnostics: &diagnostics,
        sources: &sources,
    };
    emit(args.format, &report)?;
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
    inputs: &HistoryInputs,
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
        Some(rev) => history::change_history(&repository, rev, inputs),
        None => history::audit_history(&repository, inputs, known),
    };
    Ok(Some(
        history.map_err(|error| repository.explain_missing(error))?,
    ))
}

/// The blob id of each grant file as read from disk, by path: what ties a
/// file to its committed versions.
fn blob_ids(grants: &[Grant], sources: &load::Sources) -> HashMap<PathBuf, Oid> {
    grants
        .iter()
        .filter_map(|grant| {
            Some((
                grant.path.clone(),
                history::blob_id(sources.get(&grant.path)?),
            ))
        })
        .collect()
}

/// The grants as read from disk, for the history walk.
fn known_versions(grants: &[Grant], blobs: &HashMap<PathBuf, Oid>) -> KnownVersions {
    grants
        .iter()
        .filter_map(|grant| Some((*blobs.get(&grant.path)?, Arc::new(grant.file.clone()))))
        .collect()
}

/// What the history decided, as the rules read it: each grant's history,
/// the change under review, and which files on disk are not what HEAD
/// commits (their history is not theirs to judge).
fn apply_history(
    context: &mut CheckContext,
    history: ChangeHistory,
    grants: &[Grant],
    disk_blobs: &HashMap<PathBuf, Oid>,
    policy_text: &str,
) {
    context.added_at = history
        .grants
        .iter()
        .filter_map(|(path, grant)| Some((path.clone(), grant.added.as_ref()?.time)))
        .collect();
    if let Some(change) = history.change {
        context.scope = Scope::Change {
            policy_edited: change.edits_policy(policy_text),
            grants: change.grants,
        };
    }
    context.uncommitted = grants
        .iter()
        .filter(|grant| {
            let on_disk = disk_blobs.get(&grant.path);
            on_disk.is_none() || on_disk != history.committed.get(&grant.path)
        })
        .map(|grant| grant.path.clone())
        .collect();
    context.history = history.grants;
    context.authorities = history.authorities;
    context.signatures = history.signatures;
    context.policy_blob = Some(history::blob_id(policy_text));
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
