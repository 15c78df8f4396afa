//! `lapse init`: scaffolds a grants repository on which `lapse check`
//! passes at once. Writes nothing if any of its files already exists.

use std::path::Path;

use anyhow::Context;
use clap::Args;

use crate::cli::GlobalArgs;
use crate::codeowners::Forge;
use crate::scaffold::{self, files};

use super::{Outcome, repository_root};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The forge whose CI files, CODEOWNERS and user names to write.
    #[arg(long, value_enum, default_value_t = Forge::Github)]
    pub forge: Forge,
}

pub fn run(global: &GlobalArgs, args: &InitArgs) -> anyhow::Result<Outcome> {
    let root = repository_root(global.repo())?;
    let grant_schema = serde_json::to_string_pretty(&super::schema::grant_schema())? + "\n";
    let policy_schema = serde_json::to_string_pretty(&super::schema::policy_schema())? + "\n";
    let scaffold = scaffold::files(args.forge, global.now(), &grant_schema, &policy_schema);
    // Refuse before writing anything, so a refused init leaves no half scaffold.
    for (path, _) in &scaffold {
        match files::read_bounded(&root, path) {
            Ok(None) => {}
            Ok(Some(_)) => anyhow::bail!(
                "{}: already exists; lapse init never overwrites a file, and wrote nothing",
                path.display()
            ),
            Err(error) => anyhow::bail!("{error}; lapse init wrote nothing"),
        }
    }
    for (path, text) in &scaffold {
        files::create_new(&root, path, text.as_bytes())
            .with_context(|| format!("lapse init stopped at {}", path.display()))?;
        if !global.quiet {
            eprintln!("wrote {}", display(path));
        }
    }
    if global.quiet {
        return Ok(Outcome::Clean);
    }
    eprintln!(
        "next: replace the example people and role in lapse.yaml, run `lapse check`, and commit; \
         the README's \"Adopting lapse\" lists the forge settings to turn on"
    );
    Ok(Outcome::Clean)
}

fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
