//! `lapse expiring --notify slack|teams|github-issue` against fake Slack,
//! Teams and GitHub endpoints on 127.0.0.1: the payloads the services
//! accept, each grant announced once, reruns, failures, and secrets that
//! never reach the output.

use serde_json::Value;

use crate::common::Run;
use crate::notify_support::{
    FakeGitHubIssues, FakeWebhook, HOOK_SECRET, NEXT_DAY, Service, WEEK_LATER, lifecycle_fixture,
};
use crate::prune_support::{Fixture, NOW};

fn notify(fixture: &Fixture, channel: &str, now: &str, env: &[(&str, String)]) -> Run {
    fixture.lapse(&["expiring", "--now", now, "--notify", channel], env)
}

fn slack_env(hook: &FakeWebhook) -> Vec<(&'static str, String)> {
    vec![("LAPSE_SLACK_WEBHOOK", hook.url.clone())]
}

fn teams_env(hook: &FakeWebhook) -> Vec<(&'static str, String)> {
    vec![("LAPSE_TEAMS_WEBHOOK", hook.url.clone())]
}

/// The texts of a Slack message's sections.
fn slack_sections(body: &Value) -> Vec<String> {
    body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|block| block["type"] == "section")
        .map(|block| block["text"]["text"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn slack_announces_what_enters_the_window_today_break_glass_first() {
    let fixture = lifecycle_fixture();
    let hook = FakeWebhook::start(Service::Slack);
    let output = notify(&fixture, "slack", NOW, &slack_env(&hook));
    assert_eq!(output.code, Some(0), "{}", output.stderr);

    let posts = hook.posts();
    assert_eq!(posts.len(), 1);
    let body = &posts[0].body;
    assert_eq!(
        body["text"],
        "lapse: 3 grants and 1 contract end within 7d, 1 of them break-glass"
    );
    assert_eq!(
        body["blocks"][0]["text"]["text"],
        "lapse: 3 grants and 1 contract end within 7d"
    );
    assert_eq!(
        slack_sections(body),
        [
            ":rotating_light: BREAK-GLASS grant glass ends in 2 hours at 2026-12-10T14:00:00Z\nsam@example.com (sam-gh) · breakglass · approved by none",
            "current-deploy ends in 6 days at 2026-12-17T06:00:00Z (contract end)\nalex@example.com (alex-gh) · deployer · approved by maria@example.com (maria-gh)",
            "enters-today ends in 6 days at 2026-12-17T09:00:00Z\nsam@example.com (sam-gh) · deployer · approved by maria@example.com (maria-gh), li@example.com",
            "Contract of alex@example.com (alex-gh) ends in 6 days (2026-12-17T06:00:00Z): 1 grant ends with it\nEnding with it: current-deploy",
        ]
    );
    assert!(
        output
            .stdout
            .ends_with("Slack: 3 grants and 1 contract end announced.\n"),
        "{}",
        output.stdout
    );
}

#[test]
fn slack_reruns_on_later_days_announce_each_grant_once() {
    let fixture = lifecycle_fixture();
    let hook = FakeWebhook::start(Service::Slack);
    assert_eq!(
        notify(&fixture, "slack", NOW, &slack_env(&hook)).code,
        Some(0)
    );
    hook.clear();

    // The next day's run announces only what entered the window that day.
    let output = notify(&fixture, "slack", NEXT_DAY, &slack_env(&hook));
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let posts = hook.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        slack_sections(&posts[0].body),
        [
            "enters-tomorrow ends in 6 days at 2026-12-18T06:00:00Z\nli@example.com · deployer · approved by maria@example.com (maria-gh)"
        ]
    );
    assert!(output.stdout.ends_with("Slack: 1 grant announced.\n"));
    hook.clear();

    // The day after, nothing enters it: nothing is posted.
    let output = notify(&fixture, "slack", "2026-12-12T07:00:00Z", &slack_env(&hook));
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert!(hook.posts().is_empty());
    assert!(output.stdout.ends_with("Slack: nothing new to announce.\n"));
}

#[test]
fn slack_500_is_exit_2_and_the_webhook_url_is_never_printed() {
    let fixture = lifecycle_fixture();
    let hook = FakeWebhook::start(Service::Slack);
    hook.fail_next(500);
    let output = notify(&fixture, "slack", NOW, &slack_env(&hook));
    assert_eq!(output.code, Some(2));
    assert_eq!(
        output.stderr.trim(),
        "error: Slack answered 500 Internal Server Error to the webhook (rollup_error); Slack failed on its side, then rerun lapse expiring"
    );
    assert!(!output.stdout.contains(HOOK_SECRET));

    // A rerun delivers.
    let output = notify(&fixture, "slack", NOW, &slack_env(&hook));
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(hook.posts().len(), 2);

    hook.fail_next(404);
    let error = notify(&fixture, "slack", NOW, &slack_env(&hook)).stderr;
    assert!(
        error.contains("check that LAPSE_SLACK_WEBHOOK is the current webhook URL"),
        "{error}"
    );
    assert!(!error.contains(HOOK_SECRET), "{error}");
}

#[test]
fn an_unreachable_or_missing_webhook_is_named_by_its_variable_only() {
    let fixture = lifecycle_fixture();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let url = format!("http://{address}/services/{HOOK_SECRET}");
    let output = notify(&fixture, "slack", NOW, &[("LAPSE_SLACK_WEBHOOK", url)]);
    assert_eq!(output.code, Some(2));
    let error = output.stderr;
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(
        error.starts_with(&format!("error: cannot reach Slack at http://{address} (")),
        "{error}"
    );
    assert!(error.contains("check LAPSE_SLACK_WEBHOOK"), "{error}");
    assert!(!error.contains(HOOK_SECRET), "{error}");

    let output = notify(&fixture, "teams", NOW, &[]);
    assert_eq!(output.code, Some(2));
    assert!(
        output
            .stderr
            .starts_with("error: --notify teams needs LAPSE_TEAMS_WEBHOOK: the webhook URL"),
        "{}",
        output.stderr
    );
}

#[test]
fn teams_gets_one_adaptive_card_with_break_glass_in_attention_style() {
    let fixture = lifecycle_fixture();
    let hook = FakeWebhook::start(Service::Teams);
    let output = notify(&fixture, "teams", NOW, &teams_env(&hook));
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let posts = hook.posts();
    assert_eq!(posts.len(), 1);
    let card = &posts[0].body["attachments"][0]["content"];
    let body = card["body"].as_array().unwrap();
    assert_eq!(body.len(), 5);
    assert_eq!(
        body[0]["text"],
        "lapse: 3 grants and 1 contract end within 7d"
    );
    assert_eq!(body[1]["style"], "attention");
    assert_eq!(
        body[1]["items"][0]["text"],
        "🚨 BREAK-GLASS grant glass ends in 2 hours at 2026-12-10T14:00:00Z"
    );
    assert_eq!(body[2]["style"], "default");
    assert_eq!(
        body[2]["items"][1]["text"],
        "alex@example.com \\(alex-gh\\) · deployer · approved by maria@example.com \\(maria-gh\\)"
    );
    assert!(
        output
            .stdout
            .ends_with("Teams: 3 grants and 1 contract end announced.\n")
    );

    hook.clear();
    let output = notify(&fixture, "teams", NEXT_DAY, &teams_env(&hook));
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let posts = hook.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].body["attachments"][0]["content"]["body"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn teams_500_is_exit_2_without_the_webhook_url() {
    let fixture = lifecycle_fixture();
    let hook = FakeWebhook::start(Service::Teams);
    hook.fail_next(500);
    let output = notify(&fixture, "teams", NOW, &teams_env(&hook));
    assert_eq!(output.code, Some(2));
    let error = output.stderr;
    assert!(
        error.starts_with("error: Teams answered 500 Internal Server Error to the webhook ("),
        "{error}"
    );
    assert!(!error.contains(HOOK_SECRET), "{error}");
}

/// The repository already has a labelled pull request and a labelled
/// discussion issue without lapse's marker: neither is lapse's issue.
fn issues_with_decoys() -> FakeGitHubIssues {
    let github = FakeGitHubIssues::start();
    github.add_issue("Renovate lapse", "bump", &["lapse-expiring"], true);
    github.add_issue(
        "How should expiry warnings work?",
        "Let's discuss",
        &["lapse-expiring"],
        false,
    );
    github
}

fn calls(github: &FakeGitHubIssues) -> Vec<String> {
    github
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[test]
fn github_issue_is_created_once_and_comments_mention_subjects_and_approvers() {
    let fixture = lifecycle_fixture();
    let github = issues_with_decoys();
    let output = notify(&fixture, "github-issue", NOW, &github.env());
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(
        calls(&github),
        [
            "GET /repos/octo/grants/issues",
            "POST /repos/octo/grants/issues",
            "POST /repos/octo/grants/issues/3/comments",
            "PATCH /repos/octo/grants/issues/3",
        ]
    );
    let lookup = &github.requests()[0];
    assert_eq!(lookup.query["labels"], "lapse-expiring");
    assert_eq!(lookup.query["state"], "all");

    let issues = github.issues();
    assert_eq!(issues.len(), 3);
    let issue = &issues[2];
    assert_eq!(issue.title, "Access ending soon");
    assert_eq!(issue.labels, ["lapse-expiring"]);
    assert_eq!(issue.state, "open");
    assert!(
        issue
            .body
            .starts_with("<!-- lapse:expiring -->\n## 3 grants and 1 contract end within 7d\n")
    );
    assert!(
        issue
            .body
            .contains("| glass **BREAK-GLASS** | sam\\@example.com | breakglass |")
    );
    assert!(issue.body.contains("- Contract of alex\\@example.com \\(alex-gh\\) ends 2026-12-17T06:00:00Z: 1 grant ends with it"));
    assert!(!issue.body.contains("@alex-gh"), "{}", issue.body);

    assert_eq!(issue.comments.len(), 1);
    let comment = &issue.comments[0];
    assert!(
        comment.starts_with("@alex-gh @maria-gh @sam-gh: 3 grants and 1 contract end within 7d.\n"),
        "{comment}"
    );
    assert!(comment.contains("> **BREAK-GLASS**: 1 grant is an emergency grant among them: glass"));
    assert!(comment.contains("| current-deploy | alex\\@example.com | deployer | 2026-12-17T06:00:00Z (contract end) | maria\\@example.com |"));
    assert!(comment.contains("ends in 6 days (2026-12-17T06:00:00Z): 1 grant ends with it"));
    assert!(
        output.stdout.ends_with("GitHub issue #3 https://github.test/octo/grants/issues/3: 3 grants and 1 contract end announced.\n"),
        "{}",
        output.stdout
    );
}

#[test]
fn github_issue_reruns_send_nothing_twice_and_the_issue_closes_when_the_window_empties() {
    let fixture = lifecycle_fixture();
    let github = issues_with_decoys();
    assert_eq!(
        notify(&fixture, "github-issue", NOW, &github.env()).code,
        Some(0)
    );
    github.clear_requests();

    // The same run again (a retried job): nothing new, nothing written.
    let output = notify(&fixture, "github-issue", NOW, &github.env());
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(calls(&github), ["GET /repos/octo/grants/issues"]);
    assert!(output.stdout.ends_with("nothing new to announce.\n"));

    // The next day: one comment for the grant that entered the window.
    github.clear_requests();
    let output = notify(&fixture, "github-issue", NEXT_DAY, &github.env());
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(
        calls(&github),
        [
            "GET /repos/octo/grants/issues",
            "POST /repos/octo/grants/issues/3/comments",
            "PATCH /repos/octo/grants/issues/3",
        ]
    );
    let issue = github.issues()[2].clone();
    assert_eq!(issue.comments.len(), 2);
    assert!(
        issue.comments[1].starts_with("@maria-gh: 1 grant ends within 7d.\n"),
        "{}",
        issue.comments[1]
    );
    assert!(issue.comments[1].contains("| enters-tomorrow |"));
    assert!(!issue.comments[1].contains("current-deploy"));
    assert!(!issue.body.contains("| glass"), "{}", issue.body);

    // A week later nothing is left: the issue is closed, no one pinged.
    let output = notify(&fixture, "github-issue", WEEK_LATER, &github.env());
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let issue = github.issues()[2].clone();
    assert_eq!(issue.state, "closed");
    assert_eq!(issue.comments.len(), 2);
    assert!(
        issue
            .body
            .contains("No grant and no contract ends within 7d.")
    );
    assert_eq!(github.issues().len(), 3);
}

#[test]
fn github_issue_500_is_exit_2_and_a_rerun_announces_once() {
    let fixture = lifecycle_fixture();
    let github = issues_with_decoys();
    github.fail_next("POST", "/comments", 500);
    let output = notify(&fixture, "github-issue", NOW, &github.env());
    assert_eq!(output.code, Some(2));
    assert_eq!(
        output.stderr.trim(),
        "error: GitHub answered 500 Internal Server Error for POST /repos/octo/grants/issues/3/comments: GitHub failed on its side; rerun lapse expiring later"
    );

    let output = notify(&fixture, "github-issue", NOW, &github.env());
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let issues = github.issues();
    assert_eq!(issues.len(), 3, "one issue, never a second");
    assert_eq!(issues[2].comments.len(), 1);

    let mut env = github.env();
    env.retain(|(name, _)| *name != "GITHUB_TOKEN");
    let output = notify(&fixture, "github-issue", NOW, &env);
    assert_eq!(
        output.stderr.trim(),
        "error: --notify github-issue on GitHub needs GITHUB_TOKEN: a token with issues: write"
    );
}

#[test]
fn json_reports_what_each_channel_announced() {
    let fixture = lifecycle_fixture();
    let github = issues_with_decoys();
    let hook = FakeWebhook::start(Service::Slack);
    let mut env = github.env();
    env.extend(slack_env(&hook));
    let output = fixture.lapse(
        &[
            "expiring",
            "--now",
            NOW,
            "--notify",
            "slack",
            "--notify",
            "github-issue",
            "--format",
            "json",
        ],
        &env,
    );
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let report: Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(report["notified"][0]["channel"], "slack");
    assert_eq!(
        report["notified"][0]["grants"],
        serde_json::json!(["glass", "current-deploy", "enters-today"])
    );
    assert_eq!(
        report["notified"][0]["contracts"],
        serde_json::json!(["alex@example.com"])
    );
    assert_eq!(report["notified"][1]["channel"], "github-issue");
    assert_eq!(report["notified"][1]["issue"]["number"], 3);
    assert!(!output.stdout.contains(HOOK_SECRET));
}
