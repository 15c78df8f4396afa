//! Fake notification endpoints on 127.0.0.1: a Slack incoming webhook and
//! a Teams webhook that check the payload shape the real services accept
//! and answer as they do, and a GitHub issues API that keeps issues and
//! comments in memory. Every request is recorded for the test to assert on.

#![allow(dead_code)] // each test uses a different part of the kit

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::thread;

use serde_json::{Value, json};
use tiny_http::{Header, Response, Server};

/// The secret part of a webhook URL, which must never be printed.
pub const HOOK_SECRET: &str = "T0LAPSE/B0LAPSE/hooksecret42";

#[derive(Debug, Clone)]
pub struct Posted {
    pub path: String,
    pub body: Value,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Slack,
    Teams,
}

#[derive(Default)]
struct HookState {
    posts: Vec<Posted>,
    /// Statuses the next requests get instead of being served.
    failures: Vec<u16>,
}

pub struct FakeWebhook {
    /// The full secret URL, as the service hands it out.
    pub url: String,
    state: Arc<Mutex<HookState>>,
}

impl FakeWebhook {
    pub fn start(service: Service) -> Self {
        let server = Server::http("127.0.0.1:0").unwrap();
        let port = server.server_addr().to_ip().unwrap().port();
        let state = Arc::new(Mutex::new(HookState::default()));
        let shared = Arc::clone(&state);
        let path = match service {
            Service::Slack => format!("/services/{HOOK_SECRET}"),
            Service::Teams => format!("/workflows/{HOOK_SECRET}/triggers/manual/paths/invoke"),
        };
        let expected = path.clone();
        thread::spawn(move || {
            for mut request in server.incoming_requests() {
                let mut text = String::new();
                request.as_reader().read_to_string(&mut text).unwrap();
                let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                let url_path = request.url().to_owned();
                let (status, answer) = {
                    let mut state = shared.lock().unwrap();
                    state.posts.push(Posted {
                        path: url_path.clone(),
                        body: body.clone(),
                    });
                    if !state.failures.is_empty() {
                        let status = state.failures.remove(0);
                        (status, failure_body(service, status))
                    } else if request.method().as_str() != "POST" || url_path != expected {
                        (404, failure_body(service, 404))
                    } else {
                        match (service, validate(service, &body)) {
                            (_, Err(reason)) => (400, bad_payload(service, &reason)),
                            // Slack answers `ok` as text; Workflows accepts with 202.
                            (Service::Slack, Ok(())) => (200, "ok".to_owned()),
                            (Service::Teams, Ok(())) => (202, String::new()),
                        }
                    }
                };
                let _ = request.respond(Response::from_string(answer).with_status_code(status));
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}{path}"),
            state,
        }
    }

    pub fn posts(&self) -> Vec<Posted> {
        self.state.lock().unwrap().posts.clone()
    }

    pub fn clear(&self) {
        self.state.lock().unwrap().posts.clear();
    }

    pub fn fail_next(&self, status: u16) {
        self.state.lock().unwrap().failures.push(status);
    }
}

/// Slack's error words (https://api.slack.com/messaging/webhooks#handling_errors).
fn failure_body(service: Service, status: u16) -> String {
    match (service, status) {
        (Service::Slack, 404) => "no_service".to_owned(),
        (Service::Slack, 403) => "action_prohibited".to_owned(),
        (Service::Slack, 410) => "channel_is_archived".to_owned(),
        (Service::Slack, _) => "rollup_error".to_owned(),
        (Service::Teams, _) => {
            json!({"error": {"code": "TriggerFailed", "message": "injected"}}).to_string()
        }
    }
}

fn bad_payload(service: Service, reason: &str) -> String {
    match service {
        Service::Slack => format!("invalid_payload ({reason})"),
        Service::Teams => {
            json!({"error": {"code": "InvalidRequestContent", "message": reason}}).to_string()
        }
    }
}

fn validate(service: Service, body: &Value) -> Result<(), String> {
    match service {
        Service::Slack => validate_slack(body),
        Service::Teams => validate_teams(body),
    }
}

/// What Slack's incoming webhooks accept: `text`, and Block Kit blocks
/// within their limits (https://api.slack.com/reference/block-kit/blocks).
fn validate_slack(body: &Value) -> Result<(), String> {
    let text = body["text"].as_str().ok_or("no text")?;
    if text.trim().is_empty() {
        return Err("empty text".into());
    }
    let blocks = body["blocks"].as_array().ok_or("no blocks")?;
    if blocks.is_empty() || blocks.len() > 50 {
        return Err(format!("{} blocks", blocks.len()));
    }
    for block in blocks {
        let text_object = |value: &Value, max: usize, plain_only: bool| -> Result<(), String> {
            let kind = value["type"].as_str().ok_or("text object without type")?;
            if kind != "plain_text" && (plain_only || kind != "mrkdwn") {
                return Err(format!("text object of type {kind}"));
            }
            let text = value["text"].as_str().ok_or("text object without text")?;
            if text.is_empty() || text.chars().count() > max {
                return Err(format!("text of {} characters", text.chars().count()));
            }
            Ok(())
        };
        match block["type"].as_str() {
            Some("header") => text_object(&block["text"], 150, true)?,
            Some("section") => text_object(&block["text"], 3000, false)?,
            Some("context") => {
                let elements = block["elements"]
                    .as_array()
                    .ok_or("context without elements")?;
                if elements.is_empty() || elements.len() > 10 {
                    return Err("context elements".into());
                }
                for element in elements {
                    text_object(element, 3000, false)?;
                }
            }
            Some("divider") => {}
            other => return Err(format!("block type {other:?}")),
        }
    }
    Ok(())
}

/// What a Teams Workflows webhook accepts: a message with one Adaptive Card
/// attachment, under 28 KB.
fn validate_teams(body: &Value) -> Result<(), String> {
    if body.to_string().len() > 28 * 1024 {
        return Err("larger than 28 KB".into());
    }
    if body["type"] != "message" {
        return Err("type is not message".into());
    }
    let attachments = body["attachments"].as_array().ok_or("no attachments")?;
    let [attachment] = attachments.as_slice() else {
        return Err(format!("{} attachments", attachments.len()));
    };
    if attachment["contentType"] != "application/vnd.microsoft.card.adaptive" {
        return Err("not an adaptive card".into());
    }
    let card = &attachment["content"];
    if card["type"] != "AdaptiveCard" || !card["version"].is_string() {
        return Err("content is not an AdaptiveCard with a version".into());
    }
    let elements = card["body"].as_array().ok_or("card without body")?;
    for element in elements {
        validate_card_element(element)?;
    }
    Ok(())
}

fn validate_card_element(element: &Value) -> Result<(), String> {
    match element["type"].as_str() {
        Some("TextBlock") => {
            element["text"].as_str().ok_or("TextBlock without text")?;
            Ok(())
        }
        Some("Container") => {
            let style = element["style"].as_str().unwrap_or("default");
            if ![
                "default",
                "emphasis",
                "good",
                "attention",
                "warning",
                "accent",
            ]
            .contains(&style)
            {
                return Err(format!("container style {style}"));
            }
            for item in element["items"]
                .as_array()
                .ok_or("container without items")?
            {
                validate_card_element(item)?;
            }
            Ok(())
        }
        other => Err(format!("element type {other:?}")),
    }
}

/// One issue as the fake GitHub keeps it.
#[derive(Debug, Clone)]
pub struct FakeIssue {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub state: String,
    pub labels: Vec<String>,
    pub comments: Vec<String>,
    pub is_pull_request: bool,
}

#[derive(Debug, Clone)]
pub struct IssueRequest {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub body: Value,
    pub authorization: Option<String>,
}

#[derive(Default)]
struct IssueState {
    issues: Vec<FakeIssue>,
    requests: Vec<IssueRequest>,
    /// (method, path suffix, status) injected once.
    failures: Vec<(String, String, u16)>,
}

/// The issues API of one repository, `octo/grants`.
pub struct FakeGitHubIssues {
    pub url: String,
    state: Arc<Mutex<IssueState>>,
}

impl FakeGitHubIssues {
    pub fn start() -> Self {
        let server = Server::http("127.0.0.1:0").unwrap();
        let port = server.server_addr().to_ip().unwrap().port();
        let state = Arc::new(Mutex::new(IssueState::default()));
        let shared = Arc::clone(&state);
        thread::spawn(move || {
            for mut request in server.incoming_requests() {
                let mut text = String::new();
                request.as_reader().read_to_string(&mut text).unwrap();
                let (path, query) = request.url().split_once('?').unwrap_or((request.url(), ""));
                let recorded = IssueRequest {
                    method: request.method().to_string(),
                    path: path.to_owned(),
                    query: query
                        .split('&')
                        .filter_map(|pair| pair.split_once('='))
                        .map(|(k, v)| (k.to_owned(), v.replace("%20", " ")))
                        .collect(),
                    body: serde_json::from_str(&text).unwrap_or(Value::Null),
                    authorization: crate::prune_support::header(&request, "Authorization"),
                };
                let (status, body, headers) = {
                    let mut state = shared.lock().unwrap();
                    state.requests.push(recorded.clone());
                    let failure = state.failures.iter().position(|(method, suffix, _)| {
                        *method == recorded.method && recorded.path.ends_with(suffix.as_str())
                    });
                    match failure {
                        Some(index) => {
                            let (_, _, status) = state.failures.remove(index);
                            (status, json!({"message": "Server Error"}), Vec::new())
                        }
                        None => serve_issues(&mut state, &recorded),
                    }
                };
                let mut response = Response::from_string(body.to_string())
                    .with_status_code(status)
                    .with_header(Header::from_bytes("Content-Type", "application/json").unwrap());
                for (name, value) in headers {
                    response.add_header(Header::from_bytes(name, value).unwrap());
                }
                let _ = request.respond(response);
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}"),
            state,
        }
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITHUB_API_URL", self.url.clone()),
            ("GITHUB_TOKEN", "ghs_test".to_owned()),
            ("GITHUB_REPOSITORY", "octo/grants".to_owned()),
        ]
    }

    pub fn issues(&self) -> Vec<FakeIssue> {
        self.state.lock().unwrap().issues.clone()
    }

    pub fn requests(&self) -> Vec<IssueRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.state.lock().unwrap().requests.clear();
    }

    /// An issue someone else opened, as the repository already has.
    pub fn add_issue(&self, title: &str, body: &str, labels: &[&str], is_pull_request: bool) {
        let mut state = self.state.lock().unwrap();
        let number = state.issues.len() as u64 + 1;
        state.issues.push(FakeIssue {
            number,
            title: title.to_owned(),
            body: body.to_owned(),
            state: "open".to_owned(),
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
            comments: Vec::new(),
            is_pull_request,
        });
    }

    pub fn fail_next(&self, method: &str, path_suffix: &str, status: u16) {
        self.state.lock().unwrap().failures.push((
            method.to_owned(),
            path_suffix.to_owned(),
            status,
        ));
    }
}

fn issue_json(issue: &FakeIssue) -> Value {
    let mut value = json!({
        "number": issue.number,
        "html_url": format!("https://github.test/octo/grants/issues/{}", issue.number),
        "title": issue.title,
        "body": issue.body,
        "state": issue.state,
        "user": {"login": "github-actions[bot]"},
        "labels": issue.labels.iter().map(|name| json!({"name": name})).collect::<Vec<_>>(),
        "comments": issue.comments.len(),
    });
    if issue.is_pull_request {
        value["pull_request"] = json!({"url": "https://api.github.test/pulls/1"});
    }
    value
}

fn serve_issues(
    state: &mut IssueState,
    request: &IssueRequest,
) -> (u16, Value, Vec<(String, String)>) {
    if request.authorization.as_deref() != Some("Bearer ghs_test") {
        return (401, json!({"message": "Bad credentials"}), Vec::new());
    }
    let base = "/repos/octo/grants/issues";
    let rest = request.path.strip_prefix(base);
    let not_found = (404, json!({"message": "Not Found"}), Vec::new());
    match (request.method.as_str(), rest) {
        ("GET", Some("")) => {
            let label = request.query.get("labels").cloned().unwrap_or_default();
            let wanted = request.query.get("state").map_or("open", String::as_str);
            let per_page: usize = request
                .query
                .get("per_page")
                .map_or(30, |p| p.parse().unwrap());
            let page: usize = request.query.get("page").map_or(1, |p| p.parse().unwrap());
            let matching: Vec<Value> = state
                .issues
                .iter()
                .filter(|issue| label.is_empty() || issue.labels.contains(&label))
                .filter(|issue| wanted == "all" || issue.state == wanted)
                .map(issue_json)
                .collect();
            let listed: Vec<Value> = matching
                .iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .cloned()
                .collect();
            let mut headers = Vec::new();
            if page * per_page < matching.len() {
                headers.push((
                    "Link".to_owned(),
                    format!(
                        "<https://api.github.test/repositories/1/issues?page={}>; rel=\"next\"",
                        page + 1
                    ),
                ));
            }
            (200, Value::Array(listed), headers)
        }
        ("POST", Some("")) => {
            let Some(title) = request.body["title"].as_str() else {
                return (422, json!({"message": "Validation Failed"}), Vec::new());
            };
            let number = state.issues.len() as u64 + 1;
            let issue = FakeIssue {
                number,
                title: title.to_owned(),
                body: request.body["body"].as_str().unwrap_or_default().to_owned(),
                state: "open".to_owned(),
                labels: request.body["labels"]
                    .as_array()
                    .map(|labels| {
                        labels
                            .iter()
                            .filter_map(|l| l.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                comments: Vec::new(),
                is_pull_request: false,
            };
            let answer = issue_json(&issue);
            state.issues.push(issue);
            (201, answer, Vec::new())
        }
        (method, Some(rest)) => {
            let mut parts = rest.trim_start_matches('/').splitn(2, '/');
            let Some(number) = parts.next().and_then(|n| n.parse::<u64>().ok()) else {
                return not_found;
            };
            let Some(issue) = state.issues.iter_mut().find(|issue| issue.number == number) else {
                return not_found;
            };
            match (method, parts.next()) {
                ("PATCH", None) => {
                    if let Some(body) = request.body["body"].as_str() {
                        issue.body = body.to_owned();
                    }
                    if let Some(wanted) = request.body["state"].as_str() {
                        if !["open", "closed"].contains(&wanted) {
                            return (422, json!({"message": "Validation Failed"}), Vec::new());
                        }
                        issue.state = wanted.to_owned();
                    }
                    (200, issue_json(issue), Vec::new())
                }
                ("POST", Some("comments")) => {
                    let Some(body) = request.body["body"].as_str() else {
                        return (422, json!({"message": "Validation Failed"}), Vec::new());
                    };
                    issue.comments.push(body.to_owned());
                    (
                        201,
                        json!({"id": issue.comments.len(), "body": body, "user": {"login": "github-actions[bot]"},
                               "html_url": format!("https://github.test/octo/grants/issues/{number}#issuecomment-{}", issue.comments.len())}),
                        Vec::new(),
                    )
                }
                _ => not_found,
            }
        }
        _ => not_found,
    }
}

/// A policy with a contract that ends within the week and a break-glass role.
pub const LIFECYCLE_POLICY: &str = "\
version: 1
defaults:
  warn_before: 7d
people:
  alex@example.com:
    github: alex-gh
    contract_ends: 2026-12-17T06:00:00Z
  sam@example.com: {github: sam-gh}
  maria@example.com: {github: maria-gh}
  li@example.com: {}
roles:
  deployer:
    description: Push to the payments repository
    approvers: [maria@example.com]
    github:
      repository: octo/payments
      permission: push
  breakglass:
    description: Emergency push to the payments repository
    approvers: [maria@example.com]
    break_glass: {max_duration: 4h, review_within: 24h}
    github:
      repository: octo/payments
      permission: push
";

/// The prune fixture's grants (among them `current-deploy`, Alex's until
/// 2026-12-20, which his contract cuts short on 2026-12-17T06:00) and:
/// - `glass`: a four-hour break-glass grant that started at 10:00 on the 10th;
/// - `enters-today`: ends 2026-12-17T09:00, so it enters the 7d window on the 10th;
/// - `enters-tomorrow`: ends 2026-12-18T06:00, entering on the 11th.
pub fn lifecycle_fixture() -> crate::prune_support::Fixture {
    crate::prune_support::Fixture::with_files(&[
        ("lapse.yaml", LIFECYCLE_POLICY),
        (
            "grants/payments/glass.yaml",
            "subject: sam@example.com\nrole: breakglass\nreason: Incident 42 hotfix push\nstarts: 2026-12-10T10:00:00Z\nexpires: 2026-12-10T14:00:00Z\n",
        ),
        (
            "grants/payments/enters-today.yaml",
            "subject: sam@example.com\nrole: deployer\nreason: Deploy the payments service\napprovers: [maria@example.com, li@example.com]\nexpires: 2026-12-17T09:00:00Z\n",
        ),
        (
            "grants/payments/enters-tomorrow.yaml",
            "subject: li@example.com\nrole: deployer\nreason: Deploy the payments service\napprovers: [maria@example.com]\nexpires: 2026-12-18T06:00:00Z\n",
        ),
    ])
}

/// The morning after `NOW`, and a week later when everything has ended.
pub const NEXT_DAY: &str = "2026-12-11T07:00:00Z";
pub const WEEK_LATER: &str = "2026-12-19T00:00:00Z";
