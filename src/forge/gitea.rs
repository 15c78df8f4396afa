//! Gitea and Forgejo pull requests. lapse reads `GITEA_API_URL` (e.g.
//! `https://gitea.example/api/v1`), `GITEA_TOKEN` and `GITEA_REPOSITORY`
//! (`owner/name`), and falls back to the `GITHUB_*` variables that Gitea and
//! Forgejo Actions set for compatibility, so a workflow there needs no
//! configuration beyond a token that may write pull requests.
//! API: https://gitea.com/api/swagger (repoListPullRequests, repoCreatePullRequest,
//! repoEditPullRequest, repoGetPullRequest, repoListPullReviews)

use serde::Deserialize;

use super::http::{Api, Hints, encode_segment};
use super::pulls::{self, Pull};
use super::reviews::{Decision, PullReviews, Review};
use super::{
    Forge, ForgeError, ForgeKind, Proposal, PullRequest, Purpose, owner_and_name, required,
};

fn hints(purpose: Purpose) -> Hints {
    Hints {
        forge: "Gitea",
        url_variable: "GITEA_API_URL",
        token: match purpose {
            Purpose::ReadReviews => {
                "GITEA_TOKEN is valid and may read the repository (scope read:repository)"
            }
            _ => "GITEA_TOKEN is valid and may write pull requests (scope write:repository)",
        },
        project: "GITEA_REPOSITORY",
        rerun: purpose.rerun(),
    }
}

/// Gitea's list endpoint cannot filter by branch, so open pull requests are
/// read page by page; the bound stops a misbehaving server from keeping the
/// job looping.
const PAGE_SIZE: usize = 50;
const MAX_PAGES: usize = 100;

pub struct Gitea {
    api: Api,
    repo_path: String,
}

/// A listed pull request: the shared fields and the branches, by which
/// lapse finds its own.
#[derive(Deserialize)]
struct ListedPull {
    #[serde(flatten)]
    pull: Pull,
    head: Branch,
    base: Branch,
}

/// A review as Gitea lists it (`PullReview` in Gitea's API): `state` is
/// APPROVED, REQUEST_CHANGES, COMMENT, PENDING or REQUEST_REVIEW; `stale`
/// marks a review of a commit that is no longer the head, `dismissed` one
/// that a maintainer dismissed.
#[derive(Deserialize)]
struct ListedReview {
    id: u64,
    /// `null` for a review requested from a team.
    user: Option<Account>,
    state: String,
    #[serde(default)]
    commit_id: Option<String>,
    #[serde(default)]
    stale: bool,
    #[serde(default)]
    dismissed: bool,
}

#[derive(Deserialize)]
struct Account {
    login: String,
}

#[derive(Deserialize)]
struct PullHead {
    head: Head,
}

#[derive(Deserialize)]
struct Head {
    sha: String,
}

#[derive(Deserialize)]
struct Branch {
    #[serde(rename = "ref")]
    name: String,
    /// The repository the branch lives in: for a fork's pull request the
    /// head's differs from the base's.
    #[serde(default)]
    repo_id: Option<i64>,
}

impl ListedPull {
    /// A request from `branch` of this repository itself into `base`. A
    /// fork's branch may carry the same name, and writing lapse's title
    /// and body onto the fork's request would vouch for its changes.
    fn is_lapses(&self, proposal: &Proposal) -> bool {
        self.head.name == proposal.branch
            && self.base.name == proposal.base
            && self.head.repo_id.is_some()
            && self.head.repo_id == self.base.repo_id
    }
}

impl Gitea {
    pub fn from_env(
        env: &dyn Fn(&str) -> Option<String>,
        purpose: Purpose,
    ) -> Result<Self, ForgeError> {
        let either = |gitea: &'static str, github: &str, what: &'static str| {
            required(env, purpose, "Gitea", gitea, what)
                .or_else(|missing| env(github).ok_or(missing))
        };
        let url = either(
            "GITEA_API_URL",
            "GITHUB_API_URL",
            "the REST API URL, e.g. https://gitea.example/api/v1",
        )?;
        let token = either(
            "GITEA_TOKEN",
            "GITHUB_TOKEN",
            match purpose {
                Purpose::ReadReviews => "a token that may read the repository",
                _ => "a token that may write pull requests",
            },
        )?;
        let repository = either(
            "GITEA_REPOSITORY",
            "GITHUB_REPOSITORY",
            "the repository as owner/name",
        )?;
        let (owner, name) = owner_and_name("GITEA_REPOSITORY", &repository)?;
        Ok(Self {
            api: Api::new(
                &url,
                ("Authorization", format!("token {token}")),
                hints(purpose),
            ),
            repo_path: format!(
                "/repos/{}/{}",
                encode_segment(&owner),
                encode_segment(&name)
            ),
        })
    }
}

impl Gitea {
    /// The pull request's head commit and every review, all pages (Gitea
    /// sends `X-Total-Count`, and caps the page size at its
    /// `MAX_RESPONSE_ITEMS`, 50 by default).
    pub fn pull_reviews(&self, number: u64) -> Result<PullReviews, ForgeError> {
        let pull_path = format!("{}/pulls/{number}", self.repo_path);
        let head: PullHead = self.api.get(&pull_path, &[])?;
        let listed: Vec<ListedReview> =
            self.api
                .get_all(&format!("{pull_path}/reviews"), &[], ("limit", PAGE_SIZE))?;
        let reviews = listed.into_iter().map(|review| Review {
            order: review.id,
            login: review.user.map(|user| user.login),
            decision: match review.state.as_str() {
                "APPROVED" if review.dismissed => Decision::Withdrawn,
                "APPROVED" => Decision::Approved,
                // A new review request asks the reviewer to look again: the
                // earlier approval no longer stands for lapse (fail closed).
                "REQUEST_CHANGES" | "REQUEST_REVIEW" => Decision::Withdrawn,
                _ => Decision::Neutral,
            },
            commit_sha: review.commit_id.unwrap_or_default(),
            stale: review.stale,
        });
        Ok(PullReviews::from_reviews(
            ForgeKind::Gitea,
            number,
            head.head.sha,
            reviews,
        ))
    }
}

impl Forge for Gitea {
    fn find_open(&self, proposal: &Proposal) -> Result<Option<PullRequest>, ForgeError> {
        let path = format!("{}/pulls", self.repo_path);
        let limit = PAGE_SIZE.to_string();
        for page in 1..=MAX_PAGES {
            let page = page.to_string();
            let pulls: Vec<ListedPull> = self.api.get(
                &path,
                &[("state", "open"), ("limit", &limit), ("page", &page)],
            )?;
            let last_page = pulls.len() < PAGE_SIZE;
            if let Some(pull) = pulls.into_iter().find(|p| p.is_lapses(proposal)) {
                return Ok(Some(pull.pull.into()));
            }
            if last_page {
                break;
            }
        }
        Ok(None)
    }

    fn open(&self, proposal: &Proposal) -> Result<PullRequest, ForgeError> {
        pulls::open(&self.api, &self.repo_path, proposal)
    }

    fn update(&self, number: u64, proposal: &Proposal) -> Result<PullRequest, ForgeError> {
        pulls::update(&self.api, &self.repo_path, number, proposal)
    }
}
