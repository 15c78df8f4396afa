//! The pull-request endpoints GitHub and Gitea/Forgejo share: Gitea's
//! create and edit calls take and return the same fields as GitHub's
//! (https://docs.github.com/en/rest/pulls/pulls, https://gitea.com/api/swagger).

use serde::Deserialize;
use serde_json::json;

use super::http::{Api, Write};
use super::{ForgeError, Proposal, PullRequest};

/// The fields of a pull request lapse reads, as both forges answer them.
#[derive(Deserialize)]
pub(super) struct Pull {
    number: u64,
    html_url: String,
    title: String,
    body: Option<String>,
}

impl From<Pull> for PullRequest {
    fn from(pull: Pull) -> Self {
        Self {
            number: pull.number,
            url: pull.html_url,
            title: pull.title,
            body: pull.body.unwrap_or_default(),
        }
    }
}

/// `POST {repo_path}/pulls`.
pub(super) fn open(
    api: &Api,
    repo_path: &str,
    proposal: &Proposal,
) -> Result<PullRequest, ForgeError> {
    let body = json!({
        "title": proposal.title,
        "body": proposal.body,
        "head": proposal.branch,
        "base": proposal.base,
    });
    let pull: Pull = api.send(Write::Post, &format!("{repo_path}/pulls"), &body)?;
    Ok(pull.into())
}

/// `PATCH {repo_path}/pulls/{number}` with the new title and body.
pub(super) fn update(
    api: &Api,
    repo_path: &str,
    number: u64,
    proposal: &Proposal,
) -> Result<PullRequest, ForgeError> {
    let body = json!({ "title": proposal.title, "body": proposal.body });
    let pull: Pull = api.send(Write::Patch, &format!("{repo_path}/pulls/{number}"), &body)?;
    Ok(pull.into())
}
