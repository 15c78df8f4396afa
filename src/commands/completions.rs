//! `lapse completions SHELL` and the hidden `lapse man`: generated from
//! the clap definition of the commands, so they cannot fall behind it.

use std::io::Write;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::cli::Cli;

use super::Outcome;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: &CompletionsArgs) -> anyhow::Result<Outcome> {
    let mut command = Cli::command();
    let mut stdout = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut command, "lapse", &mut stdout);
    stdout.flush()?;
    Ok(Outcome::Clean)
}

/// The man page, `lapse.1`: `lapse man > lapse.1`.
pub fn man() -> anyhow::Result<Outcome> {
    let mut stdout = std::io::stdout().lock();
    clap_mangen::Man::new(Cli::command()).render(&mut stdout)?;
    stdout.flush()?;
    Ok(Outcome::Clean)
}
