//! GitLab merge requests, configured from GitLab CI's predefined variables
//! `CI_API_V4_URL` and `CI_PROJECT_ID`, and a token from
//! `LAPSE_GITLAB_TOKEN` (else `GITLAB_TOKEN`): the job token
//! `CI_JOB_TOKEN` cannot create merge requests, so a project access token
//! with the `api` scope goes into a masked CI/CD variable (`read_api` is
//! enough to read approvals).
//! API: https://docs.gitlab.com/api/merge_requests/,
//! https://docs.gitlab.com/api/merge_request_approvals/,
//! https://docs.gitlab.com/api/merge_request_approval_settings/

use std::cell::OnceCell;

use serde::Deserialize;
use serde_json::json;

use super::http::{Api, Hints, Write, encode_segment};
use super::reviews::{Decision, PullReviews, Review, ReviewError};
use super::{Forge, ForgeError, ForgeKind, Proposal, PullRequest, Purpose, required};

fn hints(purpose: Purpose) -> Hints {
    Hints {
        forge: "GitLab",
        url_variable: "CI_API_V4_URL",
        token: match purpose {
            Purpose::ReadReviews => {
                "LAPSE_GITLAB_TOKEN (or GITLAB_TOKEN) is a valid project access token with the read_api scope"
            }
            _ => {
                "LAPSE_GITLAB_TOKEN (or GITLAB_TOKEN) is a valid project access token with the api scope and at least the Developer role"
            }
        },
        project: "CI_PROJECT_ID",
        rerun: purpose.rerun(),
    }
}

pub struct GitLab {
    api: Api,
    /// `CI_PROJECT_ID` as given: GitLab CI sets the numeric id, a person
    /// may write the `group/project` path instead.
    project: String,
    /// The numeric id, read once from the API when `project` is a path.
    project_id: OnceCell<u64>,
}

#[derive(Deserialize)]
struct MergeRequest {
    iid: u64,
    web_url: String,
    title: String,
    description: Option<String>,
    /// The project the source branch lives in: a fork is another project.
    #[serde(default)]
    source_project_id: Option<u64>,
}

#[derive(Deserialize)]
struct Project {
    id: u64,
}

#[derive(Deserialize)]
struct MergeRequestHead {
    sha: String,
}

/// `GET /projects/:id/merge_requests/:iid/approvals`: who approves now
/// (one object, not a paged list). It says neither when nor which commit.
#[derive(Deserialize)]
struct Approvals {
    #[serde(default)]
    approved_by: Vec<Approver>,
}

#[derive(Deserialize)]
struct Approver {
    user: Option<User>,
}

#[derive(Deserialize)]
struct User {
    username: String,
}

/// `GET /projects/:id/merge_request_approval_setting` (GitLab Premium).
#[derive(Deserialize)]
struct ApprovalSetting {
    retain_approvals_on_push: Setting,
}

#[derive(Deserialize)]
struct Setting {
    value: bool,
}

/// GitLab's largest page (https://docs.gitlab.com/api/rest/#pagination).
const PAGE_SIZE: usize = 100;

impl From<MergeRequest> for PullRequest {
    fn from(request: MergeRequest) -> Self {
        Self {
            number: request.iid,
            url: request.web_url,
            title: request.title,
            body: request.description.unwrap_or_default(),
        }
    }
}

impl GitLab {
    pub fn from_env(
        env: &dyn Fn(&str) -> Option<String>,
        purpose: Purpose,
    ) -> Result<Self, ForgeError> {
        let url = required(
            env,
            purpose,
            "GitLab",
            "CI_API_V4_URL",
            "the REST API URL, e.g. https://gitlab.com/api/v4",
        )?;
        let project = required(
            env,
            purpose,
            "GitLab",
            "CI_PROJECT_ID",
            "the project id or path",
        )?;
        let token = env("LAPSE_GITLAB_TOKEN")
            .or_else(|| env("GITLAB_TOKEN"))
            .ok_or(ForgeError::Missing {
                needed_by: purpose.needed_by(),
                forge: "GitLab",
                variable: "LAPSE_GITLAB_TOKEN",
                what: match purpose {
                    Purpose::ReadReviews => {
                        "a project access token with the read_api scope (GITLAB_TOKEN is read too)"
                    }
                    _ => "a project access token with the api scope (GITLAB_TOKEN is read too)",
                },
            })?;
        Ok(Self {
            api: Api::new(&url, ("PRIVATE-TOKEN", token), hints(purpose)),
            project: project.trim().to_owned(),
            project_id: OnceCell::new(),
        })
    }

    /// The project's numeric id: `CI_PROJECT_ID` itself, or for a path the
    /// id GitLab answers for it, asked once per run.
    fn project_id(&self) -> Result<u64, ForgeError> {
        if let Some(id) = self.project_id.get() {
            return Ok(*id);
        }
        let id = match self.project.parse() {
            Ok(id) => id,
            Err(_) => {
                let path = format!("/projects/{}", encode_segment(&self.project));
                self.api.get::<Project>(&path, &[])?.id
            }
        };
        Ok(*self.project_id.get_or_init(|| id))
    }

    fn project_path(&self) -> Result<String, ForgeError> {
        Ok(format!("/projects/{}", self.project_id()?))
    }
}

impl GitLab {
    /// The merge request's head commit and who approves it.
    ///
    /// GitLab's approvals API names neither the commit approved nor when,
    /// so an approval is tied to the head commit through the project
    /// setting that removes every approval when commits are pushed
    /// (`retain_approvals_on_push: false`, "Remove all approvals when
    /// commits are added to the source branch"): with it, whoever approves
    /// now approved the head. Without it, or when the setting cannot be
    /// read (GitLab Free has no such API), lapse refuses rather than count
    /// approvals of older commits.
    pub fn pull_reviews(&self, number: u64) -> Result<PullReviews, ReviewError> {
        let project_path = self.project_path()?;
        self.require_approvals_reset_on_push(&project_path)?;
        let request_path = format!("{project_path}/merge_requests/{number}");
        let head: MergeRequestHead = self.api.get(&request_path, &[])?;
        let approvals: Approvals = self.api.get(&format!("{request_path}/approvals"), &[])?;
        let reviews = approvals
            .approved_by
            .into_iter()
            .enumerate()
            .map(|(order, approver)| Review {
                order: order as u64,
                login: approver.user.map(|user| user.username),
                decision: Decision::Approved,
                commit_sha: head.sha.clone(),
                stale: false,
            })
            .collect::<Vec<_>>();
        Ok(PullReviews::from_reviews(
            ForgeKind::GitLab,
            number,
            head.sha,
            reviews,
        ))
    }

    fn require_approvals_reset_on_push(&self, project_path: &str) -> Result<(), ReviewError> {
        let path = format!("{project_path}/merge_request_approval_setting");
        match self.api.get::<ApprovalSetting>(&path, &[]) {
            Ok(setting) if setting.retain_approvals_on_push.value => {
                Err(ReviewError::GitLabKeepsApprovals {
                    project: self.project.clone(),
                })
            }
            Ok(_) => Ok(()),
            Err(ForgeError::Refused {
                code: 403 | 404,
                status,
                ..
            }) => Err(ReviewError::GitLabSettingUnreadable { status, path }),
            Err(other) => Err(other.into()),
        }
    }
}

impl Forge for GitLab {
    /// The filter on `source_branch` also matches merge requests from
    /// forks, whose branch anyone may name `lapse/prune`: only a request
    /// whose source project is this project is lapse's, or a fork's
    /// request would get lapse's title and body and lapse's own would
    /// never be opened.
    fn find_open(&self, proposal: &Proposal) -> Result<Option<PullRequest>, ForgeError> {
        let project_id = self.project_id()?;
        let requests: Vec<MergeRequest> = self.api.get_all(
            &format!("{}/merge_requests", self.project_path()?),
            &[
                ("state", "opened"),
                ("source_branch", &proposal.branch),
                ("target_branch", &proposal.base),
            ],
            ("per_page", PAGE_SIZE),
        )?;
        Ok(requests
            .into_iter()
            .find(|request| request.source_project_id == Some(project_id))
            .map(PullRequest::from))
    }

    fn open(&self, proposal: &Proposal) -> Result<PullRequest, ForgeError> {
        let body = json!({
            "source_branch": proposal.branch,
            "target_branch": proposal.base,
            "title": proposal.title,
            "description": proposal.body,
            // The prune branch has no other use once merged.
            "remove_source_branch": true,
        });
        let request: MergeRequest = self.api.send(
            Write::Post,
            &format!("{}/merge_requests", self.project_path()?),
            &body,
        )?;
        Ok(request.into())
    }

    fn update(&self, number: u64, proposal: &Proposal) -> Result<PullRequest, ForgeError> {
        let body = json!({ "title": proposal.title, "description": proposal.body });
        let request: MergeRequest = self.api.send(
            Write::Put,
            &format!("{}/merge_requests/{number}", self.project_path()?),
            &body,
        )?;
        Ok(request.into())
    }
}
