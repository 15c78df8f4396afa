//! `lapse expiring --notify` on 10,000 grants against fake Slack and GitHub
//! endpoints on 127.0.0.1, next to `lapse expiring` without notifications
//! measured in the same run: what delivering the warnings adds to the
//! daily job.
//!
//! Run with `cargo bench --bench expiring`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tiny_http::{Header, Response, Server};

const GRANTS: usize = 10_000;
const PEOPLE: usize = 200;
const RUNS: usize = 7;
const NOW: &str = "2026-12-10T12:00:00Z";

fn main() {
    let repo = tempfile::tempdir().expect("temporary directory");
    write_repository(repo.path());
    let fake = Fake::start();
    let slack = format!("{}/services/T0/B0/bench", fake.url);
    let env = [
        ("LAPSE_SLACK_WEBHOOK", slack),
        ("GITHUB_API_URL", fake.url.clone()),
        ("GITHUB_TOKEN", "ghs_bench".to_owned()),
        ("GITHUB_REPOSITORY", "octo/grants".to_owned()),
    ];
    let run = |extra: &[&str], reset: bool| {
        time(repo.path(), &env, extra, || {
            if reset {
                fake.reset();
            }
        })
    };
    let plain = run(&["--format", "json"], false);
    let slack = run(&["--notify", "slack"], false);
    let first_issue = run(&["--notify", "github-issue"], true);
    let rerun_issue = run(&["--notify", "github-issue"], false);
    let (in_window, posts) = fake.counts();
    println!(
        "lapse expiring, {GRANTS} grants ({in_window} grants and contract ends within 7d), {RUNS} runs after one warm-up ({posts} webhook posts):"
    );
    println!("  expiring --format json              {}", summary(&plain));
    println!("  expiring --notify slack             {}", summary(&slack));
    println!(
        "  expiring --notify github-issue, new {}",
        summary(&first_issue)
    );
    println!(
        "  expiring --notify github-issue, rerun {}",
        summary(&rerun_issue)
    );
    for (name, times) in [
        ("slack", &slack),
        ("github-issue new", &first_issue),
        ("github-issue rerun", &rerun_issue),
    ] {
        println!(
            "  {name}: {:.2}x expiring without --notify",
            median(times).as_secs_f64() / median(&plain).as_secs_f64()
        );
    }
}

/// Runs `lapse expiring` once to warm the page cache, then `RUNS` times,
/// calling `before` before each run.
fn time(repo: &Path, env: &[(&str, String)], extra: &[&str], before: impl Fn()) -> Vec<Duration> {
    (0..=RUNS)
        .map(|_| {
            before();
            let started = Instant::now();
            let output = Command::new(env!("CARGO_BIN_EXE_lapse"))
                .args(["expiring", "--now", NOW, "--repo"])
                .arg(repo)
                .args(extra)
                .envs(env.iter().map(|(k, v)| (k, v)))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .output()
                .expect("run lapse");
            let elapsed = started.elapsed();
            assert!(
                output.status.success(),
                "{extra:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            elapsed
        })
        .skip(1)
        .collect()
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn summary(times: &[Duration]) -> String {
    let min = times.iter().min().copied().unwrap_or_default();
    let max = times.iter().max().copied().unwrap_or_default();
    format!(
        "median {:>7.1} ms  (min {:.1}, max {:.1})",
        median(times).as_secs_f64() * 1e3,
        min.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    )
}

fn person(index: usize) -> String {
    format!("person{index:03}@example.com")
}

/// 200 people, ten of whose contracts end within the week; one
/// break-glass role; 10,000 grants whose ends are spread over 60 days, so
/// about 1,170 end within the 7d window and 170 enter it on the bench day.
fn write_repository(root: &Path) {
    let mut policy = String::from("version: 1\ndefaults:\n  warn_before: 7d\npeople:\n");
    for index in 0..PEOPLE {
        let _ = writeln!(policy, "  {}:\n    github: p{index}-gh", person(index));
        if index % 20 == 0 {
            let _ = writeln!(
                policy,
                "    contract_ends: 2026-12-{:02}T18:00:00Z",
                11 + index / 40
            );
        }
    }
    policy.push_str("roles:\n");
    for (name, extra) in [
        ("deployer", ""),
        (
            "emergency",
            "    break_glass: {max_duration: 4h, review_within: 24h}\n",
        ),
    ] {
        let _ = write!(
            policy,
            "  {name}:\n    approvers: [{}]\n{extra}    github:\n      repository: org/service\n      permission: push\n",
            person(0)
        );
    }
    std::fs::write(root.join("lapse.yaml"), policy).expect("write the policy");
    let dir = root.join("grants");
    std::fs::create_dir_all(&dir).expect("create the grants tree");
    for grant in 0..GRANTS {
        let day = grant % 60;
        let ends = chrono_free_date(day);
        let role = if grant % 500 == 0 {
            "emergency"
        } else {
            "deployer"
        };
        let text = format!(
            "subject: {}\nrole: {role}\nreason: Work on ticket OPS-{grant}\napprovers: [{}]\nexpires: {ends}T09:00:00Z\n",
            person(1 + grant % (PEOPLE - 1)),
            person(0)
        );
        std::fs::write(dir.join(format!("grant-{grant:05}.yaml")), text).expect("write a grant");
    }
}

/// 2026-12-10 plus `days`, as `YYYY-MM-DD` (December, then January and
/// February 2027).
fn chrono_free_date(days: usize) -> String {
    let day = 10 + days;
    match day {
        ..=31 => format!("2026-12-{day:02}"),
        32..=62 => format!("2027-01-{:02}", day - 31),
        _ => format!("2027-02-{:02}", day - 62),
    }
}

/// A Slack webhook that answers `ok`, and just enough of GitHub's issues
/// API for one issue.
struct Fake {
    url: String,
    state: Arc<Mutex<FakeState>>,
}

#[derive(Default)]
struct FakeState {
    issue: Option<Value>,
    posts: usize,
    in_window: usize,
}

impl Fake {
    fn start() -> Self {
        let server = Server::http("127.0.0.1:0").expect("listen on 127.0.0.1");
        let port = server.server_addr().to_ip().expect("an IP address").port();
        let state = Arc::new(Mutex::new(FakeState::default()));
        let shared = Arc::clone(&state);
        thread::spawn(move || {
            for mut request in server.incoming_requests() {
                let mut text = String::new();
                let _ = request.as_reader().read_to_string(&mut text);
                let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                let path = request
                    .url()
                    .split('?')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let method = request.method().as_str().to_owned();
                let answer = serve(
                    &mut shared.lock().expect("fake state"),
                    &method,
                    &path,
                    body,
                );
                let response = Response::from_string(answer.to_string())
                    .with_header(
                        Header::from_bytes("Content-Type", "application/json").expect("header"),
                    )
                    .with_status_code(if method == "POST" { 201 } else { 200 });
                let _ = request.respond(response);
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}"),
            state,
        }
    }

    fn reset(&self) {
        self.state.lock().expect("fake state").issue = None;
    }

    fn counts(&self) -> (usize, usize) {
        let state = self.state.lock().expect("fake state");
        (state.in_window, state.posts)
    }
}

fn serve(state: &mut FakeState, method: &str, path: &str, body: Value) -> Value {
    let issue_path = "/repos/octo/grants/issues";
    match (method, path) {
        ("POST", path) if path.starts_with("/services/") => {
            state.posts += 1;
            json!("ok")
        }
        ("GET", path) if path == issue_path => json!(state.issue.iter().collect::<Vec<_>>()),
        ("POST", path) if path == issue_path => {
            let issue = json!({"number": 1, "html_url": "https://github.test/octo/grants/issues/1",
                               "state": "open", "body": body["body"]});
            state.issue = Some(issue.clone());
            issue
        }
        ("PATCH", _) => {
            let issue = state.issue.get_or_insert_with(|| json!({"number": 1}));
            issue["body"] = body["body"].clone();
            issue["state"] = body["state"].clone();
            let text = body["body"].as_str().unwrap_or_default();
            state.in_window = text
                .split("<!-- lapse:announced")
                .nth(1)
                .map_or(0, |keys| keys.split_whitespace().count() - 1);
            issue.clone()
        }
        _ => json!({"id": 1}),
    }
}
