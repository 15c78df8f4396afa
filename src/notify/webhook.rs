//! Posting a JSON message to an incoming webhook whose URL is a secret:
//! the URL is read from the environment, never printed, and scrubbed from
//! whatever the HTTP client says about it.

use serde_json::Value;

use super::NotifyError;
use crate::forge::http::agent;
use crate::uri::{origin_of, redact_secret_url};

pub(super) struct Webhook {
    service: &'static str,
    variable: &'static str,
    url: String,
}

impl Webhook {
    pub(super) fn from_env(
        env: &dyn Fn(&str) -> Option<String>,
        channel: &'static str,
        service: &'static str,
        variable: &'static str,
    ) -> Result<Self, NotifyError> {
        let url = env(variable)
            .map(|url| url.trim().to_owned())
            .filter(|url| !url.is_empty())
            .ok_or(NotifyError::MissingWebhook { channel, variable })?;
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(NotifyError::InvalidWebhook { service, variable });
        }
        Ok(Self {
            service,
            variable,
            url,
        })
    }

    /// POSTs `payload`; any 2xx is success (Slack answers 200 `ok`,
    /// Teams Workflows 202 Accepted).
    pub(super) fn post(&self, payload: &Value) -> Result<(), NotifyError> {
        let scrub = |text: &str| redact_secret_url(text, &self.url);
        let mut response = agent()
            .post(&self.url)
            .header("Content-Type", "application/json")
            .send_json(payload)
            .map_err(|error| NotifyError::WebhookUnreachable {
                service: self.service,
                origin: origin_of(&self.url),
                reason: scrub(&error.to_string()),
                variable: self.variable,
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.body_mut().read_to_string().unwrap_or_default();
        let said: String = scrub(&body)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(200)
            .collect();
        Err(NotifyError::WebhookRefused {
            service: self.service,
            status: match status.canonical_reason() {
                Some(reason) => format!("{} {reason}", status.as_u16()),
                None => status.as_u16().to_string(),
            },
            said: match said.trim() {
                "" => "no explanation".to_owned(),
                text => text.to_owned(),
            },
            fix: match status.as_u16() {
                400 | 422 => "the message was refused; report it to lapse's maintainers".to_owned(),
                401 | 403 | 404 | 410 => format!(
                    "check that {} is the current webhook URL and that its channel still exists",
                    self.variable
                ),
                429 => format!("{} is limiting the rate of messages", self.service),
                _ => format!("{} failed on its side", self.service),
            },
        })
    }
}
