//! `lapse schema`: not built yet; see the open issue.

use clap::Args;

use crate::cli::GlobalArgs;

use super::Outcome;

#[derive(Debug, Args)]
pub struct SchemaArgs {}

pub fn run(_global: &GlobalArgs, _args: &SchemaArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("lapse schema is not built yet")
}
