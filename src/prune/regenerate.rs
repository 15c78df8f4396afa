//! `generated/` as `lapse render` will write it once a lapse branch is
//! merged. Render judges the repository as `lapse check` does (the audit,
//! with the history) and leaves out every grant with an error finding and
//! every orphaned grant (`Verdict::withheld`); so the branch's commit is
//! checked out to a scratch directory (`scratch`) and judged by the same
//! `verdict::judge`, and the grants it does not withhold are rendered with
//! the commit's own policy and templates. What the two can still differ on
//! is time: render runs later, at its own `--now`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use git2::Repository;

use crate::load::{POLICY_FILE, Sources};
use crate::render::{self, RenderOptions, TemplateSet};
use crate::verdict;

use super::PruneError;
use super::commit::Candidate;
use super::scratch;
use super::snapshot::{GENERATED_DIR, policy_text};

/// The files of `generated/` (relative to it) for the candidate tree.
pub fn generated_for(
    repo: &Repository,
    candidate: &Candidate,
    now: DateTime<Utc>,
) -> Result<BTreeMap<PathBuf, String>, PruneError> {
    let failed = |reason: String| PruneError::Regenerate(reason);
    require_policy(repo, candidate)?;
    let scratch = scratch::check_out(repo, candidate)?;
    let mut sources = Sources::default();
    let verdict = verdict::judge(scratch.root(), now, None, &mut sources, None)
        .map_err(|error| failed(error.to_string()))?;
    let provisioned = verdict.provisioned(&verdict.withheld());
    let templates =
        TemplateSet::for_repository(scratch.root()).map_err(|error| failed(error.to_string()))?;
    let options = RenderOptions {
        out_dir: PathBuf::from(GENERATED_DIR),
        split_by: verdict.policy.render.split_by,
    };
    render::render_files(&verdict.policy, &provisioned, now, &templates, &options)
        .map_err(|error| failed(error.to_string()))
}

/// A candidate without a readable `lapse.yaml` cannot be rendered; said in
/// the terms of the branch rather than of the scratch directory's path.
fn require_policy(repo: &Repository, candidate: &Candidate) -> Result<(), PruneError> {
    let tree = repo.find_tree(candidate.tree)?;
    match policy_text(repo, &tree, &candidate.prefix.join(POLICY_FILE))? {
        Some(_) => Ok(()),
        None => Err(PruneError::Regenerate(format!(
            "the branch has no {POLICY_FILE} that lapse can read (a regular UTF-8 file of at most 1 MiB)"
        ))),
    }
}
