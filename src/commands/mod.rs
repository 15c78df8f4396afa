//! One file per subcommand: its arguments and the glue from files to
//! checks to output. The substance lives in the library modules.

pub mod audit;
pub mod check;
pub mod codeowners;
pub mod completions;
pub mod expiring;
pub mod extend;
pub mod init;
pub mod new;
pub mod offboard;
pub mod prune;
pub mod render;
pub mod schema;
pub mod who;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::ColorChoice;

/// How a command ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0: nothing to report.
    Clean,
    /// Exit 1: violations found, or (`render --check`) drift found.
    Findings,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Self::Clean => ExitCode::SUCCESS,
            Self::Findings => ExitCode::from(1),
        }
    }
}

/// Leaves a command's loaded data to the operating system, which takes it
/// back whole when lapse exits a moment later: freeing ten thousand grants
/// and their texts one allocation at a time took about 5 ms, a tenth of a
/// pull-request check. Only for what a command holds until it returns to
/// `main`; nothing runs a command twice in one process.
pub fn free_at_exit<T>(data: T) {
    std::mem::forget(data);
}

/// The grants repository: `--repo`, else the work tree of the enclosing git
/// repository, else the current directory.
pub fn repository_root(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = explicit {
        anyhow::ensure!(dir.is_dir(), "--repo {}: no such directory", dir.display());
        return Ok(dir.to_path_buf());
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    Ok(crate::history::discover_git(&cwd)?
        .and_then(|repo| repo.workdir().map(Path::to_path_buf))
        .unwrap_or(cwd))
}

/// Whether human output is coloured. `--color always|never` decides;
/// under `auto`, a non-empty NO_COLOR turns colour off
/// (https://no-color.org), a CLICOLOR_FORCE other than 0 turns it on
/// (https://bixense.com/clicolors/), and otherwise only a terminal gets it.
pub fn use_colour(choice: ColorChoice) -> bool {
    let set = |name| std::env::var_os(name).filter(|value| !value.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if set("NO_COLOR").is_some() => false,
        ColorChoice::Auto if set("CLICOLOR_FORCE").is_some_and(|value| value != *"0") => true,
        ColorChoice::Auto => std::io::stdout().is_terminal(),
    }
}
