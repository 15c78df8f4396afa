//! The one place lapse speaks HTTP (through ureq): JSON in and out, and
//! every failure turned into one sentence that names the variable to fix.

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;
use ureq::Agent;
use ureq::http::StatusCode;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

use super::ForgeError;
pub use crate::uri::encode_segment;
use crate::uri::redact_credentials;

/// What to tell the user to check, in the words of each forge's CI.
#[derive(Debug, Clone, Copy)]
pub struct Hints {
    pub forge: &'static str,
    /// The variable holding the API URL, e.g. `GITHUB_API_URL`.
    pub url_variable: &'static str,
    /// For 401 and 403: which token, with which permission.
    pub token: &'static str,
    /// For 404: which variable names the repository or project.
    pub project: &'static str,
    /// For 5xx and unreachable: the command to run again.
    pub rerun: &'static str,
}

/// The methods that send a JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    Post,
    Patch,
    Put,
}

impl Write {
    fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Patch => "PATCH",
            Self::Put => "PUT",
        }
    }
}

/// The HTTP client every request of lapse goes through: forge APIs and
/// notification webhooks alike.
pub fn agent() -> Agent {
    Agent::config_builder()
        // Statuses are answers to explain, not transport errors.
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .user_agent(concat!("lapse/", env!("CARGO_PKG_VERSION")))
        .tls_config(TlsConfig::builder().root_certs(root_certs()).build())
        .build()
        .into()
}

/// A forge's REST API: base URL, authentication header and hints.
pub struct Api {
    agent: Agent,
    base_url: String,
    auth: (&'static str, String),
    hints: Hints,
}

/// Long enough for a slow forge, short enough that a scheduled job stuck
/// on a dead endpoint fails within its budget.
const TIMEOUT: Duration = Duration::from_secs(30);

impl Api {
    pub fn new(base_url: &str, auth: (&'static str, String), hints: Hints) -> Self {
        Self {
            agent: agent(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            auth,
            hints,
        }
    }

    pub fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ForgeError> {
        Ok(self.get_with_more(path, query)?.0)
    }

    /// Every item of a list endpoint, page by page. GitHub and GitLab say
    /// that a next page exists with `Link: <…>; rel="next"`
    /// (https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api,
    /// https://docs.gitlab.com/api/rest/#pagination), Gitea with
    /// `X-Total-Count` (its review list sends no `Link`). lapse asks for
    /// the next page number itself rather than following the link, so an
    /// answer cannot send the token to another host. More than
    /// `MAX_PAGES` is an error, never a silently shortened list: a review
    /// left out could be the one that withdrew an approval.
    pub fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        page_size: (&str, usize),
    ) -> Result<Vec<T>, ForgeError> {
        let size = page_size.1.to_string();
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES {
            let page = page.to_string();
            let mut paged = query.to_vec();
            paged.extend([(page_size.0, size.as_str()), ("page", page.as_str())]);
            let (items, more): (Vec<T>, More) = self.get_with_more(path, &paged)?;
            let empty = items.is_empty();
            all.extend(items);
            let announced = more.total.is_some_and(|total| all.len() < total);
            if empty || !(more.next_link || announced) {
                return Ok(all);
            }
        }
        Err(ForgeError::TooManyPages {
            forge: self.hints.forge,
            path: path.to_owned(),
            pages: MAX_PAGES,
        })
    }

    fn get_with_more<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<(T, More), ForgeError> {
        let request = self
            .agent
            .get(format!("{}{path}", self.base_url))
            .header(self.auth.0, &self.auth.1)
            .header("Accept", "application/json")
            .query_pairs(query.iter().copied());
        self.answer("GET", path, request.call())
    }

    pub fn send<T: DeserializeOwned>(
        &self,
        method: Write,
        path: &str,
        body: &Value,
    ) -> Result<T, ForgeError> {
        let url = format!("{}{path}", self.base_url);
        let request = match method {
            Write::Post => self.agent.post(url),
            Write::Patch => self.agent.patch(url),
            Write::Put => self.agent.put(url),
        };
        let request = request
            .header(self.auth.0, &self.auth.1)
            .header("Accept", "application/json");
        Ok(self
            .answer(method.as_str(), path, request.send_json(body))?
            .0)
    }

    fn answer<T: DeserializeOwned>(
        &self,
        method: &'static str,
        path: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(T, More), ForgeError> {
        let mut response = result.map_err(|error| ForgeError::Unreachable {
            forge: self.hints.forge,
            url: redact_credentials(&self.base_url),
            reason: redact_credentials(&error.to_string()),
            variable: self.hints.url_variable,
            rerun: self.hints.rerun,
        })?;
        let status = response.status();
        let more = More::of(response.headers());
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|error| self.unreadable(method, path, &error.to_string()))?;
        if !status.is_success() {
            return Err(ForgeError::Refused {
                forge: self.hints.forge,
                code: status.as_u16(),
                status: status_text(status),
                method,
                path: path.to_owned(),
                fix: self.fix(status, &text),
            });
        }
        serde_json::from_str(&text)
            .map(|value| (value, more))
            .map_err(|error| self.unreadable(method, path, &error.to_string()))
    }

    fn unreadable(&self, method: &'static str, path: &str, reason: &str) -> ForgeError {
        ForgeError::Unreadable {
            forge: self.hints.forge,
            method,
            path: path.to_owned(),
            reason: reason.to_owned(),
            variable: self.hints.url_variable,
        }
    }

    fn fix(&self, status: StatusCode, body: &str) -> String {
        match status.as_u16() {
            401 | 403 => format!("check {}", self.hints.token),
            404 => format!(
                "check {} and that the token can see it, and {}",
                self.hints.project, self.hints.url_variable
            ),
            500..=599 => format!(
                "{} failed on its side; rerun {} later",
                self.hints.forge, self.hints.rerun
            ),
            _ => format!("{} said: {}", self.hints.forge, forge_message(body)),
        }
    }
}

/// More pages than any pull request's reviews or lapse's own requests
/// fill; a forge that keeps answering "next" is misbehaving.
const MAX_PAGES: usize = 50;

/// What a list answer says about further pages.
#[derive(Debug, Clone, Copy, Default)]
struct More {
    next_link: bool,
    total: Option<usize>,
}

impl More {
    fn of(headers: &ureq::http::HeaderMap) -> Self {
        let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
        Self {
            next_link: text("link").is_some_and(has_next_link),
            total: text("x-total-count").and_then(|total| total.trim().parse().ok()),
        }
    }
}

/// Whether a `Link` header (RFC 8288) has a `rel="next"` target.
fn has_next_link(link: &str) -> bool {
    link.split(',').any(|target| {
        target
            .split(';')
            .skip(1)
            .any(|param| matches!(param.trim(), "rel=\"next\"" | "rel=next"))
    })
}

/// The CAs a forge's certificate may chain to: Mozilla's roots, bundled
/// in lapse (webpki-root-certs), and the system's store (rustls-native-certs:
/// SSL_CERT_FILE and SSL_CERT_DIR, else the distribution's bundle or the
/// macOS keychain). Self-hosted GitLab, Gitea and GitHub Enterprise Server
/// are often behind an internal CA that only the system store knows, while
/// a minimal CI image may have no store at all; trusting both covers each.
/// ureq's `platform-verifier` feature would use the system's verifier
/// instead of the bundled roots, not beside them, hence this list. A store
/// that fails to load leaves the bundled roots.
fn root_certs() -> RootCerts {
    let system = rustls_native_certs::load_native_certs().certs;
    let bundled = webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter();
    let certs: Vec<Certificate<'static>> = bundled
        .chain(system.iter())
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    RootCerts::Specific(Arc::new(certs))
}

fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// The forge's own explanation, on one line and bounded: GitHub and Gitea
/// send `{"message": …, "errors": […]}`, GitLab `{"message": …}` where the
/// message may itself be a list or a map.
fn forge_message(body: &str) -> String {
    let text = match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(map)) => {
            let mut parts: Vec<String> = map.get("message").map(compact).into_iter().collect();
            if let Some(Value::Array(errors)) = map.get("errors") {
                parts.extend(
                    errors
                        .iter()
                        .map(|e| compact(e.get("message").unwrap_or(e))),
                );
            }
            parts.join("; ")
        }
        _ => body.to_owned(),
    };
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    if line.trim().is_empty() {
        "no explanation".to_owned()
    } else {
        line
    }
}

fn compact(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cannot_add_path_components() {
        assert_eq!(encode_segment("group/sub project"), "group%2Fsub%20project");
        assert_eq!(encode_segment("lapse-1.0_x~"), "lapse-1.0_x~");
    }

    #[test]
    fn next_links_are_found_among_others() {
        assert!(has_next_link(
            r#"<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last""#
        ));
        assert!(!has_next_link(
            r#"<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=1>; rel="first""#
        ));
        assert!(!has_next_link(r#"<https://x/next>; rel="last""#));
    }

    #[test]
    fn forge_messages_are_one_bounded_line() {
        let body = r#"{"message":"Validation Failed","errors":[{"message":"A pull request already exists"}]}"#;
        assert_eq!(
            forge_message(body),
            "Validation Failed; A pull request already exists"
        );
        assert_eq!(forge_message(&"x\n".repeat(500)).len(), 300);
    }
}
