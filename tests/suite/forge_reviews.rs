//! Reading a pull request's reviews for `approvals.evidence: forge-review`
//! from fake GitHub, GitLab and Gitea servers on 127.0.0.1 that page and
//! shape their answers as the real APIs do. No command reads reviews yet
//! (`lapse check --pr N` will), so these tests call the library function
//! the command is to call, with the environment a CI job would have.

use std::collections::BTreeMap;

use lapse::forge::ForgeKind;
use lapse::forge::reviews::{PullReviews, ReviewError, read_reviews};

use crate::prune_support::forge::{FakeForge, Flavour, HEAD_SHA, REVIEWED_PULL, Recorded};

const OLD_SHA: &str = "01d01d01d01d01d01d01d01d01d01d01d01d01d0";

fn read(env: &[(&'static str, String)], pr: Option<u64>) -> Result<PullReviews, ReviewError> {
    let env: BTreeMap<&str, String> = env.iter().cloned().collect();
    read_reviews(&|name| env.get(name).cloned(), pr)
}

fn calls(requests: &[Recorded]) -> Vec<String> {
    requests
        .iter()
        .map(|r| {
            let query: Vec<String> = r.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{} {}?{}", r.method, r.path, query.join("&"))
        })
        .collect()
}

fn approvals(reviews: &PullReviews) -> Vec<(&str, &str, bool)> {
    reviews
        .approvals
        .iter()
        .map(|a| (a.login.as_str(), a.commit_sha.as_str(), a.of_head))
        .collect()
}

/// Reviews a busy pull request collects on GitHub: a bot's comments fill
/// the first page, and the decisions of four people follow.
fn busy_github_pull(forge: &FakeForge) {
    for _ in 0..110 {
        forge.add_review("ci-bot", "COMMENTED", HEAD_SHA);
    }
    // Maria approves the head, then comments: her approval stands.
    forge.add_review("maria-gh", "APPROVED", HEAD_SHA);
    forge.add_review("maria-gh", "COMMENTED", HEAD_SHA);
    // Li's approval is dismissed later: GitHub lists it as DISMISSED.
    forge.add_review("li-gh", "APPROVED", HEAD_SHA);
    forge.edit_last_review(|review| review.state = "DISMISSED".into());
    // Sam approves, then asks for changes.
    forge.add_review("sam-gh", "APPROVED", HEAD_SHA);
    forge.add_review("sam-gh", "CHANGES_REQUESTED", HEAD_SHA);
    // Alex approved a commit that is no longer the head.
    forge.add_review("alex-gh", "APPROVED", OLD_SHA);
}

#[test]
fn github_reads_every_page_and_keeps_each_reviewers_latest_decision() {
    let forge = FakeForge::start(Flavour::GitHub);
    busy_github_pull(&forge);
    let reviews = read(&forge.github_env(), Some(REVIEWED_PULL)).unwrap();

    assert_eq!(reviews.forge, ForgeKind::GitHub);
    assert_eq!(reviews.number, REVIEWED_PULL);
    assert_eq!(reviews.head_sha, HEAD_SHA);
    assert_eq!(
        approvals(&reviews),
        [("alex-gh", OLD_SHA, false), ("maria-gh", HEAD_SHA, true)]
    );
    let of_head: Vec<&str> = reviews
        .approvals_of_head()
        .map(|a| a.login.as_str())
        .collect();
    assert_eq!(of_head, ["maria-gh"]);
    assert!(reviews.approval_by("MARIA-GH").is_some_and(|a| a.of_head));

    let requests = forge.requests();
    assert_eq!(
        calls(&requests),
        [
            "GET /repos/octo/grants/pulls/7?",
            "GET /repos/octo/grants/pulls/7/reviews?page=1&per_page=100",
            "GET /repos/octo/grants/pulls/7/reviews?page=2&per_page=100",
        ]
    );
    assert!(
        requests
            .iter()
            .all(|r| r.authorization.as_deref() == Some("Bearer ghs_test"))
    );
}

#[test]
fn github_the_pull_request_comes_from_the_event_file_unless_given() {
    let forge = FakeForge::start(Flavour::GitHub);
    forge.add_review("maria-gh", "APPROVED", HEAD_SHA);
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        r#"{"action":"synchronize","number":7,"pull_request":{"number":7,"head":{"sha":"x"}}}"#,
    )
    .unwrap();
    let mut env = forge.github_env();
    env.push(("GITHUB_EVENT_PATH", event.display().to_string()));

    let reviews = read(&env, None).unwrap();
    assert_eq!(reviews.number, 7);
    assert_eq!(approvals(&reviews), [("maria-gh", HEAD_SHA, true)]);

    // --pr overrides the event: pull request 8 does not exist on the fake.
    let error = read(&env, Some(8)).unwrap_err().to_string();
    assert!(
        error.starts_with("GitHub answered 404 Not Found for GET /repos/octo/grants/pulls/8:"),
        "{error}"
    );

    std::fs::write(&event, r#"{"ref":"refs/heads/main","after":"abc"}"#).unwrap();
    let error = read(&env, None).unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "the event in {} is not about a pull request (it has no pull_request.number); run the check on pull_request events, or pass --pr N",
            event.display()
        )
    );

    let error = read(&forge.github_env(), None).unwrap_err().to_string();
    assert!(
        error.starts_with(
            "approvals.evidence: forge-review needs the pull request's number: pass --pr N"
        ),
        "{error}"
    );
}

#[test]
fn github_500_is_an_error_with_the_fix_never_an_empty_list() {
    let forge = FakeForge::start(Flavour::GitHub);
    forge.add_review("maria-gh", "APPROVED", HEAD_SHA);
    forge.fail_next_at("GET", "/repos/octo/grants/pulls/7/reviews", 500);
    let error = read(&forge.github_env(), Some(REVIEWED_PULL))
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "GitHub answered 500 Internal Server Error for GET /repos/octo/grants/pulls/7/reviews: GitHub failed on its side; rerun lapse check later"
    );

    forge.fail_next_at("GET", "/repos/octo/grants/pulls/7", 403);
    let error = read(&forge.github_env(), Some(REVIEWED_PULL))
        .unwrap_err()
        .to_string();
    assert!(
        error.ends_with("check GITHUB_TOKEN is valid and has pull-requests: read"),
        "{error}"
    );

    let mut env = forge.github_env();
    env.retain(|(name, _)| *name != "GITHUB_TOKEN");
    let error = read(&env, Some(REVIEWED_PULL)).unwrap_err().to_string();
    assert_eq!(
        error,
        "approvals.evidence: forge-review on GitHub needs GITHUB_TOKEN: a token with pull-requests: read"
    );
}

#[test]
fn gitea_reads_pages_by_total_count_and_respects_stale_and_dismissed() {
    let forge = FakeForge::start(Flavour::Gitea);
    for _ in 0..55 {
        forge.add_review("ci-bot", "COMMENT", HEAD_SHA);
    }
    forge.add_review("maria", "APPROVED", HEAD_SHA);
    forge.add_review("li", "APPROVED", HEAD_SHA);
    forge.edit_last_review(|review| review.dismissed = true);
    // Gitea marks a review stale once a new commit is pushed.
    forge.add_review("sam", "APPROVED", OLD_SHA);
    forge.edit_last_review(|review| review.stale = true);
    forge.add_review("alex", "APPROVED", HEAD_SHA);
    forge.add_review("alex", "REQUEST_CHANGES", HEAD_SHA);

    let reviews = read(&forge.gitea_env(), Some(REVIEWED_PULL)).unwrap();
    assert_eq!(reviews.forge, ForgeKind::Gitea);
    assert_eq!(
        approvals(&reviews),
        [("maria", HEAD_SHA, true), ("sam", OLD_SHA, false)]
    );
    assert_eq!(
        calls(&forge.requests()),
        [
            "GET /api/v1/repos/octo/grants/pulls/7?",
            "GET /api/v1/repos/octo/grants/pulls/7/reviews?limit=50&page=1",
            "GET /api/v1/repos/octo/grants/pulls/7/reviews?limit=50&page=2",
        ]
    );
}

#[test]
fn gitea_500_is_an_error() {
    let forge = FakeForge::start(Flavour::Gitea);
    forge.fail_next_at("GET", "/api/v1/repos/octo/grants/pulls/7/reviews", 502);
    let error = read(&forge.gitea_env(), Some(REVIEWED_PULL))
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "Gitea answered 502 Bad Gateway for GET /repos/octo/grants/pulls/7/reviews: Gitea failed on its side; rerun lapse check later"
    );
}

fn gitlab_merge_request_env(forge: &FakeForge) -> Vec<(&'static str, String)> {
    let mut env = forge.gitlab_env();
    env.push(("CI_MERGE_REQUEST_IID", REVIEWED_PULL.to_string()));
    env
}

#[test]
fn gitlab_approvals_are_of_the_head_when_pushes_remove_them() {
    let forge = FakeForge::start(Flavour::GitLab);
    forge.set_gitlab_approvals(&["maria-gl", "li-gl"], Some(false));
    let reviews = read(&gitlab_merge_request_env(&forge), None).unwrap();
    assert_eq!(reviews.forge, ForgeKind::GitLab);
    assert_eq!(reviews.number, REVIEWED_PULL);
    assert_eq!(
        approvals(&reviews),
        [("li-gl", HEAD_SHA, true), ("maria-gl", HEAD_SHA, true)]
    );
    let requests = forge.requests();
    assert_eq!(
        calls(&requests),
        [
            "GET /api/v4/projects/42/merge_request_approval_setting?",
            "GET /api/v4/projects/42/merge_requests/7?",
            "GET /api/v4/projects/42/merge_requests/7/approvals?",
        ]
    );
    assert!(
        requests
            .iter()
            .all(|r| r.private_token.as_deref() == Some("glpat-test"))
    );
}

#[test]
fn gitlab_refuses_when_approvals_survive_pushes() {
    let forge = FakeForge::start(Flavour::GitLab);
    forge.set_gitlab_approvals(&["maria-gl"], Some(true));
    let error = read(&gitlab_merge_request_env(&forge), None)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("GitLab keeps approvals when commits are pushed to project 42, so an approval may be of an older commit; enable \"Remove all approvals when commits are added to the source branch\""),
        "{error}"
    );
    // Nothing about the merge request was read or taken for an answer.
    assert_eq!(forge.requests().len(), 1);
}

#[test]
fn gitlab_refuses_when_the_setting_cannot_be_read() {
    let forge = FakeForge::start(Flavour::GitLab);
    forge.set_gitlab_approvals(&["maria-gl"], None);
    let error = read(&gitlab_merge_request_env(&forge), None)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("GitLab answered 404 Not Found for GET /projects/42/merge_request_approval_setting: lapse reads that setting to tie approvals to the head commit;"),
        "{error}"
    );
    assert!(error.contains("signed-commit"), "{error}");
}

#[test]
fn gitlab_500_and_a_missing_merge_request_are_errors() {
    let forge = FakeForge::start(Flavour::GitLab);
    forge.set_gitlab_approvals(&["maria-gl"], Some(false));
    forge.fail_next_at("GET", "/api/v4/projects/42/merge_requests/7/approvals", 500);
    let error = read(&gitlab_merge_request_env(&forge), None)
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "GitLab answered 500 Internal Server Error for GET /projects/42/merge_requests/7/approvals: GitLab failed on its side; rerun lapse check later"
    );

    let error = read(&forge.gitlab_env(), None).unwrap_err().to_string();
    assert!(
        error.starts_with("approvals.evidence: forge-review needs the pull request's number"),
        "{error}"
    );
    let mut env = forge.gitlab_env();
    env.push(("CI_MERGE_REQUEST_IID", "seven".to_owned()));
    let error = read(&env, None).unwrap_err().to_string();
    assert_eq!(
        error,
        "CI_MERGE_REQUEST_IID=seven is not a merge request number; pass --pr N"
    );
}
