//! `lapse new`: not built yet; see the open issue.

use clap::Args;

use crate::cli::GlobalArgs;

use super::Outcome;

#[derive(Debug, Args)]
pub struct NewArgs {}

pub fn run(_global: &GlobalArgs, _args: &NewArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("lapse new is not built yet")
}
