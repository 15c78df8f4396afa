//! `lapse prune --push origin --open-pr` against a real bare remote and a
//! fake GitHub and GitLab on 127.0.0.1: what is asked of the forge, with
//! which credentials, and that reruns converge on one pull request.

use crate::common::Run;
use crate::prune_support;

use prune_support::forge::{FakeForge, Flavour, Recorded};
use prune_support::{Fixture, LATER, NOW};
use serde_json::json;

fn prune(fixture: &Fixture, now: &str, env: &[(&str, String)]) -> Run {
    fixture.lapse(
        &["prune", "--now", now, "--push", "origin", "--open-pr"],
        env,
    )
}

fn calls(requests: &[Recorded]) -> Vec<String> {
    requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[test]
fn github_opens_one_pull_request_with_a_table_of_removed_grants() {
    let fixture = Fixture::new();
    let forge = FakeForge::start(Flavour::GitHub);
    let output = prune(&fixture, NOW, &forge.github_env());
    assert_eq!(output.code, Some(0), "{}", output.stderr);

    let requests = forge.requests();
    assert_eq!(
        calls(&requests),
        [
            "GET /repos/octo/grants/pulls",
            "POST /repos/octo/grants/pulls"
        ]
    );
    let lookup = &requests[0];
    assert_eq!(lookup.query["state"], "open");
    assert_eq!(lookup.query["head"], "octo:lapse/prune");
    assert_eq!(lookup.query["base"], "main");
    let create = &requests[1];
    assert_eq!(create.authorization.as_deref(), Some("Bearer ghs_test"));
    assert_eq!(create.body["title"], "Remove 2 expired grants");
    assert_eq!(create.body["head"], "lapse/prune");
    assert_eq!(create.body["base"], "main");
    let body = create.body["body"].as_str().unwrap();
    assert!(
        body.contains("| Grant | Subject | Role | Ended | Why | Approvers |"),
        "{body}"
    );
    assert!(
        body.contains("| sam-read | sam\\@example.com | deployer | 2026-12-08T23:00:00Z | expired | maria\\@example.com |"),
        "{body}"
    );
    assert!(body.contains("| old-deploy |"), "{body}");
    assert!(!body.contains("current-deploy"), "{body}");
    // The branch the pull request names exists on the remote.
    assert_eq!(
        fixture.origin_rev("lapse/prune"),
        Some(fixture.rev("lapse/prune"))
    );
    assert!(
        output
            .stdout
            .contains("Opened pull request #1 https://github.test/octo/grants/pull/1"),
        "{}",
        output.stdout
    );
}

#[test]
fn github_rerun_opens_no_second_pull_request() {
    let fixture = Fixture::new();
    let forge = FakeForge::start(Flavour::GitHub);
    assert_eq!(prune(&fixture, NOW, &forge.github_env()).code, Some(0));
    forge.clear_requests();

    let output = prune(&fixture, NOW, &forge.github_env());
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(calls(&forge.requests()), ["GET /repos/octo/grants/pulls"]);
    assert_eq!(forge.pulls().len(), 1);
    assert!(
        output.stdout.contains("Pull request is up to date: #1"),
        "{}",
        output.stdout
    );
}

#[test]
fn github_new_expiries_update_the_open_pull_request() {
    let fixture = Fixture::new();
    let forge = FakeForge::start(Flavour::GitHub);
    assert_eq!(prune(&fixture, NOW, &forge.github_env()).code, Some(0));
    let first = fixture.origin_rev("lapse/prune");
    forge.clear_requests();

    let output = prune(&fixture, LATER, &forge.github_env());
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let requests = forge.requests();
    assert_eq!(
        calls(&requests),
        [
            "GET /repos/octo/grants/pulls",
            "PATCH /repos/octo/grants/pulls/1"
        ]
    );
    assert_eq!(requests[1].body["title"], "Remove 3 expired grants");
    assert!(
        requests[1].body["body"]
            .as_str()
            .unwrap()
            .contains("current-deploy")
    );
    assert_eq!(forge.pulls().len(), 1);
    assert_ne!(fixture.origin_rev("lapse/prune"), first);
    assert!(
        output.stdout.contains("Updated pull request #1"),
        "{}",
        output.stdout
    );
}

#[test]
fn github_500_fails_in_one_line_and_a_rerun_opens_the_pull_request() {
    let fixture = Fixture::new();
    let forge = FakeForge::start(Flavour::GitHub);
    forge.fail_next("POST", 500);
    let output = prune(&fixture, NOW, &forge.github_env());
    assert_eq!(output.code, Some(2));
    assert_eq!(
        output.stderr.trim(),
        "error: GitHub answered 500 Internal Server Error for POST /repos/octo/grants/pulls: GitHub failed on its side; rerun lapse prune later"
    );
    assert!(forge.pulls().is_empty());

    let output = prune(&fixture, NOW, &forge.github_env());
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(forge.pulls().len(), 1);
}

#[test]
fn github_401_names_the_token_to_fix() {
    let fixture = Fixture::new();
    let forge = FakeForge::start(Flavour::GitHub);
    forge.fail_next("GET", 401);
    let output = prune(&fixture, NOW, &forge.github_env());
    assert_eq!(output.code, Some(2));
    assert_eq!(
        output.stderr.trim(),
        "error: GitHub answered 401 Unauthorized for GET /repos/octo/grants/pulls: check GITHUB_TOKEN is valid and has pull-requests: write"
    );
}

#[test]
fn github_404_names_the_repository_variable() {
    let fixture = Fixture::new();
    let forge = FakeForge::start(Flavour::GitHub);
    let mut env = forge.github_env();
    env.retain(|(name, _)| *name != "GITHUB_REPOSITORY");
    env.push(("GITHUB_REPOSITORY", "octo/typo".to_owned()));
    let output = prune(&fixture, NOW, &env);
    assert_eq!(output.code, Some(2));
    let error = output.stderr;
    assert!(
        error.contains("404 Not Found for GET /repos/octo/typo/pulls: check GITHUB_REPOSITORY"),
        "{error}"
    );
}

#[test]
fn github_422_passes_on_the_forge_explanation() {
    let fixture = Fixture::new();
    let forge = FakeForge::start(Flavour::GitHub);
    forge.fail_next("POST", 422);
    let output = prune(&fixture, NOW, &forge.github_env());
    assert_eq!(output.code, Some(2));
    assert_eq!(
        output.stderr.trim(),
        "error: GitHub answered 422 Unprocessable Entity for POST /repos/octo/grants/pulls: GitHub said: injected failure"
    );
}

#[test]
fn a_refused_connection_names_the_url_variable() {
    let fixture = Fixture::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let env = [
        ("GITHUB_API_URL", url.clone()),
        ("GITHUB_TOKEN", "ghs_test".to_owned()),
        ("GITHUB_REPOSITORY", "octo/grants".to_owned()),
    ];
    let output = fixture.lapse(
        &["prune", "--now", NOW, "--push", "origin", "--open-pr"],
        &env,
    );
    assert_eq!(output.code, Some(2));
    let error = output.stderr;
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(
        error.starts_with(&format!("error: cannot reach GitHub at {url} (")),
        "{error}"
    );
    assert!(
        error.contains("check GITHUB_API_URL and the network"),
        "{error}"
    );
}

#[test]
fn nothing_expired_opens_nothing() {
    let fixture = Fixture::new();
    let forge = FakeForge::start(Flavour::GitHub);
    let output = prune(&fixture, "2026-11-01T00:00:00Z", &forge.github_env());
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert!(forge.requests().is_empty());
    assert_eq!(fixture.origin_rev("lapse/prune"), None);
}

#[test]
fn dry_run_makes_no_request() {
    let fixture = Fixture::new();
    let forge = FakeForge::start(Flavour::GitHub);
    let output = fixture.lapse(
        &[
            "prune",
            "--now",
            NOW,
            "--push",
            "origin",
            "--open-pr",
            "--dry-run",
        ],
        &forge.github_env(),
    );
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert!(forge.requests().is_empty());
    assert_eq!(fixture.origin_rev("lapse/prune"), None);
}

#[test]
fn gitlab_opens_one_merge_request_and_updates_it() {
    let fixture = Fixture::new();
    let forge = FakeForge::start(Flavour::GitLab);
    let output = prune(&fixture, NOW, &forge.gitlab_env());
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let requests = forge.requests();
    assert_eq!(
        calls(&requests),
        [
            "GET /api/v4/projects/42/merge_requests",
            "POST /api/v4/projects/42/merge_requests"
        ]
    );
    assert_eq!(requests[0].query["state"], "opened");
    assert_eq!(requests[0].query["source_branch"], "lapse/prune");
    assert_eq!(requests[0].query["target_branch"], "main");
    let create = &requests[1];
    assert_eq!(create.private_token.as_deref(), Some("glpat-test"));
    assert_eq!(create.authorization, None);
    assert_eq!(create.body["source_branch"], json!("lapse/prune"));
    assert_eq!(create.body["target_branch"], json!("main"));
    assert_eq!(create.body["remove_source_branch"], json!(true));
    assert!(
        create.body["description"]
            .as_str()
            .unwrap()
            .contains("| old-deploy |")
    );

    forge.clear_requests();
    assert_eq!(prune(&fixture, NOW, &forge.gitlab_env()).code, Some(0));
    assert_eq!(
        calls(&forge.requests()),
        ["GET /api/v4/projects/42/merge_requests"]
    );

    forge.clear_requests();
    let output = prune(&fixture, LATER, &forge.gitlab_env());
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let requests = forge.requests();
    assert_eq!(
        calls(&requests),
        [
            "GET /api/v4/projects/42/merge_requests",
            "PUT /api/v4/projects/42/merge_requests/1"
        ]
    );
    assert!(
        requests[1].body["description"]
            .as_str()
            .unwrap()
            .contains("current-deploy")
    );
    assert_eq!(forge.pulls().len(), 1);
}

#[test]
fn gitlab_without_a_token_names_the_variable_before_writing_anything() {
    let fixture = Fixture::new();
    let forge = FakeForge::start(Flavour::GitLab);
    let mut env = forge.gitlab_env();
    env.retain(|(name, _)| *name != "LAPSE_GITLAB_TOKEN");
    let output = prune(&fixture, NOW, &env);
    assert_eq!(output.code, Some(2));
    assert!(
        output
            .stderr
            .contains("--open-pr on GitLab needs LAPSE_GITLAB_TOKEN"),
        "{}",
        output.stderr
    );
    assert_eq!(fixture.origin_rev("lapse/prune"), None);
    assert!(forge.requests().is_empty());
}

#[test]
fn gitea_opens_one_pull_request_and_updates_it() {
    let fixture = Fixture::new();
    let forge = FakeForge::start(Flavour::Gitea);
    let output = prune(&fixture, NOW, &forge.gitea_env());
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let requests = forge.requests();
    assert_eq!(
        calls(&requests),
        [
            "GET /api/v1/repos/octo/grants/pulls",
            "POST /api/v1/repos/octo/grants/pulls"
        ]
    );
    assert_eq!(requests[0].query["state"], "open");
    let create = &requests[1];
    assert_eq!(create.authorization.as_deref(), Some("token gitea-test"));
    assert_eq!(create.body["head"], "lapse/prune");
    assert_eq!(create.body["base"], "main");

    forge.clear_requests();
    assert_eq!(prune(&fixture, NOW, &forge.gitea_env()).code, Some(0));
    assert_eq!(
        calls(&forge.requests()),
        ["GET /api/v1/repos/octo/grants/pulls"]
    );

    forge.clear_requests();
    assert_eq!(prune(&fixture, LATER, &forge.gitea_env()).code, Some(0));
    assert_eq!(
        calls(&forge.requests()),
        [
            "GET /api/v1/repos/octo/grants/pulls",
            "PATCH /api/v1/repos/octo/grants/pulls/1"
        ]
    );
    assert_eq!(forge.pulls().len(), 1);
}

/// A fork's request from a branch named like lapse's, as anyone who can fork
/// the repository may open to have lapse's trusted text written onto it.
fn add_decoy(forge: &FakeForge) {
    forge.add_fork_pull(
        "mallory",
        "lapse/prune",
        "Add mallory to payments-leads",
        "Routine change",
    );
}

/// The decoy kept its own words, and lapse opened a request of its own.
fn assert_decoy_untouched_and_own_opened(forge: &FakeForge) {
    let pulls = forge.pulls();
    assert_eq!(pulls.len(), 2, "{pulls:?}");
    assert_eq!(pulls[0].title, "Add mallory to payments-leads");
    assert_eq!(pulls[0].body, "Routine change");
    assert_eq!(pulls[1].fork, None);
    assert_eq!(pulls[1].title, "Remove 2 expired grants");
}

#[test]
fn github_leaves_a_forks_pull_request_alone() {
    let fixture = Fixture::new();
    let forge = FakeForge::start(Flavour::GitHub);
    add_decoy(&forge);
    let output = prune(&fixture, NOW, &forge.github_env());
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_decoy_untouched_and_own_opened(&forge);
}

#[test]
fn gitlab_leaves_a_forks_merge_request_alone_and_finds_its_own_on_rerun() {
    let fixture = Fixture::new();
    let forge = FakeForge::start(Flavour::GitLab);
    add_decoy(&forge);
    let output = prune(&fixture, NOW, &forge.gitlab_env());
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(
        calls(&forge.requests()),
        [
            "GET /api/v4/projects/42/merge_requests",
            "POST /api/v4/projects/42/merge_requests"
        ]
    );
    assert_decoy_untouched_and_own_opened(&forge);
    assert!(
        output.stdout.contains("Opened pull request #2 "),
        "{}",
        output.stdout
    );

    forge.clear_requests();
    let output = prune(&fixture, NOW, &forge.gitlab_env());
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(
        calls(&forge.requests()),
        ["GET /api/v4/projects/42/merge_requests"]
    );
    assert!(
        output.stdout.contains("Pull request is up to date: #2"),
        "{}",
        output.stdout
    );
}

#[test]
fn gitlab_project_path_is_resolved_once_to_the_project_id() {
    let fixture = Fixture::new();
    let forge = FakeForge::start(Flavour::GitLab);
    add_decoy(&forge);
    let mut env = forge.gitlab_env();
    env.retain(|(name, _)| *name != "CI_PROJECT_ID");
    env.push(("CI_PROJECT_ID", "octo/grants".to_owned()));
    let output = prune(&fixture, NOW, &env);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(
        calls(&forge.requests()),
        [
            "GET /api/v4/projects/octo%2Fgrants",
            "GET /api/v4/projects/42/merge_requests",
            "POST /api/v4/projects/42/merge_requests"
        ]
    );
    assert_decoy_untouched_and_own_opened(&forge);
}

#[test]
fn gitea_leaves_a_forks_pull_request_alone_and_finds_its_own_on_rerun() {
    let fixture = Fixture::new();
    let forge = FakeForge::start(Flavour::Gitea);
    add_decoy(&forge);
    let output = prune(&fixture, NOW, &forge.gitea_env());
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(
        calls(&forge.requests()),
        [
            "GET /api/v1/repos/octo/grants/pulls",
            "POST /api/v1/repos/octo/grants/pulls"
        ]
    );
    assert_decoy_untouched_and_own_opened(&forge);

    forge.clear_requests();
    let output = prune(&fixture, NOW, &forge.gitea_env());
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(
        calls(&forge.requests()),
        ["GET /api/v1/repos/octo/grants/pulls"]
    );
}

#[test]
fn credentials_in_the_api_url_are_never_printed() {
    let fixture = Fixture::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let env = [
        (
            "GITHUB_API_URL",
            format!("http://lapse:ghp_apisecret@{address}"),
        ),
        ("GITHUB_TOKEN", "ghs_test".to_owned()),
        ("GITHUB_REPOSITORY", "octo/grants".to_owned()),
    ];
    let output = prune(&fixture, NOW, &env);
    assert_eq!(output.code, Some(2));
    let error = output.stderr;
    assert!(
        error.starts_with(&format!(
            "error: cannot reach GitHub at http://***@{address} ("
        )),
        "{error}"
    );
    assert!(!error.contains("ghp_apisecret"), "{error}");
}
