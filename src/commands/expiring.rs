//! `lapse expiring`: not built yet; see the open issue.

use clap::Args;

use crate::cli::GlobalArgs;

use super::Outcome;

#[derive(Debug, Args)]
pub struct ExpiringArgs {}

pub fn run(_global: &GlobalArgs, _args: &ExpiringArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("lapse expiring is not built yet")
}
