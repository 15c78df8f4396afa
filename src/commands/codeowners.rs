//! `lapse codeowners`: CODEOWNERS lines that make the forge ask the people
//! the policy names; `--check` fails when the committed file has drifted.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::cli::GlobalArgs;
use crate::codeowners::{self, Forge};
use crate::load;

use super::{Outcome, repository_root};

#[derive(Debug, Args)]
pub struct CodeownersArgs {
    /// Whose CODEOWNERS dialect and user names (`people.<p>.github`, `.gitlab`, `.gitea`).
    #[arg(long, value_enum, default_value_t = Forge::Github)]
    pub forge: Forge,
    /// Write nothing; exit 1 when the CODEOWNERS file differs from what lapse would write.
    #[arg(long, conflicts_with = "write")]
    pub check: bool,
    /// Write the file instead of printing it.
    #[arg(long)]
    pub write: bool,
    /// The CODEOWNERS file, relative to the repository root (default: the
    /// forge's, e.g. .github/CODEOWNERS).
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
}

pub fn run(global: &GlobalArgs, args: &CodeownersArgs) -> anyhow::Result<Outcome> {
    let root = repository_root(global.repo())?;
    let workspace = load::load_workspace(&root)?;
    let text = codeowners::render(&workspace.policy, &workspace.grants, args.forge);
    let file = args
        .file
        .clone()
        .unwrap_or_else(|| PathBuf::from(args.forge.default_path()));
    if args.check {
        let existing = crate::scaffold::files::read_bounded(&root, &file)?;
        if existing.is_some_and(|bytes| codeowners::is_current(&bytes, &text)) {
            return Ok(Outcome::Clean);
        }
        println!(
            "{}: differs from `lapse codeowners --forge {}`; run it with --write and commit the result",
            file.display(),
            args.forge.name()
        );
        return Ok(Outcome::Findings);
    }
    if args.write {
        crate::scaffold::files::replace_file(&root, &file, text.as_bytes())
            .with_context(|| format!("cannot write {}", file.display()))?;
        if !global.quiet {
            eprintln!("wrote {}", file.display());
        }
        return Ok(Outcome::Clean);
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(Outcome::Clean)
}
