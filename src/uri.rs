//! Percent-encoding of URI path segments, for forge API paths and SARIF
//! artifact locations alike, and the one function that hides credentials
//! in URLs before lapse prints anything that may hold one.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one path segment, so that a value (an owner, a GitLab
/// project path like `group/project`, a file name) cannot add segments.
pub fn encode_segment(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// The text with the credentials of every URL in it hidden:
/// `https://x-access-token:ghs_…@github.com/o/r.git` reads
/// `https://***@github.com/o/r.git`. Every message, report and error that
/// may carry a URL lapse was given (a push remote, a forge's API URL) or
/// one that git or the HTTP client echoes goes through it: a CI log is
/// read by everyone who can read the repository.
pub fn redact_credentials(text: &str) -> String {
    let mut redacted = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let (before, after) = rest.split_at(scheme_end + 3);
        redacted.push_str(before);
        // RFC 3986: the authority ends at the first `/`, `?` or `#`; the
        // user information is what precedes its last `@`.
        let authority_end = after
            .find(|c: char| matches!(c, '/' | '?' | '#' | '\'' | '"' | '`') || c.is_whitespace())
            .unwrap_or(after.len());
        match after[..authority_end].rfind('@') {
            Some(at) => {
                redacted.push_str("***");
                rest = &after[at..];
            }
            None => rest = after,
        }
    }
    redacted.push_str(rest);
    redacted
}

/// `scheme://host[:port]` of a URL, without credentials, path or query:
/// how lapse names an endpoint whose whole URL is a secret (a Slack or
/// Teams webhook carries its credential in the path).
pub fn origin_of(url: &str) -> String {
    let Some((scheme, rest)) = url.trim().split_once("://") else {
        return "the webhook".to_owned();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}")
}

/// The text with every occurrence of the secret URL, and of its path and
/// query, replaced by `***`, then with credentials in other URLs hidden:
/// for messages of an HTTP client that was given a secret URL.
pub fn redact_secret_url(text: &str, secret: &str) -> String {
    let secret = secret.trim();
    let mut redacted = text.replace(secret, "***");
    if let Some((_, rest)) = secret.split_once("://")
        && let Some(at) = rest.find(['/', '?'])
        && rest.len() - at > 1
    {
        redacted = redacted.replace(&rest[at..], "/***");
    }
    redact_credentials(&redacted)
}

#[cfg(test)]
mod tests {
    use super::{origin_of, redact_credentials, redact_secret_url};

    #[test]
    fn secret_urls_are_named_by_their_origin_and_scrubbed_from_messages() {
        let hook = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";
        assert_eq!(origin_of(hook), "https://hooks.slack.com");
        assert_eq!(
            origin_of("http://u:p@127.0.0.1:8080/x?y"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            redact_secret_url(&format!("bad uri: {hook}"), hook),
            "bad uri: ***"
        );
        assert_eq!(
            redact_secret_url("GET /services/T000/B000/XXXXSECRET failed", hook),
            "GET /*** failed"
        );
    }

    #[test]
    fn credentials_in_urls_are_hidden_wherever_they_are_in_the_text() {
        assert_eq!(
            redact_credentials(
                "fatal: unable to access 'https://x-access-token:ghs_secret@github.com/o/r.git/': 403"
            ),
            "fatal: unable to access 'https://***@github.com/o/r.git/': 403"
        );
        assert_eq!(
            redact_credentials("`http://u:p@a:1/x` and file://t@/srv/r.git"),
            "`http://***@a:1/x` and file://***@/srv/r.git"
        );
        assert_eq!(
            redact_credentials("http://u:p@host?q=a@b"),
            "http://***@host?q=a@b"
        );
    }

    #[test]
    fn urls_without_credentials_and_plain_text_are_unchanged() {
        for text in [
            "To https://github.com/o/r.git",
            "maria@example.com approved",
            "git@github.com:o/r.git",
            "",
        ] {
            assert_eq!(redact_credentials(text), text);
        }
    }
}
