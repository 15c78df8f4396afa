//! Command-line arguments (clap) and dispatch; the work is in `commands`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use crate::commands;
use crate::model::timestamp::parse_timestamp;
use crate::output::terminal::printable_lines;

/// `lapse --version`: the release and the commit it was built from (set by
/// `build.rs`), so a bug report names the exact build.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("LAPSE_COMMIT"), ")");

#[derive(Debug, Parser)]
#[command(
    name = "lapse",
    version = VERSION,
    about = "Time-bound access grants as code",
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The grants repository (default: the enclosing git repository).
    #[arg(long, global = true, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// The instant to judge at, RFC 3339 with offset (default: the clock).
    #[arg(long, global = true, value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,
    /// Colour human output: auto (a terminal, unless NO_COLOR is set, or
    /// when CLICOLOR_FORCE is set), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Print only findings, drift and errors, not the lines that say all is well.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl GlobalArgs {
    pub fn now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(Utc::now)
    }

    pub fn repo(&self) -> Option<&Path> {
        self.repo.as_deref()
    }
}

pub(crate) fn parse_now(text: &str) -> Result<DateTime<Utc>, String> {
    parse_timestamp(text).map_err(|error| format!("{error}; {}", error.hint()))
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the policy and every grant.
    Check(commands::check::CheckArgs),
    /// Render Terraform for the grants active now.
    Render(commands::render::RenderArgs),
    /// Open a pull request that removes expired grants.
    Prune(commands::prune::PruneArgs),
    /// List grants that expire soon.
    Expiring(commands::expiring::ExpiringArgs),
    /// Who had which access at a given time, from the git history.
    Who(commands::who::WhoArgs),
    /// Every event of every grant over a period, for an access review.
    Audit(commands::audit::AuditArgs),
    /// Write a new grant file for a request.
    New(commands::new::NewArgs),
    /// Write the request that extends a grant from when it ends.
    Extend(commands::extend::ExtendArgs),
    /// Open a pull request that ends a person's access: now, or --at a date.
    Offboard(commands::offboard::OffboardArgs),
    /// Print the JSON Schema of grant and policy files.
    Schema(commands::schema::SchemaArgs),
    /// Scaffold a grants repository: policy, example grant, CI, CODEOWNERS.
    Init(commands::init::InitArgs),
    /// CODEOWNERS lines that route reviews to the approvers and owners.
    Codeowners(commands::codeowners::CodeownersArgs),
    /// Print shell completions: bash, zsh, fish, powershell or elvish.
    Completions(commands::completions::CompletionsArgs),
    /// Print the man page (roff).
    #[command(hide = true)]
    Man,
}

/// Parses arguments, runs the command and maps the outcome to lapse's exit
/// codes: 0 clean, 1 findings, 2 usage, policy or I/O error.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => commands::check::run(&cli.global, &args),
        Command::Render(args) => commands::render::run(&cli.global, &args),
        Command::Prune(args) => commands::prune::run(&cli.global, &args),
        Command::Expiring(args) => commands::expiring::run(&cli.global, &args),
        Command::Who(args) => commands::who::run(&cli.global, &args),
        Command::Audit(args) => commands::audit::run(&cli.global, &args),
        Command::New(args) => commands::new::run(&cli.global, &args),
        Command::Extend(args) => commands::extend::run(&cli.global, &args),
        Command::Offboard(args) => commands::offboard::run(&cli.global, &args),
        Command::Schema(args) => commands::schema::run(&cli.global, &args),
        Command::Init(args) => commands::init::run(&cli.global, &args),
        Command::Codeowners(args) => commands::codeowners::run(&cli.global, &args),
        Command::Completions(args) => commands::completions::run(&args),
        Command::Man => commands::completions::man(),
    };
    match result {
        Ok(outcome) => outcome.exit_code(),
        Err(error) => {
            // Errors quote file names and values from the repository.
            eprintln!("error: {}", printable_lines(&format!("{error:#}")));
            ExitCode::from(2)
        }
    }
}
