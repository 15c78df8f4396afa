//! `lapse prune --push` over HTTP with the credentials CI jobs really have:
//! the token actions/checkout leaves in `http.<url>.extraheader` (which
//! libgit2 would ignore) and a token written into the remote URL.

use crate::prune_support;

use prune_support::git_http::GitHttp;
use prune_support::{Fixture, NOW, git};

const TOKEN: &str = "ghs_pushtoken";

fn served_fixture() -> (Fixture, GitHttp) {
    let fixture = Fixture::new();
    let server = GitHttp::start(fixture.origin.parent().unwrap(), TOKEN);
    (fixture, server)
}

#[test]
fn pushes_with_the_token_actions_checkout_leaves_in_git_config() {
    let (fixture, server) = served_fixture();
    git(
        &fixture.work,
        &[
            "remote",
            "add",
            "github",
            &format!("{}/origin.git", server.url),
        ],
    );
    git(
        &fixture.work,
        &[
            "config",
            &format!("http.{}/.extraheader", server.url),
            &GitHttp::extraheader(TOKEN),
        ],
    );
    let output = fixture.lapse(&["prune", "--now", NOW, "--push", "github"], &[]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(
        fixture.origin_rev("lapse/prune"),
        Some(fixture.rev("lapse/prune"))
    );
}

#[test]
fn pushes_with_a_token_in_the_remote_url() {
    let (fixture, server) = served_fixture();
    let url = server
        .url
        .replace("http://", &format!("http://x-access-token:{TOKEN}@"));
    git(
        &fixture.work,
        &["remote", "add", "github", &format!("{url}/origin.git")],
    );
    let output = fixture.lapse(&["prune", "--now", NOW, "--push", "github"], &[]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(
        fixture.origin_rev("lapse/prune"),
        Some(fixture.rev("lapse/prune"))
    );
}

#[test]
fn a_wrong_token_fails_in_one_line_without_showing_the_token() {
    let (fixture, server) = served_fixture();
    let url = server
        .url
        .replace("http://", "http://x-access-token:ghs_wrongsecret@");
    git(
        &fixture.work,
        &["remote", "add", "github", &format!("{url}/origin.git")],
    );
    let output = fixture.lapse(&["prune", "--now", NOW, "--push", "github"], &[]);
    assert_eq!(output.code, Some(2));
    let error = output.stderr;
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(
        error.starts_with("error: cannot read the remote `github`: "),
        "{error}"
    );
    assert!(!error.contains("ghs_wrongsecret"), "{error}");
    assert_eq!(fixture.origin_rev("lapse/prune"), None);
}

/// `--push` given a URL with the token in it, as a job may pass
/// `https://x-access-token:${TOKEN}@github.com/o/r.git` directly.
fn url_with_token(server: &GitHttp, token: &str) -> String {
    format!(
        "{}/origin.git",
        server
            .url
            .replace("http://", &format!("http://x-access-token:{token}@"))
    )
}

#[test]
fn a_token_in_the_push_url_is_never_printed() {
    let (fixture, server) = served_fixture();
    let url = url_with_token(&server, TOKEN);
    let redacted = format!(
        "{}/origin.git",
        server.url.replace("http://", "http://***@")
    );

    let output = fixture.lapse(&["prune", "--now", NOW, "--push", &url], &[]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let printed = output.stdout;
    assert!(
        printed.contains(&format!("Pushed lapse/prune to {redacted}.")),
        "{printed}"
    );
    assert!(!printed.contains(TOKEN), "{printed}");
    assert_eq!(
        fixture.origin_rev("lapse/prune"),
        Some(fixture.rev("lapse/prune"))
    );

    let output = fixture.lapse(
        &["prune", "--now", NOW, "--push", &url, "--format", "json"],
        &[],
    );
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(report["pushed_to"], redacted.as_str());
    assert!(!output.stdout.contains(TOKEN));
}

#[test]
fn a_wrong_token_in_the_push_url_is_never_printed() {
    let (fixture, server) = served_fixture();
    let url = url_with_token(&server, "ghs_wrongsecret");
    let output = fixture.lapse(&["prune", "--now", NOW, "--push", &url], &[]);
    assert_eq!(output.code, Some(2));
    let error = output.stderr;
    assert_eq!(error.lines().count(), 1, "{error}");
    let redacted = format!(
        "{}/origin.git",
        server.url.replace("http://", "http://***@")
    );
    assert!(
        error.starts_with(&format!("error: cannot read the remote `{redacted}`: ")),
        "{error}"
    );
    assert!(!error.contains("ghs_wrongsecret"), "{error}");
}
