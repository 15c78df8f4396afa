//! `lapse new`: write the grant file for a request, ready to commit. The
//! file is read back and judged by the same rules as `lapse check` before
//! it is written, so what lands in a pull request only lacks approvals.

use std::collections::{BTreeSet, HashSet};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail, ensure};
use chrono::{DateTime, Utc};
use clap::Args;

use crate::cli::{GlobalArgs, parse_now};
use crate::diagnostic::Diagnostic;
use crate::load::grant::grant_id_of;
use crate::load::{self, GRANTS_DIR, POLICY_FILE, Workspace};
use crate::model::timestamp::format_timestamp;
use crate::model::{Grant, GrantDuration};
use crate::output::terminal::printable;
use crate::render::output_dir::create_dirs;
use crate::request::{GrantRequest, slugify};
use crate::rules::approvals::INSUFFICIENT_APPROVALS;
use crate::rules::{self, CheckContext, Scope};

use super::{Outcome, repository_root};

#[derive(Debug, Args)]
pub struct NewArgs {
    /// Who gets access: a person from lapse.yaml (any alias), or group:<name>.
    #[arg(long, value_name = "S")]
    pub subject: String,
    /// The role from the catalog in lapse.yaml.
    #[arg(long, value_name = "R")]
    pub role: String,
    /// How long the access lasts, from --starts or now: 90m, 4h, 14d, 2w.
    #[arg(long = "for", value_name = "DUR")]
    pub duration: GrantDuration,
    /// Why the access is needed.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Change or incident ticket.
    #[arg(long, value_name = "T")]
    pub ticket: Option<String>,
    /// An approval already given (repeatable); approvals usually come in review.
    #[arg(long = "approver", value_name = "A")]
    pub approvers: Vec<String>,
    /// Emergency access on a role with `break_glass`: merged before it is
    /// approved, for at most the break-glass `max_duration`, reviewed after.
    #[arg(long, conflicts_with = "approvers")]
    pub break_glass: bool,
    /// When the access begins, RFC 3339 with offset (default: now, no `starts` field).
    #[arg(long, value_name = "T", value_parser = parse_now)]
    pub starts: Option<DateTime<Utc>>,
    /// The grant id (default: <subject's local part>-<role>, with a number if taken).
    #[arg(long, conflicts_with = "out")]
    pub id: Option<String>,
    /// The folder under grants/ to write into, for example the team's name.
    #[arg(long, value_name = "NAME", conflicts_with = "out")]
    pub team: Option<String>,
    /// The file to write, relative to the repository root, under grants/;
    /// its stem is the grant id.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

pub fn run(global: &GlobalArgs, args: &NewArgs) -> anyhow::Result<Outcome> {
    let root = repository_root(global.repo())?;
    let workspace = load::load_workspace(&root)?;
    let now = global.now();
    let request = GrantRequest {
        subject: args.subject.clone(),
        role: args.role.clone(),
        duration: args.duration,
        reason: args.reason.clone(),
        ticket: args.ticket.clone(),
        approvers: args.approvers.clone(),
        starts: args.starts,
        until: None,
    }
    .resolve(&workspace.policy)?;
    let path = destination(&root, &workspace, args, &request)?;
    let glass = match args.break_glass {
        true => Some(request.break_glass(&workspace.policy)?),
        false => None,
    };
    let text = match glass {
        Some(_) => request.to_break_glass_yaml(now)?,
        None => request.to_yaml(now)?,
    };
    let grant = load::parse_grant(&path, &text).map_err(|finding| {
        anyhow::anyhow!(
            "lapse new made a file it cannot read back: {}",
            finding.one_line()
        )
    })?;
    refuse_findings(&workspace, grant, now)?;
    write_new_file(&root, &path, &text)?;
    let wrote = match glass {
        Some(glass) => format!(
            "wrote {} (expires {}); BREAK-GLASS: it may be merged before it is approved, and must be reviewed within {} of the merge{}",
            path.display(),
            format_timestamp(&request.expires(now)),
            glass.review_within,
            approvals_wanted(&workspace, &request.role)
        ),
        None => format!(
            "wrote {} (expires {}); commit it and open a pull request for approval{}",
            path.display(),
            format_timestamp(&request.expires(now)),
            approvals_wanted(&workspace, &request.role)
        ),
    };
    println!("{}", printable(&wrote));
    Ok(Outcome::Clean)
}

/// Who the pull request should ask, from the role in the catalog.
pub(super) fn approvals_wanted(workspace: &Workspace, role: &str) -> String {
    match workspace.policy.role(role) {
        Some(role) if !role.approvers.is_empty() => format!(
            " by {} of: {}",
            role.min_approvals,
            role.approvers
                .iter()
                .map(|approver| approver.value.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => String::new(),
    }
}

/// The path to write, relative to the repository root. An id chosen by
/// the user must be free; the default one gets a number until it is.
fn destination(
    root: &Path,
    workspace: &Workspace,
    args: &NewArgs,
    request: &GrantRequest,
) -> anyhow::Result<PathBuf> {
    let taken = taken_ids(workspace);
    let path = match (&args.out, &args.id) {
        (Some(out), _) => explicit_destination(root, out)?,
        (None, Some(id)) => {
            ensure!(
                load::is_valid_grant_id(id),
                "--id {id:?} is not a valid grant id: lower-case letters, digits and dashes, starting with a letter or digit"
            );
            grants_dir(args.team.as_deref())?.join(format!("{id}.yaml"))
        }
        (None, None) => {
            let id = free_id(&request.default_id(), &taken);
            return Ok(grants_dir(args.team.as_deref())?.join(format!("{id}.yaml")));
        }
    };
    let id = grant_id_of(&path).map_err(|finding| anyhow::anyhow!("{}", finding.message))?;
    ensure!(
        !taken.contains(&id),
        "grant id `{id}` is already used in this repository; choose another id"
    );
    Ok(path)
}

/// `grants/`, or `grants/<team>/`.
fn grants_dir(team: Option<&str>) -> anyhow::Result<PathBuf> {
    let mut dir = PathBuf::from(GRANTS_DIR);
    if let Some(team) = team {
        ensure!(
            !team.is_empty() && slugify(team) == team,
            "--team {team:?}: a folder name is lower-case letters, digits and dashes, such as {:?}",
            slugify(team)
        );
        dir.push(team);
    }
    Ok(dir)
}

/// `--out`: inside `grants/`, no `..`, a `.yaml` or `.yml` file (the two
/// the loader reads) named by a valid id.
fn explicit_destination(root: &Path, out: &Path) -> anyhow::Result<PathBuf> {
    let relative = if out.is_absolute() {
        relative_to_root(root, out).with_context(|| {
            format!(
                "--out {} is outside the repository {}; name a file under its {GRANTS_DIR}/ folder",
                out.display(),
                root.display()
            )
        })?
    } else {
        out.to_path_buf()
    };
    // `./grants/x.yaml` is `grants/x.yaml`.
    let relative: PathBuf = relative
        .components()
        .filter(|component| !matches!(component, Component::CurDir))
        .collect();
    let inside_grants = relative.starts_with(GRANTS_DIR)
        && relative
            .components()
            .all(|component| matches!(component, Component::Normal(_)));
    ensure!(
        inside_grants && load::tree::is_grant_file_name(&relative),
        "--out {}: a grant file is a .yaml or .yml file under {GRANTS_DIR}/ (relative to the repository root)",
        out.display()
    );
    Ok(relative)
}

/// An absolute `--out` as a path from the repository root, which may be
/// given relative (`--repo .`) or through a symbolic link (`/tmp` on
/// macOS), so it is compared as given and as resolved.
fn relative_to_root(root: &Path, out: &Path) -> Option<PathBuf> {
    let resolved = root.canonicalize().ok();
    [std::path::absolute(root).ok(), resolved]
        .into_iter()
        .flatten()
        .find_map(|root| out.strip_prefix(root).ok().map(Path::to_path_buf))
}

/// Ids in use, including those of files that failed to load: their ids are
/// still taken once the files are fixed.
pub(super) fn taken_ids(workspace: &Workspace) -> HashSet<String> {
    let loaded = workspace.grants.iter().map(|grant| grant.id.clone());
    let unreadable = workspace.findings.iter().filter_map(|finding| {
        finding
            .file
            .file_stem()
            .and_then(|stem| stem.to_str())
            .map(str::to_owned)
    });
    loaded.chain(unreadable).collect()
}

fn free_id(base: &str, taken: &HashSet<String>) -> String {
    std::iter::once(base.to_owned())
        .chain((2..).map(|n| format!("{base}-{n}")))
        .find(|id| !taken.contains(id))
        .unwrap_or_else(|| base.to_owned())
}

/// Judges the new grant with every rule as part of a change, next to the
/// grants already there (an overlapping grant is a `duplicate-grant`).
/// Missing approvals are expected: they come in review.
pub(super) fn refuse_findings(
    workspace: &Workspace,
    grant: Grant,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut context = CheckContext::new(&workspace.policy, now);
    context.scope = Scope::Change {
        grants: HashSet::from([grant.path.clone()]),
        policy_edited: false,
    };
    let path = grant.path.clone();
    let mut grants = workspace.grants.clone();
    grants.push(grant);
    let problems: BTreeSet<String> = rules::check_all(&grants, Path::new(POLICY_FILE), &context)
        .iter()
        .filter(|finding| finding.file == path && finding.is_error())
        .filter(|finding| finding.rule != INSUFFICIENT_APPROVALS.id)
        .map(describe)
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    bail!(
        "the grant would not pass `lapse check`, nothing was written:\n{}",
        problems.into_iter().collect::<Vec<_>>().join("\n")
    )
}

fn describe(finding: &Diagnostic) -> String {
    format!("  {}: {} ({})", finding.rule, finding.message, finding.help)
}

/// Creates the file at `relative` (under `grants/`), failing if it exists:
/// a grant is never overwritten, even by a file that appeared since the
/// repository was read. No folder on the way may be a symbolic link.
pub(super) fn write_new_file(root: &Path, relative: &Path, text: &str) -> anyhow::Result<()> {
    let path = root.join(relative);
    if let Some(parent) = path.parent() {
        create_dirs(&root.join(GRANTS_DIR), parent)?;
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| {
            format!(
                "cannot create {}; lapse new never overwrites a grant file",
                path.display()
            )
        })?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}
