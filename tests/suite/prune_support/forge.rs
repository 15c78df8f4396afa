//! A fake forge on 127.0.0.1 that speaks just enough of the GitHub, GitLab
//! and Gitea pull-request and review APIs, keeps its pull requests and
//! reviews in memory, pages lists as each forge does, and records every
//! request for the test to assert on.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::thread;

use serde_json::{Value, json};
use tiny_http::{Header, Response, Server};

/// One request as the forge received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path without the query.
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub body: Value,
    pub authorization: Option<String>,
    pub private_token: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Pull {
    pub number: u64,
    pub head: String,
    pub base: String,
    pub title: String,
    pub body: String,
    /// The owner of the fork the head branch lives in; `None` for a branch
    /// of the repository itself.
    pub fork: Option<String>,
}

/// A review as the forge keeps it; each flavour lists it in its own shape.
#[derive(Debug, Clone)]
pub struct FakeReview {
    pub login: String,
    /// The forge's own state word: GitHub APPROVED, CHANGES_REQUESTED,
    /// COMMENTED, DISMISSED; Gitea APPROVED, REQUEST_CHANGES, COMMENT.
    pub state: String,
    pub commit: String,
    /// Gitea's flags.
    pub stale: bool,
    pub dismissed: bool,
}

/// The pull request whose reviews the review tests read.
pub const REVIEWED_PULL: u64 = 7;
pub const HEAD_SHA: &str = "5ee5ee5ee5ee5ee5ee5ee5ee5ee5ee5ee5ee5ee5";

#[derive(Default)]
struct State {
    requests: Vec<Recorded>,
    pulls: Vec<Pull>,
    /// (method, path, status): the next request with that method (and
    /// path, when given) is answered with that status instead of being served.
    failures: Vec<(String, Option<String>, u16)>,
    reviews: Vec<FakeReview>,
    /// GitLab: who approves merge request `REVIEWED_PULL` now.
    gitlab_approvers: Vec<String>,
    /// GitLab's `retain_approvals_on_push`; `None` answers 404, as GitLab
    /// Free does for the Premium settings API.
    gitlab_retain_approvals: Option<bool>,
    /// The head commit of the reviewed pull request; `HEAD_SHA` unless a
    /// test points it at a commit of its repository.
    head: Option<String>,
}

impl State {
    fn head(&self) -> &str {
        self.head.as_deref().unwrap_or(HEAD_SHA)
    }
}

/// A response: status, JSON body and extra headers.
type Answer = (u16, Value, Vec<(String, String)>);

#[derive(Clone, Copy)]
pub enum Flavour {
    GitHub,
    GitLab,
    Gitea,
}

pub struct FakeForge {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FakeForge {
    pub fn start(flavour: Flavour) -> Self {
        let server = Server::http("127.0.0.1:0").unwrap();
        let port = server.server_addr().to_ip().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        thread::spawn(move || {
            for mut request in server.incoming_requests() {
                let mut text = String::new();
                request.as_reader().read_to_string(&mut text).unwrap();
                let recorded = record(&request, &text);
                let (status, body, headers) = {
                    let mut state = shared.lock().unwrap();
                    state.requests.push(recorded.clone());
                    let failure = state.failures.iter().position(|(method, path, _)| {
                        *method == recorded.method
                            && path.as_ref().is_none_or(|path| *path == recorded.path)
                    });
                    match failure {
                        Some(index) => {
                            let (_, _, status) = state.failures.remove(index);
                            (status, json!({"message": "injected failure"}), Vec::new())
                        }
                        None => serve(flavour, &mut state, &recorded),
                    }
                };
                let header = Header::from_bytes("Content-Type", "application/json").unwrap();
                let mut response = Response::from_string(body.to_string())
                    .with_status_code(status)
                    .with_header(header);
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

    /// The next `method` request is answered with `status`.
    pub fn fail_next(&self, method: &str, status: u16) {
        self.state
            .lock()
            .unwrap()
            .failures
            .push((method.to_owned(), None, status));
    }

    /// The next `method` request for `path` is answered with `status`.
    pub fn fail_next_at(&self, method: &str, path: &str, status: u16) {
        self.state.lock().unwrap().failures.push((
            method.to_owned(),
            Some(path.to_owned()),
            status,
        ));
    }

    /// A review of pull request `REVIEWED_PULL`, listed after the others.
    /// Makes `sha` the head commit of the reviewed pull request.
    pub fn set_head(&self, sha: &str) {
        self.state.lock().unwrap().head = Some(sha.to_owned());
    }

    pub fn add_review(&self, login: &str, state: &str, commit: &str) {
        self.state.lock().unwrap().reviews.push(FakeReview {
            login: login.to_owned(),
            state: state.to_owned(),
            commit: commit.to_owned(),
            stale: false,
            dismissed: false,
        });
    }

    /// Changes the last review, as a later dismissal or push does.
    pub fn edit_last_review(&self, edit: impl FnOnce(&mut FakeReview)) {
        edit(self.state.lock().unwrap().reviews.last_mut().unwrap());
    }

    pub fn set_gitlab_approvals(&self, approvers: &[&str], retain_on_push: Option<bool>) {
        let mut state = self.state.lock().unwrap();
        state.gitlab_approvers = approvers.iter().map(|a| (*a).to_owned()).collect();
        state.gitlab_retain_approvals = retain_on_push;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.state.lock().unwrap().requests.clear();
    }

    pub fn pulls(&self) -> Vec<Pull> {
        self.state.lock().unwrap().pulls.clone()
    }

    /// An open pull request from `branch` of a fork owned by `owner`, as
    /// anyone who can fork the repository may open.
    pub fn add_fork_pull(&self, owner: &str, branch: &str, title: &str, body: &str) {
        let mut state = self.state.lock().unwrap();
        let number = state.pulls.len() as u64 + 1;
        state.pulls.push(Pull {
            number,
            head: branch.to_owned(),
            base: "main".to_owned(),
            title: title.to_owned(),
            body: body.to_owned(),
            fork: Some(owner.to_owned()),
        });
    }

    /// The environment GitHub Actions would give the job.
    pub fn github_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITHUB_API_URL", self.url.clone()),
            ("GITHUB_TOKEN", "ghs_test".to_owned()),
            ("GITHUB_REPOSITORY", "octo/grants".to_owned()),
        ]
    }

    /// The environment of a GitLab CI job with the documented token variable.
    pub fn gitlab_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CI_API_V4_URL", format!("{}/api/v4", self.url)),
            ("CI_PROJECT_ID", "42".to_owned()),
            ("LAPSE_GITLAB_TOKEN", "glpat-test".to_owned()),
        ]
    }

    /// The environment of a Gitea or Forgejo job with lapse's variables.
    pub fn gitea_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITEA_API_URL", format!("{}/api/v1", self.url)),
            ("GITEA_TOKEN", "gitea-test".to_owned()),
            ("GITEA_REPOSITORY", "octo/grants".to_owned()),
        ]
    }
}

fn record(request: &tiny_http::Request, text: &str) -> Recorded {
    let (path, query) = request.url().split_once('?').unwrap_or((request.url(), ""));
    let header = |name: &'static str| super::header(request, name);
    Recorded {
        method: request.method().to_string(),
        path: path.to_owned(),
        query: query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect(),
        body: serde_json::from_str(text).unwrap_or(Value::Null),
        authorization: header("Authorization"),
        private_token: header("PRIVATE-TOKEN"),
    }
}

fn serve(flavour: Flavour, state: &mut State, request: &Recorded) -> Answer {
    let reviewed = match flavour {
        Flavour::GitHub => serve_github_reviews(state, request),
        Flavour::GitLab => serve_gitlab_approvals(state, request),
        Flavour::Gitea => serve_gitea_reviews(state, request),
    };
    if let Some(answer) = reviewed {
        return answer;
    }
    let (status, body) = match flavour {
        Flavour::GitHub => serve_github(state, request),
        Flavour::GitLab => serve_gitlab(state, request),
        Flavour::Gitea => serve_gitea(state, request),
    };
    (status, body, Vec::new())
}

fn page_of(request: &Recorded, size_param: &str, default: usize, max: usize) -> (usize, usize) {
    let size = request
        .query
        .get(size_param)
        .map_or(default, |s| s.parse().unwrap())
        .min(max);
    let page = request.query.get("page").map_or(1, |p| p.parse().unwrap());
    (page, size)
}

fn slice<T: Clone>(items: &[T], page: usize, size: usize) -> Vec<T> {
    items
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .cloned()
        .collect()
}

/// GitHub: `GET /pulls/{n}` and `GET /pulls/{n}/reviews`, 30 per page by
/// default, at most 100, with a `Link` header naming the next and last pages.
fn serve_github_reviews(state: &State, request: &Recorded) -> Option<Answer> {
    let pull = format!("/repos/octo/grants/pulls/{REVIEWED_PULL}");
    if request.method != "GET" {
        return None;
    }
    if request.path == pull {
        return Some((
            200,
            json!({"number": REVIEWED_PULL, "state": "open",
                   "head": {"ref": "feature", "sha": state.head(), "label": "octo:feature"},
                   "base": {"ref": "main", "sha": "0000000000000000000000000000000000000000"}}),
            Vec::new(),
        ));
    }
    if request.path != format!("{pull}/reviews") {
        return None;
    }
    let (page, size) = page_of(request, "per_page", 30, 100);
    let listed: Vec<Value> = slice(&state.reviews, page, size)
        .iter()
        .enumerate()
        .map(|(index, review)| {
            json!({"id": 1000 + (page - 1) * size + index, "user": {"login": review.login, "type": "User"},
                   "body": "", "state": review.state, "commit_id": review.commit,
                   "author_association": "MEMBER", "submitted_at": "2026-12-10T10:00:00Z"})
        })
        .collect();
    let last = state.reviews.len().div_ceil(size).max(1);
    let link = |page: usize, rel: &str| {
        format!(
            "<http://127.0.0.1/repositories/1/pulls/{REVIEWED_PULL}/reviews?per_page={size}&page={page}>; rel=\"{rel}\""
        )
    };
    let mut links = Vec::new();
    if page < last {
        links.push(link(page + 1, "next"));
        links.push(link(last, "last"));
    }
    if page > 1 {
        links.push(link(page - 1, "prev"));
        links.push(link(1, "first"));
    }
    let headers = if links.is_empty() {
        Vec::new()
    } else {
        vec![("Link".to_owned(), links.join(", "))]
    };
    Some((200, Value::Array(listed), headers))
}

/// Gitea: `GET /pulls/{n}` and `GET /pulls/{n}/reviews`, at most 50 per
/// page (`MAX_RESPONSE_ITEMS`), with `X-Total-Count` and no `Link`.
fn serve_gitea_reviews(state: &State, request: &Recorded) -> Option<Answer> {
    let pull = format!("/api/v1/repos/octo/grants/pulls/{REVIEWED_PULL}");
    if request.method != "GET" {
        return None;
    }
    if request.path == pull {
        return Some((
            200,
            json!({"number": REVIEWED_PULL, "state": "open",
                   "head": {"ref": "feature", "sha": state.head(), "repo_id": 1},
                   "base": {"ref": "main", "sha": "0000000000000000000000000000000000000000", "repo_id": 1}}),
            Vec::new(),
        ));
    }
    if request.path != format!("{pull}/reviews") {
        return None;
    }
    let (page, size) = page_of(request, "limit", 50, 50);
    let listed: Vec<Value> = slice(&state.reviews, page, size)
        .iter()
        .enumerate()
        .map(|(index, review)| {
            json!({"id": 2000 + (page - 1) * size + index, "user": {"login": review.login},
                   "team": null, "state": review.state, "body": "", "commit_id": review.commit,
                   "stale": review.stale, "official": true, "dismissed": review.dismissed,
                   "comments_count": 0, "submitted_at": "2026-12-10T10:00:00Z"})
        })
        .collect();
    let total = vec![("X-Total-Count".to_owned(), state.reviews.len().to_string())];
    Some((200, Value::Array(listed), total))
}

/// GitLab: the project's approval settings (Premium), the merge request and
/// its approvals.
fn serve_gitlab_approvals(state: &State, request: &Recorded) -> Option<Answer> {
    let request_path = format!("/api/v4/projects/42/merge_requests/{REVIEWED_PULL}");
    if request.method != "GET" {
        return None;
    }
    if request.path == "/api/v4/projects/42/merge_request_approval_setting" {
        let setting =
            |value: bool| json!({"value": value, "locked": false, "inherited_from": null});
        return Some(match state.gitlab_retain_approvals {
            Some(retain) => (
                200,
                json!({"allow_author_approval": setting(false), "allow_committer_approval": setting(true),
                       "allow_overrides_to_approver_list_per_merge_request": setting(true),
                       "retain_approvals_on_push": setting(retain),
                       "selective_code_owner_removals": setting(false),
                       "require_password_to_approve": setting(false),
                       "require_reauthentication_to_approve": setting(false)}),
                Vec::new(),
            ),
            None => (404, json!({"message": "404 Not Found"}), Vec::new()),
        });
    }
    if request.path == request_path {
        return Some((
            200,
            json!({"iid": REVIEWED_PULL, "state": "opened", "sha": state.head(),
                   "source_branch": "feature", "target_branch": "main",
                   "source_project_id": 42, "target_project_id": 42}),
            Vec::new(),
        ));
    }
    if request.path == format!("{request_path}/approvals") {
        let approved_by: Vec<Value> = state
            .gitlab_approvers
            .iter()
            .enumerate()
            .map(|(id, username)| json!({"user": {"id": id + 1, "username": username, "name": username, "state": "active"}}))
            .collect();
        return Some((
            200,
            json!({"id": 1, "iid": REVIEWED_PULL, "project_id": 42, "state": "opened",
                   "approved": !approved_by.is_empty(), "approvals_required": 1,
                   "approvals_left": if approved_by.is_empty() { 1 } else { 0 },
                   "approved_by": approved_by}),
            Vec::new(),
        ));
    }
    None
}

fn serve_github(state: &mut State, request: &Recorded) -> (u16, Value) {
    let as_json = |pull: &Pull| {
        json!({"number": pull.number, "html_url": format!("https://github.test/octo/grants/pull/{}", pull.number),
               "title": pull.title, "body": pull.body})
    };
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/repos/octo/grants/pulls") => {
            let head = request.query.get("head").cloned().unwrap_or_default();
            let found: Vec<Value> = state
                .pulls
                .iter()
                .filter(|p| format!("{}:{}", p.fork.as_deref().unwrap_or("octo"), p.head) == head)
                .map(as_json)
                .collect();
            (200, Value::Array(found))
        }
        ("POST", "/repos/octo/grants/pulls") => {
            let pull = new_pull(state, &request.body, "head", "base", "body");
            (201, as_json(&pull))
        }
        ("PATCH", path) if path.starts_with("/repos/octo/grants/pulls/") => {
            let pull = update_pull(state, path, &request.body, "body");
            pull.map_or((404, json!({"message": "Not Found"})), |p| {
                (200, as_json(&p))
            })
        }
        _ => (404, json!({"message": "Not Found"})),
    }
}

fn serve_gitlab(state: &mut State, request: &Recorded) -> (u16, Value) {
    let as_json = |pull: &Pull| {
        // A fork is another project: GitLab names it by `source_project_id`.
        let source = if pull.fork.is_some() { 99 } else { 42 };
        json!({"iid": pull.number, "web_url": format!("https://gitlab.test/g/grants/-/merge_requests/{}", pull.number),
               "title": pull.title, "description": pull.body, "source_branch": pull.head,
               "target_branch": pull.base, "source_project_id": source, "target_project_id": 42})
    };
    match (request.method.as_str(), request.path.as_str()) {
        // A project addressed by its path: GitLab answers with the project.
        ("GET", "/api/v4/projects/octo%2Fgrants") => {
            (200, json!({"id": 42, "path_with_namespace": "octo/grants"}))
        }
        ("GET", "/api/v4/projects/42/merge_requests") => {
            let source = request
                .query
                .get("source_branch")
                .cloned()
                .unwrap_or_default();
            let found: Vec<Value> = state
                .pulls
                .iter()
                .filter(|p| p.head == source)
                .map(as_json)
                .collect();
            (200, Value::Array(found))
        }
        ("POST", "/api/v4/projects/42/merge_requests") => {
            let pull = new_pull(
                state,
                &request.body,
                "source_branch",
                "target_branch",
                "description",
            );
            (201, as_json(&pull))
        }
        ("PUT", path) if path.starts_with("/api/v4/projects/42/merge_requests/") => {
            let pull = update_pull(state, path, &request.body, "description");
            pull.map_or((404, json!({"message": "404 Not found"})), |p| {
                (200, as_json(&p))
            })
        }
        _ => (404, json!({"message": "404 Not found"})),
    }
}

/// Gitea lists open pull requests page by page, without a branch filter.
fn serve_gitea(state: &mut State, request: &Recorded) -> (u16, Value) {
    let as_json = |pull: &Pull| {
        json!({"number": pull.number, "html_url": format!("https://gitea.test/octo/grants/pulls/{}", pull.number),
               "title": pull.title, "body": pull.body,
               "head": {"ref": pull.head, "label": pull.head, "repo_id": if pull.fork.is_some() { 7 } else { 1 },
                        "repo": {"id": if pull.fork.is_some() { 7 } else { 1 },
                                 "full_name": format!("{}/grants", pull.fork.as_deref().unwrap_or("octo"))}},
               "base": {"ref": pull.base, "label": pull.base, "repo_id": 1,
                        "repo": {"id": 1, "full_name": "octo/grants"}}})
    };
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/api/v1/repos/octo/grants/pulls") => {
            let page = request.query.get("page").map_or(1, |p| p.parse().unwrap());
            let listed: Vec<Value> = if page == 1 {
                state.pulls.iter().map(as_json).collect()
            } else {
                Vec::new()
            };
            (200, Value::Array(listed))
        }
        ("POST", "/api/v1/repos/octo/grants/pulls") => {
            let pull = new_pull(state, &request.body, "head", "base", "body");
            (201, as_json(&pull))
        }
        ("PATCH", path) if path.starts_with("/api/v1/repos/octo/grants/pulls/") => {
            let pull = update_pull(state, path, &request.body, "body");
            pull.map_or((404, json!({"message": "not found"})), |p| {
                (201, as_json(&p))
            })
        }
        _ => (404, json!({"message": "not found"})),
    }
}

fn text(body: &Value, key: &str) -> String {
    body[key].as_str().unwrap_or_default().to_owned()
}

fn new_pull(state: &mut State, body: &Value, head: &str, base: &str, text_key: &str) -> Pull {
    let pull = Pull {
        number: state.pulls.len() as u64 + 1,
        head: text(body, head),
        base: text(body, base),
        title: text(body, "title"),
        body: text(body, text_key),
        fork: None,
    };
    state.pulls.push(pull.clone());
    pull
}

fn update_pull(state: &mut State, path: &str, body: &Value, text_key: &str) -> Option<Pull> {
    let number: u64 = path.rsplit('/').next()?.parse().ok()?;
    let pull = state.pulls.iter_mut().find(|p| p.number == number)?;
    pull.title = text(body, "title");
    pull.body = text(body, text_key);
    Some(pull.clone())
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}
