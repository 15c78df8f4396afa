//! Text from grants, file names, the policy and commits on its way to a
//! terminal. Whoever opens a pull request writes those values, and a
//! terminal obeys the control characters in them: ESC starts sequences
//! that clear the screen, move the cursor or retitle the window, CR and
//! BS overwrite what was already printed, and a line break forges a line
//! of lapse's own. Bidirectional overrides reorder what is shown without
//! being seen (Trojan Source, CVE-2021-42574, https://trojansource.codes).
//! Every human output passes such text through [`printable`] before it is
//! written, and styles its own output (colours) only afterwards.

use std::borrow::Cow;

/// `text` with every control character (Unicode `Cc`: C0, DEL and C1,
/// line breaks included) and every bidirectional formatting character
/// written as a visible escape such as `\u{1b}` or `\r`. Tabs are kept: a
/// tab only moves the cursor, and YAML allows them.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if needs_escape(c) {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

/// [`printable`] for text made of lines, such as an error with its causes:
/// each line escaped, the line breaks between them kept.
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && needs_escape(c)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.split('\n')
            .map(printable)
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t') || is_bidi_control(c)
}

/// The explicit directional formatting characters of the Unicode
/// Bidirectional Algorithm (https://www.unicode.org/reports/tr9/#Explicit_Directional_Embeddings
/// and the marks of section 2.6), the set rustc also refuses in source
/// (`text_direction_codepoint_in_literal`).
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let text = "maria@example.com\tDéploiement 42";
        assert!(matches!(printable(text), Cow::Borrowed(t) if t == text));
        assert!(matches!(printable_lines("a\nb"), Cow::Borrowed("a\nb")));
    }

    #[test]
    fn controls_and_direction_overrides_become_visible_escapes() {
        assert_eq!(
            printable("a\u{1b}[2Jb\u{7}\r\n\u{9b}c\u{202e}d\u{7f}"),
            r"a\u{1b}[2Jb\u{7}\r\n\u{9b}c\u{202e}d\u{7f}"
        );
    }

    #[test]
    fn lines_keep_their_breaks_but_nothing_else() {
        assert_eq!(
            printable_lines("first\u{1b}]0;x\u{7}\nsecond\r"),
            "first\\u{1b}]0;x\\u{7}\nsecond\\r"
        );
    }
}
