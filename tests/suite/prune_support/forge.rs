//! A fake forge on 127.0.0.1 that speaks just enough of the GitHub pulls
//! API and the GitLab merge requests API, keeps its pull requests in
//! memory and records every request for the test to assert on.

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

#[derive(Default)]
struct State {
    requests: Vec<Recorded>,
    pulls: Vec<Pull>,
    /// (method, status): the next request with that method is answered
    /// with that status instead of being served.
    failures: Vec<(String, u16)>,
}

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
                let (status, body) = {
                    let mut state = shared.lock().unwrap();
                    state.requests.push(recorded.clone());
                    let failure = state
                        .failures
                        .iter()
                        .position(|(method, _)| *method == recorded.method);
                    match failure {
                        Some(index) => {
                            let (_, status) = state.failures.remove(index);
                            (status, json!({"message": "injected failure"}))
                        }
                        None => serve(flavour, &mut state, &recorded),
                    }
                };
                let header = Header::from_bytes("Content-Type", "application/json").unwrap();
                let response = Response::from_string(body.to_string())
                    .with_status_code(status)
                    .with_header(header);
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
            .push((method.to_owned(), status));
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

fn serve(flavour: Flavour, state: &mut State, request: &Recorded) -> (u16, Value) {
    match flavour {
        Flavour::GitHub => serve_github(state, request),
        Flavour::GitLab => serve_gitlab(state, request),
        Flavour::Gitea => serve_gitea(state, request),
    }
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
