//! Putting a lapse branch (prune, offboard) where reviewers see it: the
//! commit, the push, the pull request, in that order. Each step can be
//! repeated, so a failure at any point is repaired by running again, and a
//! rerun with nothing new writes, pushes and edits nothing.

use git2::{Oid, Repository};

use crate::forge::{self, Forge, ForgeError, Proposal, Published, PullRequest};
use crate::uri::redact_credentials;

use super::commit::Regenerate;
use super::{BranchCommit, PruneError, branch_tip, push, write_branch};

/// Where the branch goes.
pub struct Delivery<'a> {
    pub branch: &'a str,
    /// The remote to push to, if any.
    pub push: Option<&'a str>,
    /// The forge to open the pull request on, if any (needs `push`).
    pub forge: Option<&'a dyn Forge>,
}

/// What `deliver` did.
#[derive(Debug)]
pub struct Delivered {
    pub commit: Oid,
    /// Whether `generated/` was refreshed.
    pub regenerated: bool,
    /// The remote pushed to, credentials hidden.
    pub pushed_to: Option<String>,
    pub pull_request: Option<(PullRequest, Published)>,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Prune(#[from] PruneError),
    #[error(transparent)]
    Forge(#[from] ForgeError),
}

/// Writes the commit (reusing the one an earlier run left locally or on
/// the remote when it has the same parent and tree), pushes it with a
/// lease on the tip just read, and opens or updates the pull request whose
/// title and body `words` gives (told whether `generated/` was refreshed).
pub fn deliver(
    repo: &Repository,
    change: &BranchCommit,
    delivery: &Delivery,
    regenerate: Option<Regenerate>,
    words: &dyn Fn(bool) -> (String, String),
) -> Result<Delivered, DeliveryError> {
    let dir = repo.workdir().unwrap_or_else(|| repo.path());
    let remote_tip = match delivery.push {
        Some(remote) => push::remote_tip(dir, remote, delivery.branch)?,
        None => None,
    };
    if let (Some(tip), Some(remote)) = (remote_tip, delivery.push)
        && repo.find_commit(tip).is_err()
    {
        push::fetch_branch(dir, remote, delivery.branch)?;
    }
    let earlier: Vec<Oid> = [branch_tip(repo, delivery.branch), remote_tip]
        .into_iter()
        .flatten()
        .collect();
    let written = write_branch(repo, change, delivery.branch, regenerate, &earlier)?;
    let mut delivered = Delivered {
        commit: written.commit,
        regenerated: written.regenerated,
        pushed_to: None,
        pull_request: None,
    };
    let Some(remote) = delivery.push else {
        return Ok(delivered);
    };
    if remote_tip != Some(written.commit) {
        push::push_branch(dir, remote, delivery.branch, remote_tip)?;
    }
    delivered.pushed_to = Some(redact_credentials(remote));
    if let (Some(forge), Some(base)) = (delivery.forge, &change.base.branch) {
        let (title, body) = words(written.regenerated);
        let proposal = Proposal {
            branch: delivery.branch.to_owned(),
            base: base.clone(),
            title,
            body,
        };
        delivered.pull_request = Some(forge::publish(forge, &proposal)?);
    }
    Ok(delivered)
}
