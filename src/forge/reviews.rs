//! A pull request's reviews, normalised across forges, for
//! `approvals.evidence: forge-review`: which accounts approve the pull
//! request, and which commit each approved.
//!
//! Only each reviewer's latest decisive review counts. An approval that was
//! later dismissed, or followed by a request for changes, does not; a
//! comment leaves an earlier approval standing (as the forges' own merge
//! rules do). Whether an approval is of the head commit is part of the
//! answer: an approval of an older commit is stale.
//!
//! A forge that cannot be asked, or answers with an error, is an error
//! with the fix, never an empty list: no review read must never look like
//! "nobody approved" or, worse, be mistaken for an answer at all.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ForgeError, ForgeKind, Purpose, detect, gitea, github, gitlab, non_empty};

/// What the forge says about a pull request's approvals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullReviews {
    pub forge: ForgeKind,
    /// GitHub and Gitea number, GitLab iid.
    pub number: u64,
    /// The pull request's head commit as the forge sees it now.
    pub head_sha: String,
    /// One entry per account whose latest decisive review approves,
    /// ordered by login.
    pub approvals: Vec<ReviewApproval>,
}

/// An account's standing approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewApproval {
    /// The forge login (GitHub, Gitea) or user name (GitLab), as the forge
    /// spells it; compare without regard to case, as the forges do.
    pub login: String,
    /// The commit the review approved.
    pub commit_sha: String,
    /// Whether it approves the head commit: the commit is the head and the
    /// forge does not call the review stale.
    pub of_head: bool,
}

impl PullReviews {
    /// Builds the answer from a forge's reviews in any order: per account,
    /// the decisive review with the highest `order` (the forge's review id,
    /// which grows with time) decides.
    pub fn from_reviews(
        forge: ForgeKind,
        number: u64,
        head_sha: String,
        reviews: impl IntoIterator<Item = Review>,
    ) -> Self {
        let mut latest: BTreeMap<String, Review> = BTreeMap::new();
        for review in reviews {
            let Some(login) = review.login.as_deref().map(str::trim) else {
                continue;
            };
            if login.is_empty() || review.decision == Decision::Neutral {
                continue;
            }
            let key = login.to_lowercase();
            if latest
                .get(&key)
                .is_none_or(|kept| kept.order < review.order)
            {
                latest.insert(key, review);
            }
        }
        let approvals = latest
            .into_values()
            .filter(|review| review.decision == Decision::Approved)
            .map(|review| ReviewApproval {
                of_head: review.commit_sha == head_sha && !review.stale,
                login: review.login.unwrap_or_default().trim().to_owned(),
                commit_sha: review.commit_sha,
            })
            .collect();
        Self {
            forge,
            number,
            head_sha,
            approvals,
        }
    }

    /// The approvals of the head commit; the others are stale.
    pub fn approvals_of_head(&self) -> impl Iterator<Item = &ReviewApproval> {
        self.approvals.iter().filter(|approval| approval.of_head)
    }

    /// The standing approval by `login`, of the head or not.
    pub fn approval_by(&self, login: &str) -> Option<&ReviewApproval> {
        let login = login.trim();
        self.approvals
            .iter()
            .find(|approval| approval.login.eq_ignore_ascii_case(login))
    }
}

/// One review as a forge lists it, before the latest per account is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// Orders one account's reviews: later reviews are higher.
    pub order: u64,
    /// `None` for a deleted account or a team.
    pub login: Option<String>,
    pub decision: Decision,
    pub commit_sha: String,
    /// The forge says the review is of a commit that is no longer the head.
    pub stale: bool,
}

/// What a review says about the reviewer's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approved,
    /// Changes requested, or the approval dismissed: no approval stands.
    Withdrawn,
    /// A comment or a pending review: the earlier decision stands.
    Neutral,
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(transparent)]
    Forge(#[from] ForgeError),
    #[error(
        "approvals.evidence: forge-review needs the pull request's number: pass --pr N, or run on a pull_request event (GitHub and Gitea Actions name it in the file at GITHUB_EVENT_PATH; GitLab CI sets CI_MERGE_REQUEST_IID in merge request pipelines)"
    )]
    NoPullRequest,
    #[error(
        "cannot read the event file {} that GITHUB_EVENT_PATH names ({reason}); pass --pr N",
        .path.display()
    )]
    EventUnreadable { path: PathBuf, reason: String },
    #[error(
        "the event in {} is not about a pull request (it has no pull_request.number); run the check on pull_request events, or pass --pr N",
        .path.display()
    )]
    EventWithoutPullRequest { path: PathBuf },
    #[error("{variable}={value} is not a merge request number; pass --pr N")]
    InvalidNumber {
        variable: &'static str,
        value: String,
    },
    #[error(
        "GitLab keeps approvals when commits are pushed to project {project}, so an approval may be of an older commit; enable \"Remove all approvals when commits are added to the source branch\" (Settings > Merge requests > Approval settings), or use approvals.evidence: signed-commit"
    )]
    GitLabKeepsApprovals { project: String },
    #[error(
        "GitLab answered {status} for GET {path}: lapse reads that setting to tie approvals to the head commit; give the token the Maintainer role (the setting and its API are in GitLab Premium and Ultimate; on GitLab Free, use approvals.evidence: signed-commit)"
    )]
    GitLabSettingUnreadable { status: String, path: String },
}

/// The largest event file read: GitHub caps webhook payloads at 25 MB
/// (https://docs.github.com/en/webhooks/webhook-events-and-payloads).
const MAX_EVENT_BYTES: u64 = 25 * 1024 * 1024;

/// Reads the reviews of the pull request `pr` (else the one the CI job
/// runs for) from the forge the environment names, configured as for
/// `lapse prune --open-pr` (see `forge::detect`).
pub fn read_reviews(
    env: &dyn Fn(&str) -> Option<String>,
    pr: Option<u64>,
) -> Result<PullReviews, ReviewError> {
    let purpose = Purpose::ReadReviews;
    let env = non_empty(env);
    let forge = detect(&env, purpose)?;
    let number = match pr {
        Some(number) => number,
        None => pull_request_number(&env, forge)?,
    };
    match forge {
        ForgeKind::GitHub => Ok(github::GitHub::from_env(&env, purpose)?.pull_reviews(number)?),
        ForgeKind::Gitea => Ok(gitea::Gitea::from_env(&env, purpose)?.pull_reviews(number)?),
        ForgeKind::GitLab => gitlab::GitLab::from_env(&env, purpose)?.pull_reviews(number),
    }
}

/// The pull request a CI job runs for: GitLab's `CI_MERGE_REQUEST_IID`,
/// else `pull_request.number` in the event file at `GITHUB_EVENT_PATH`
/// (GitHub Actions, and Gitea and Forgejo Actions, which write the same).
fn pull_request_number(
    env: &dyn Fn(&str) -> Option<String>,
    forge: ForgeKind,
) -> Result<u64, ReviewError> {
    if forge == ForgeKind::GitLab {
        let value = env("CI_MERGE_REQUEST_IID").ok_or(ReviewError::NoPullRequest)?;
        return value
            .trim()
            .parse()
            .map_err(|_| ReviewError::InvalidNumber {
                variable: "CI_MERGE_REQUEST_IID",
                value,
            });
    }
    let path = PathBuf::from(env("GITHUB_EVENT_PATH").ok_or(ReviewError::NoPullRequest)?);
    let unreadable = |reason: String| ReviewError::EventUnreadable {
        path: path.clone(),
        reason,
    };
    let mut text = String::new();
    std::fs::File::open(&path)
        .and_then(|file| file.take(MAX_EVENT_BYTES).read_to_string(&mut text))
        .map_err(|error| unreadable(error.to_string()))?;
    number_in_event(&text)
        .map_err(unreadable)?
        .ok_or(ReviewError::EventWithoutPullRequest { path })
}

/// `pull_request.number` of an event payload, present in `pull_request`,
/// `pull_request_target` and `pull_request_review` events.
fn number_in_event(text: &str) -> Result<Option<u64>, String> {
    #[derive(Deserialize)]
    struct Event {
        pull_request: Option<EventPull>,
    }
    #[derive(Deserialize)]
    struct EventPull {
        number: u64,
    }
    let event: Event = serde_json::from_str(text).map_err(|error| error.to_string())?;
    Ok(event.pull_request.map(|pull| pull.number))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "bbbb";

    fn review(order: u64, login: &str, decision: Decision, commit: &str) -> Review {
        Review {
            order,
            login: Some(login.to_owned()),
            decision,
            commit_sha: commit.to_owned(),
            stale: false,
        }
    }

    fn approvals(reviews: Vec<Review>) -> Vec<(String, bool)> {
        PullReviews::from_reviews(ForgeKind::GitHub, 7, HEAD.to_owned(), reviews)
            .approvals
            .into_iter()
            .map(|approval| (approval.login, approval.of_head))
            .collect()
    }

    #[test]
    fn the_latest_decisive_review_of_each_account_decides() {
        let reviews = vec![
            review(1, "maria", Decision::Approved, HEAD),
            review(2, "maria", Decision::Neutral, HEAD),
            review(3, "li", Decision::Approved, HEAD),
            review(4, "LI", Decision::Withdrawn, HEAD),
            review(5, "sam", Decision::Withdrawn, "aaaa"),
            review(6, "sam", Decision::Approved, HEAD),
        ];
        assert_eq!(
            approvals(reviews),
            [("maria".to_owned(), true), ("sam".to_owned(), true)]
        );
    }

    #[test]
    fn reviews_are_ordered_by_their_order_not_by_the_list() {
        let reviews = vec![
            review(9, "li", Decision::Withdrawn, HEAD),
            review(3, "li", Decision::Approved, HEAD),
        ];
        assert!(approvals(reviews).is_empty());
    }

    #[test]
    fn an_approval_of_an_older_or_stale_commit_is_not_of_the_head() {
        let mut stale = review(2, "li", Decision::Approved, HEAD);
        stale.stale = true;
        let reviews = vec![review(1, "maria", Decision::Approved, "aaaa"), stale];
        assert_eq!(
            approvals(reviews),
            [("li".to_owned(), false), ("maria".to_owned(), false)]
        );
    }

    #[test]
    fn reviews_without_an_account_are_ignored() {
        let mut ghost = review(1, "", Decision::Approved, HEAD);
        ghost.login = None;
        assert!(approvals(vec![ghost, review(2, " ", Decision::Approved, HEAD)]).is_empty());
    }

    #[test]
    fn the_event_file_names_the_pull_request() {
        assert_eq!(
            number_in_event(r#"{"action":"opened","number":5,"pull_request":{"number":5}}"#),
            Ok(Some(5))
        );
        assert_eq!(number_in_event(r#"{"ref":"refs/heads/main"}"#), Ok(None));
        assert!(number_in_event("not json").is_err());
    }
}
