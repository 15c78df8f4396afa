//! Pull requests through a forge's REST API: GitHub, GitLab (merge
//! requests) and Gitea/Forgejo, one file each behind one small trait, and
//! the choice among them from the environment each CI sets up. The same
//! clients read a pull request's reviews (`reviews`) for
//! `approvals.evidence: forge-review`.

pub mod gitea;
pub mod github;
pub mod gitlab;
pub mod http;
mod pulls;
pub mod reviews;

use serde::Serialize;

use crate::model::policy::Person;

/// Which forge a job runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ForgeKind {
    GitHub,
    GitLab,
    Gitea,
}

impl ForgeKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::GitHub => "GitHub",
            Self::GitLab => "GitLab",
            Self::Gitea => "Gitea",
        }
    }

    /// The person's account on this forge: `github`, `gitlab` or `gitea`
    /// in `people`. Reviews and mentions are matched by it.
    pub fn login_of(self, person: &Person) -> Option<&str> {
        let login = match self {
            Self::GitHub => person.github.as_ref().map(|login| login.as_str()),
            Self::GitLab => person.gitlab.as_deref(),
            Self::Gitea => person.gitea.as_deref(),
        };
        login.map(str::trim).filter(|login| !login.is_empty())
    }
}

/// What lapse asks of the forge, which decides what the errors say: the
/// flag or setting that needed it, the permission the token lacks, the
/// command to run again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `lapse prune --open-pr`: write pull requests.
    OpenPullRequest,
    /// `approvals.evidence: forge-review`: read a pull request's reviews.
    ReadReviews,
    /// `lapse expiring --notify github-issue`: write one issue.
    KeepIssue,
}

impl Purpose {
    pub fn needed_by(self) -> &'static str {
        match self {
            Self::OpenPullRequest => "--open-pr",
            Self::ReadReviews => "approvals.evidence: forge-review",
            Self::KeepIssue => "--notify github-issue",
        }
    }

    pub fn rerun(self) -> &'static str {
        match self {
            Self::OpenPullRequest => "lapse prune",
            Self::ReadReviews => "lapse check",
            Self::KeepIssue => "lapse expiring",
        }
    }
}

/// A pull (or merge) request as lapse needs to know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullRequest {
    /// GitHub and Gitea number, GitLab iid: what people write after `#`/`!`.
    pub number: u64,
    pub url: String,
    pub title: String,
    pub body: String,
}

/// What lapse asks for: merge `branch` into `base`, with this text.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub branch: String,
    pub base: String,
    pub title: String,
    pub body: String,
}

/// What `publish` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Published {
    Opened,
    Updated,
    Unchanged,
}

pub trait Forge {
    /// The open request from `proposal.branch` into `proposal.base`, if any.
    fn find_open(&self, proposal: &Proposal) -> Result<Option<PullRequest>, ForgeError>;
    fn open(&self, proposal: &Proposal) -> Result<PullRequest, ForgeError>;
    /// Sets the title and body of an open request.
    fn update(&self, number: u64, proposal: &Proposal) -> Result<PullRequest, ForgeError>;
}

#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    #[error(
        "{needed_by} cannot tell the forge: set GITHUB_API_URL, GITHUB_TOKEN and GITHUB_REPOSITORY (GitHub Actions sets them), or CI_API_V4_URL, CI_PROJECT_ID and LAPSE_GITLAB_TOKEN (GitLab), or GITEA_API_URL, GITEA_TOKEN and GITEA_REPOSITORY (Gitea, Forgejo); LAPSE_FORGE=github|gitlab|gitea picks one explicitly"
    )]
    Undetected { needed_by: &'static str },
    #[error("LAPSE_FORGE={0} is not a forge lapse knows; use github, gitlab or gitea")]
    UnknownForge(String),
    #[error("{needed_by} on {forge} needs {variable}: {what}")]
    Missing {
        needed_by: &'static str,
        forge: &'static str,
        variable: &'static str,
        what: &'static str,
    },
    #[error(
        "{variable}={value} is not owner/name; set it to the repository's full name, e.g. octo-org/grants"
    )]
    InvalidRepository {
        variable: &'static str,
        value: String,
    },
    #[error(
        "--open-pr needs the branch to merge into, but the base is not a branch; pass --base BRANCH"
    )]
    NoBaseBranch,
    #[error(
        "cannot reach {forge} at {url} ({reason}); check {variable} and the network, then rerun {rerun}"
    )]
    Unreachable {
        forge: &'static str,
        url: String,
        reason: String,
        variable: &'static str,
        rerun: &'static str,
    },
    #[error("{forge} answered {status} for {method} {path}: {fix}")]
    Refused {
        forge: &'static str,
        /// The HTTP status code, for callers that explain some themselves.
        code: u16,
        status: String,
        method: &'static str,
        path: String,
        fix: String,
    },
    #[error(
        "{forge} kept announcing more pages after {pages} pages of {path}; check that the API URL points at {forge}"
    )]
    TooManyPages {
        forge: &'static str,
        path: String,
        pages: usize,
    },
    #[error(
        "{forge} answered {method} {path} with a body lapse cannot read ({reason}); check that {variable} is the API's URL"
    )]
    Unreadable {
        forge: &'static str,
        method: &'static str,
        path: String,
        reason: String,
        variable: &'static str,
    },
}

/// Opens the request, or brings the open one up to date: running twice
/// never opens a second request, and an unchanged one is not written.
pub fn publish(
    forge: &dyn Forge,
    proposal: &Proposal,
) -> Result<(PullRequest, Published), ForgeError> {
    match forge.find_open(proposal)? {
        Some(open) if open.title == proposal.title && open.body == proposal.body => {
            Ok((open, Published::Unchanged))
        }
        Some(open) => Ok((forge.update(open.number, proposal)?, Published::Updated)),
        None => Ok((forge.open(proposal)?, Published::Opened)),
    }
}

/// The forge for `lapse prune --open-pr`, from the environment (`detect`).
pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Box<dyn Forge>, ForgeError> {
    let purpose = Purpose::OpenPullRequest;
    let set = non_empty(env);
    Ok(match detect(&set, purpose)? {
        ForgeKind::GitHub => Box::new(github::GitHub::from_env(&set, purpose)?),
        ForgeKind::GitLab => Box::new(gitlab::GitLab::from_env(&set, purpose)?),
        ForgeKind::Gitea => Box::new(gitea::Gitea::from_env(&set, purpose)?),
    })
}

/// The forge named by `LAPSE_FORGE`, else the first whose CI variables are
/// set: Gitea's, GitLab's, then GitHub's. Gitea comes first because Gitea
/// and Forgejo Actions also set the `GITHUB_*` variables for compatibility.
pub fn detect(
    env: &dyn Fn(&str) -> Option<String>,
    purpose: Purpose,
) -> Result<ForgeKind, ForgeError> {
    let set = non_empty(env);
    let explicit = set("LAPSE_FORGE").map(|name| name.trim().to_lowercase());
    match explicit.as_deref() {
        Some("github") => Ok(ForgeKind::GitHub),
        Some("gitlab") => Ok(ForgeKind::GitLab),
        Some("gitea" | "forgejo") => Ok(ForgeKind::Gitea),
        Some(other) => Err(ForgeError::UnknownForge(other.to_owned())),
        None if set("GITEA_API_URL").is_some() || set("GITEA_ACTIONS").is_some() => {
            Ok(ForgeKind::Gitea)
        }
        None if set("CI_API_V4_URL").is_some() => Ok(ForgeKind::GitLab),
        None if set("GITHUB_API_URL").is_some() => Ok(ForgeKind::GitHub),
        None => Err(ForgeError::Undetected {
            needed_by: purpose.needed_by(),
        }),
    }
}

/// The environment with empty and blank variables taken as unset, as CI
/// systems set variables that a job does not use to "".
pub(crate) fn non_empty(
    env: &dyn Fn(&str) -> Option<String>,
) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| env(name).filter(|value| !value.trim().is_empty())
}

/// `owner/name` split and checked, for forges that address repositories so.
pub(crate) fn owner_and_name(
    variable: &'static str,
    value: &str,
) -> Result<(String, String), ForgeError> {
    let invalid = || ForgeError::InvalidRepository {
        variable,
        value: value.to_owned(),
    };
    let (owner, name) = value.trim().split_once('/').ok_or_else(invalid)?;
    if owner.is_empty() || name.is_empty() || name.contains('/') {
        return Err(invalid());
    }
    Ok((owner.to_owned(), name.to_owned()))
}

/// A required variable, or the error that says what it must hold.
pub(crate) fn required(
    env: &dyn Fn(&str) -> Option<String>,
    purpose: Purpose,
    forge: &'static str,
    variable: &'static str,
    what: &'static str,
) -> Result<String, ForgeError> {
    env(variable).ok_or(ForgeError::Missing {
        needed_by: purpose.needed_by(),
        forge,
        variable,
        what,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn nothing_set_says_which_variables_to_set() {
        let error = from_env(&env_of(&[])).err().unwrap();
        assert!(error.to_string().contains("GITHUB_TOKEN"), "{error}");
    }

    #[test]
    fn a_missing_token_names_the_variable() {
        let env = env_of(&[
            ("GITHUB_API_URL", "https://api.github.com"),
            ("GITHUB_REPOSITORY", "octo/grants"),
        ]);
        let error = from_env(&env).err().unwrap().to_string();
        assert!(error.contains("needs GITHUB_TOKEN"), "{error}");
    }

    #[test]
    fn repositories_must_be_owner_slash_name() {
        assert!(owner_and_name("GITHUB_REPOSITORY", "octo/grants").is_ok());
        for bad in ["octo", "/grants", "octo/", "a/b/c"] {
            assert!(owner_and_name("GITHUB_REPOSITORY", bad).is_err(), "{bad}");
        }
    }
}
