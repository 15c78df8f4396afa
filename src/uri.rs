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

#[cfg(test)]
mod tests {
    use super::redact_credentials;

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
