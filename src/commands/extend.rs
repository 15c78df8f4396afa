//! `lapse extend GRANT --for DUR | --until T`: a new request file next to
//! the grant that starts when the grant's access ends, with no approvers
//! yet. The approved grant is not touched, so its approval stays valid and
//! access runs on without a gap once the extension is approved.

use std::path::Path;

use anyhow::{Context, ensure};
use chrono::{DateTime, Utc};
use clap::Args;

use crate::cli::{GlobalArgs, parse_now};
use crate::load::{self, grant::MAX_GRANT_ID_LENGTH};
use crate::model::timestamp::format_timestamp;
use crate::model::{Grant, GrantDuration};
use crate::output::terminal::printable;
use crate::request::{Extension, Length, extension_id};

use super::new::{approvals_wanted, refuse_findings, taken_ids, write_new_file};
use super::{Outcome, repository_root};

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("length").required(true).args(["duration", "until"]))]
pub struct ExtendArgs {
    /// The grant to extend: its id (the file stem) or its path.
    #[arg(value_name = "GRANT")]
    pub grant: String,
    /// How long the extension lasts from the grant's end: 90m, 4h, 14d, 2w.
    #[arg(long = "for", value_name = "DUR")]
    pub duration: Option<GrantDuration>,
    /// When the extension ends, RFC 3339 with offset.
    #[arg(long, value_name = "T", value_parser = parse_now)]
    pub until: Option<DateTime<Utc>>,
    /// Why the access is needed for longer (default: the grant's reason).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

pub fn run(global: &GlobalArgs, args: &ExtendArgs) -> anyhow::Result<Outcome> {
    let root = repository_root(global.repo())?;
    let workspace = load::load_workspace(&root)?;
    let now = global.now();
    let grant = find(&workspace.grants, &args.grant)?;
    let length = match (args.duration, args.until) {
        (Some(duration), _) => Length::For(duration),
        (None, Some(until)) => Length::Until(until),
        (None, None) => anyhow::bail!("pass --for DUR or --until T"),
    };
    let extension = Extension::of(
        grant,
        &workspace.grants,
        &workspace.policy,
        length,
        args.reason.clone(),
        now,
    )?;
    let taken = taken_ids(&workspace);
    let id = extension_id(&grant.id, |id| taken.contains(id));
    ensure!(
        id.len() <= MAX_GRANT_ID_LENGTH,
        "no free id for the extension of `{}`",
        grant.id
    );
    let path = grant
        .path
        .parent()
        .unwrap_or(Path::new(load::GRANTS_DIR))
        .join(format!("{id}.yaml"));
    let text = extension.to_yaml(&grant.id)?;
    let written = load::parse_grant(&path, &text).map_err(|finding| {
        anyhow::anyhow!(
            "lapse extend made a file it cannot read back: {}",
            finding.one_line()
        )
    })?;
    refuse_findings(&workspace, written, now)
        .with_context(|| format!("the extension of `{}`", grant.id))?;
    write_new_file(&root, &path, &text)?;
    let wrote = format!(
        "wrote {} (starts {}, when `{}` ends; expires {}); commit it and open a pull request for approval{}",
        path.display(),
        format_timestamp(&extension.starts),
        grant.id,
        format_timestamp(&extension.expires),
        approvals_wanted(&workspace, &grant.file.role)
    );
    println!("{}", printable(&wrote));
    Ok(Outcome::Clean)
}

/// The grant named by its id or its path (relative to the repository root).
fn find<'g>(grants: &'g [Grant], name: &str) -> anyhow::Result<&'g Grant> {
    grants
        .iter()
        .find(|grant| grant.id == name || grant.path == Path::new(name))
        .with_context(|| {
            format!(
                "there is no grant `{name}` under {}/ that loads; name it by its id (the file stem) or its path, and fix it first if `lapse check` reports it",
                load::GRANTS_DIR
            )
        })
}
