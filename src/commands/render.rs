//! `lapse render`: not built yet; see the open issue.

use clap::Args;

use crate::cli::GlobalArgs;

use super::Outcome;

#[derive(Debug, Args)]
pub struct RenderArgs {}

pub fn run(_global: &GlobalArgs, _args: &RenderArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("lapse render is not built yet")
}
