//! GitHub pull requests and their reviews, configured as GitHub Actions
//! sets the job up: `GITHUB_API_URL`, `GITHUB_REPOSITORY` and
//! `GITHUB_TOKEN` (which the workflow passes from `secrets.GITHUB_TOKEN`
//! with `pull-requests: write` to open pull requests, `pull-requests: read`
//! to read reviews, `issues: write` to keep the expiry issue).
//! API: https://docs.github.com/en/rest/pulls/pulls,
//! https://docs.github.com/en/rest/pulls/reviews

use serde::Deserialize;

use super::http::{Api, Hints, encode_segment};
use super::pulls::{self, Pull};
use super::reviews::{Decision, PullReviews, Review};
use super::{
    Forge, ForgeError, ForgeKind, Proposal, PullRequest, Purpose, owner_and_name, required,
};

fn hints(purpose: Purpose) -> Hints {
    Hints {
        forge: "GitHub",
        url_variable: "GITHUB_API_URL",
        token: match purpose {
            Purpose::OpenPullRequest => "GITHUB_TOKEN is valid and has pull-requests: write",
            Purpose::ReadReviews => "GITHUB_TOKEN is valid and has pull-requests: read",
            Purpose::KeepIssue => "GITHUB_TOKEN is valid and has issues: write",
        },
        project: "GITHUB_REPOSITORY",
        rerun: purpose.rerun(),
    }
}

/// GitHub's largest page for lists
/// (https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api).
const PAGE_SIZE: usize = 100;

pub struct GitHub {
    api: Api,
    owner: String,
    /// `/repos/{owner}/{name}`, encoded.
    repo_path: String,
}

/// A review as GitHub lists it: `state` is APPROVED, CHANGES_REQUESTED,
/// COMMENTED, DISMISSED (an approval or a change request dismissed later
/// takes this state) or PENDING (not submitted).
#[derive(Deserialize)]
struct ListedReview {
    id: u64,
    /// `null` for a deleted account.
    user: Option<Account>,
    state: String,
    /// The head commit when the review was submitted.
    #[serde(default)]
    commit_id: Option<String>,
}

#[derive(Deserialize)]
struct Account {
    login: String,
}

#[derive(Deserialize)]
struct PullHead {
    head: Commit,
}

#[derive(Deserialize)]
struct Commit {
    sha: String,
}

impl GitHub {
    pub fn from_env(
        env: &dyn Fn(&str) -> Option<String>,
        purpose: Purpose,
    ) -> Result<Self, ForgeError> {
        let url = required(
            env,
            purpose,
            "GitHub",
            "GITHUB_API_URL",
            "the REST API URL, e.g. https://api.github.com",
        )?;
        let token = required(
            env,
            purpose,
            "GitHub",
            "GITHUB_TOKEN",
            match purpose {
                Purpose::OpenPullRequest => "a token with pull-requests: write",
                Purpose::ReadReviews => "a token with pull-requests: read",
                Purpose::KeepIssue => "a token with issues: write",
            },
        )?;
        let repository = required(
            env,
            purpose,
            "GitHub",
            "GITHUB_REPOSITORY",
            "the repository as owner/name",
        )?;
        let (owner, name) = owner_and_name("GITHUB_REPOSITORY", &repository)?;
        Ok(Self {
            api: Api::new(
                &url,
                ("Authorization", format!("Bearer {token}")),
                hints(purpose),
            ),
            repo_path: format!(
                "/repos/{}/{}",
                encode_segment(&owner),
                encode_segment(&name)
            ),
            owner,
        })
    }

    /// The REST client and `/repos/{owner}/{name}`, for the other
    /// repository endpoints lapse uses (the expiry issue).
    pub(crate) fn repository(&self) -> (&Api, &str) {
        (&self.api, &self.repo_path)
    }

    /// The pull request's head commit and every review, all pages.
    pub fn pull_reviews(&self, number: u64) -> Result<PullReviews, ForgeError> {
        let pull_path = format!("{}/pulls/{number}", self.repo_path);
        let head: PullHead = self.api.get(&pull_path, &[])?;
        let listed: Vec<ListedReview> = self.api.get_all(
            &format!("{pull_path}/reviews"),
            &[],
            ("per_page", PAGE_SIZE),
        )?;
        let reviews = listed.into_iter().map(|review| Review {
            order: review.id,
            login: review.user.map(|user| user.login),
            decision: match review.state.as_str() {
                "APPROVED" => Decision::Approved,
                "CHANGES_REQUESTED" | "DISMISSED" => Decision::Withdrawn,
                // COMMENTED leaves an earlier approval standing, as GitHub's
                // own merge rules do; PENDING is not submitted.
                _ => Decision::Neutral,
            },
            commit_sha: review.commit_id.unwrap_or_default(),
            stale: false,
        });
        Ok(PullReviews::from_reviews(
            ForgeKind::GitHub,
            number,
            head.head.sha,
            reviews,
        ))
    }
}

impl Forge for GitHub {
    fn find_open(&self, proposal: &Proposal) -> Result<Option<PullRequest>, ForgeError> {
        // `head` must be qualified with the owner, or GitHub ignores it.
        let head = format!("{}:{}", self.owner, proposal.branch);
        let pulls: Vec<Pull> = self.api.get(
            &format!("{}/pulls", self.repo_path),
            &[("state", "open"), ("head", &head), ("base", &proposal.base)],
        )?;
        Ok(pulls.into_iter().next().map(PullRequest::from))
    }

    fn open(&self, proposal: &Proposal) -> Result<PullRequest, ForgeError> {
        pulls::open(&self.api, &self.repo_path, proposal)
    }

    fn update(&self, number: u64, proposal: &Proposal) -> Result<PullRequest, ForgeError> {
        pulls::update(&self.api, &self.repo_path, number, proposal)
    }
}
