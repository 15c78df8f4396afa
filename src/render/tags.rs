//! AWS tags that IAM accepts whatever a grant contains.
//!
//! IAM tag limits (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html):
//! keys at most 128 characters, values at most 256, both drawn from
//! letters, digits, white space and `_ . : / = + - @`. A value outside
//! that is sanitised rather than refused: a tag is a label for people
//! reading the console, and the grant file stays the record.

use std::collections::BTreeMap;

use crate::model::Grant;
use crate::model::timestamp::format_timestamp;

pub const MAX_TAG_KEY_CHARS: usize = 128;
pub const MAX_TAG_VALUE_CHARS: usize = 256;

/// The tags of a grant's AWS resources, already within IAM's limits.
pub fn aws_tags(grant: &Grant) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::new();
    let mut put = |key: &str, value: &str| {
        tags.insert(
            sanitise(key, MAX_TAG_KEY_CHARS),
            sanitise(value, MAX_TAG_VALUE_CHARS),
        );
    };
    put("lapse:grant-id", &grant.id);
    put("lapse:role", &grant.file.role);
    put("lapse:subject", &grant.file.subject);
    // Commas are outside IAM's tag character set; a space separates.
    put(
        "lapse:approvers",
        &grant.approver_names().collect::<Vec<_>>().join(" "),
    );
    if let Some(expires) = grant.expires_at() {
        put("lapse:expires", &format_timestamp(&expires));
    }
    if let Some(starts) = grant.starts_at() {
        put("lapse:starts", &format_timestamp(&starts));
    }
    if let Some(ticket) = &grant.file.ticket {
        put("lapse:ticket", ticket);
    }
    tags
}

/// `text` with every character IAM refuses replaced by `_`, cut to `max`
/// characters (IAM counts characters, not bytes).
pub fn sanitise(text: &str, max: usize) -> String {
    text.chars()
        .map(|c| if is_tag_char(c) { c } else { '_' })
        .take(max)
        .collect()
}

/// IAM's tag pattern `[\p{L}\p{Z}\p{N}_.:/=+\-@]`.
fn is_tag_char(c: char) -> bool {
    // \p{Z} is space separators (Zs) plus the line and paragraph
    // separators; `char::is_whitespace` would also admit tabs and newlines.
    let separator = c == '\u{2028}' || c == '\u{2029}' || (c.is_whitespace() && !c.is_control());
    c.is_alphanumeric() || separator || "_.:/=+-@".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_characters_become_underscores() {
        assert_eq!(sanitise("PAY-123, \"urgent\"\n", 256), "PAY-123_ _urgent__");
    }

    #[test]
    fn letters_of_every_script_and_at_signs_are_kept() {
        assert_eq!(sanitise("jörg@例え.jp", 256), "jörg@例え.jp");
    }

    #[test]
    fn long_values_are_cut_at_the_character_limit_not_the_byte_limit() {
        let value = sanitise(&"é".repeat(300), MAX_TAG_VALUE_CHARS);
        assert_eq!(value.chars().count(), 256);
    }
}
