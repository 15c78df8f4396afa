//! `lapse prune`: not built yet; see the open issue.

use clap::Args;

use crate::cli::GlobalArgs;

use super::Outcome;

#[derive(Debug, Args)]
pub struct PruneArgs {}

pub fn run(_global: &GlobalArgs, _args: &PruneArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("lapse prune is not built yet")
}
