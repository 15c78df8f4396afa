//! GitHub pull requests, configured as GitHub Actions sets the job up:
//! `GITHUB_API_URL`, `GITHUB_REPOSITORY` and `GITHUB_TOKEN` (which the
//! workflow passes from `secrets.GITHUB_TOKEN` with `pull-requests: write`).
//! API: https://docs.github.com/en/rest/pulls/pulls

use super::http::{Api, Hints, encode_segment};
use super::pulls::{self, Pull};
use super::{Forge, ForgeError, Proposal, PullRequest, owner_and_name, required};

const HINTS: Hints = Hints {
    forge: "GitHub",
    url_variable: "GITHUB_API_URL",
    token: "GITHUB_TOKEN is valid and has pull-requests: write",
    project: "GITHUB_REPOSITORY",
};

pub struct GitHub {
    api: Api,
    owner: String,
    /// `/repos/{owner}/{name}`, encoded.
    repo_path: String,
}

impl GitHub {
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ForgeError> {
        let url = required(
            env,
            "GitHub",
            "GITHUB_API_URL",
            "the REST API URL, e.g. https://api.github.com",
        )?;
        let token = required(
            env,
            "GitHub",
            "GITHUB_TOKEN",
            "a token with pull-requests: write",
        )?;
        let repository = required(
            env,
            "GitHub",
            "GITHUB_REPOSITORY",
            "the repository as owner/name",
        )?;
        let (owner, name) = owner_and_name("GITHUB_REPOSITORY", &repository)?;
        Ok(Self {
            api: Api::new(&url, ("Authorization", format!("Bearer {token}")), HINTS),
            repo_path: format!(
                "/repos/{}/{}",
                encode_segment(&owner),
                encode_segment(&name)
            ),
            owner,
        })
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
