//! `lapse who`: not built yet; see the open issue.

use clap::Args;

use crate::cli::GlobalArgs;

use super::Outcome;

#[derive(Debug, Args)]
pub struct WhoArgs {}

pub fn run(_global: &GlobalArgs, _args: &WhoArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("lapse who is not built yet")
}
