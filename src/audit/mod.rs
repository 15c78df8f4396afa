//! Audit evidence from the history of the default branch: who had access
//! when (`lapse who`), and the whole story of every grant over a period
//! (`lapse audit`).

pub mod approval;
pub mod build;
pub mod checkpoint;
pub mod format;
pub mod report;
pub mod role;
pub mod subject;

use serde::Serialize;

use crate::prune::Base;

/// Which branch a `who` or `audit` run read, as every format names it:
/// an answer about access is only as good as the branch it came from.
#[derive(Debug, Clone, Serialize)]
pub struct BranchRead {
    /// The branch's name (`main`), when what was read is a branch.
    pub name: Option<String>,
    /// Where it was found: `origin/main`, `main`, or the `--base` given.
    pub source: String,
    /// The tip commit read.
    pub commit: String,
}

impl From<&Base> for BranchRead {
    fn from(base: &Base) -> Self {
        Self {
            name: base.branch.clone(),
            source: base.source.clone(),
            commit: base.commit.to_string(),
        }
    }
}

impl BranchRead {
    /// `main (origin/main at 1a2b3c4d5e6f)`, for a line of text.
    pub fn describe(&self) -> String {
        let short = self.commit.get(..12).unwrap_or(&self.commit);
        match &self.name {
            Some(name) if *name == self.source => format!("{name} at {short}"),
            Some(name) => format!("{name} ({} at {short})", self.source),
            None => format!("{} at {short}", self.source),
        }
    }
}
