//! A git smart-HTTP server on 127.0.0.1: `git http-backend` run as a CGI
//! program behind tiny_http, guarding every request with HTTP basic auth,
//! as GitHub does. It lets a test check that the git CLI's credentials
//! (an `http.<url>.extraheader` as actions/checkout writes it, or a token
//! in the remote URL) reach the server.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use tiny_http::{Header, Response, Server};

pub struct GitHttp {
    /// `http://127.0.0.1:PORT`
    pub url: String,
}

impl GitHttp {
    /// Serves the bare repositories under `root`, accepting only requests
    /// that authenticate as `x-access-token:<token>`.
    pub fn start(root: &Path, token: &str) -> Self {
        let server = Server::http("127.0.0.1:0").unwrap();
        let port = server.server_addr().to_ip().unwrap().port();
        let root = root.to_path_buf();
        let expected = format!(
            "basic {}",
            STANDARD.encode(format!("x-access-token:{token}"))
        );
        thread::spawn(move || {
            for request in server.incoming_requests() {
                serve(&root, &expected, request);
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// The header value actions/checkout puts in `http.<url>.extraheader`.
    pub fn extraheader(token: &str) -> String {
        format!(
            "AUTHORIZATION: basic {}",
            STANDARD.encode(format!("x-access-token:{token}"))
        )
    }
}

fn serve(root: &PathBuf, expected: &str, mut request: tiny_http::Request) {
    let header = |name: &'static str| super::header(&request, name);
    let authorised =
        header("Authorization").is_some_and(|value| value.eq_ignore_ascii_case(expected));
    if !authorised {
        let challenge = Header::from_bytes("WWW-Authenticate", "Basic realm=\"git\"").unwrap();
        let _ = request.respond(
            Response::from_string("")
                .with_status_code(401)
                .with_header(challenge),
        );
        return;
    }
    let (path, query) = request.url().split_once('?').unwrap_or((request.url(), ""));
    let mut cgi = Command::new("git")
        .arg("http-backend")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REMOTE_USER", "x-access-token")
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("REQUEST_METHOD", request.method().to_string())
        .env("CONTENT_TYPE", header("Content-Type").unwrap_or_default())
        .env(
            "HTTP_CONTENT_ENCODING",
            header("Content-Encoding").unwrap_or_default(),
        )
        .env("GIT_PROTOCOL", header("Git-Protocol").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut body = Vec::new();
    request.as_reader().read_to_end(&mut body).unwrap();
    cgi.stdin.take().unwrap().write_all(&body).unwrap();
    let output = cgi.wait_with_output().unwrap();
    let split = output
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| (at, at + 4))
        .or_else(|| {
            output
                .stdout
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|at| (at, at + 2))
        })
        .unwrap();
    let head = String::from_utf8_lossy(&output.stdout[..split.0]).into_owned();
    let mut response = Response::from_data(output.stdout[split.1..].to_vec());
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("Status") {
            let code: u16 = value.trim()[..3].parse().unwrap();
            response = response.with_status_code(code);
        } else {
            response = response.with_header(Header::from_bytes(name.trim(), value.trim()).unwrap());
        }
    }
    let _ = request.respond(response);
}
