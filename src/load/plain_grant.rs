//! A fast reader for the plainest grant files, in front of the full YAML
//! parser. Audit mode parses every committed version of every grant (tens
//! of thousands in a large repository) and the general parser spends about
//! 13 µs on each; this reader takes a small fraction of that on the files
//! people and `lapse new` write.
//!
//! It is a subset, never a dialect: it answers only for text it fully
//! understands and returns `None` for anything else (quotes, comments after
//! a value, anchors, tags, tabs, non-ASCII, multi-line values, duplicate or
//! unknown keys, a missing field), which then goes to the full parser with
//! its error messages. Where it answers, the result, positions included,
//! is what the full parser gives; `tests/plain_grant.rs` and the
//! `plain_grant` fuzz target compare the two.
//!
//! Accepted, line by line: blank lines; `#` comments starting in column 1;
//! `field: value` starting in column 1, with one space after the colon;
//! `approvers: [a, b]` (items separated by `, `) or `approvers:` followed by
//! `- item` lines, all equally indented. A value starts with a letter or a
//! digit, and contains no `#`, no brackets or braces, no `: ` and no
//! trailing `:` or space; in a flow list, no comma either.

use super::yaml::parse_strict;
use crate::model::{GrantFile, Position, Spanned};

/// The grant `text` holds, or `None` when it is not in the plain subset.
pub fn parse_plain_grant(text: &str) -> Option<GrantFile> {
    if !text
        .bytes()
        .all(|b| b == b'\n' || (b' '..=b'~').contains(&b))
    {
        return None;
    }
    let mut fields = Fields::default();
    let mut lines = text.split('\n').zip(1u32..).peekable();
    while let Some((line, number)) = lines.next() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line.split_once(':')?;
        if value.is_empty() && name == "approvers" {
            fields.set_approvers(block_list(&mut lines)?)?;
            continue;
        }
        let value = value.strip_prefix(' ')?;
        let column = u32::try_from(name.len() + 3).ok()?;
        let at = Position::new(number, column);
        if name == "approvers" {
            fields.set_approvers(flow_list(value, at)?)?;
        } else {
            fields.set_scalar(name, Spanned::new(plain_scalar(value, false)?, at))?;
        }
    }
    fields.finish()
}

/// The grant fields seen so far; a second occurrence of a field, an
/// unknown field or a missing required one leaves the file to the full
/// parser, which reports it.
#[derive(Default)]
struct Fields {
    subject: Option<Spanned<String>>,
    role: Option<Spanned<String>>,
    reason: Option<Spanned<String>>,
    ticket: Option<Spanned<String>>,
    approvers: Option<Vec<Spanned<String>>>,
    starts: Option<Spanned<String>>,
    expires: Option<Spanned<String>>,
}

impl Fields {
    fn set_scalar(&mut self, name: &str, value: Spanned<String>) -> Option<()> {
        let slot = match name {
            "subject" => &mut self.subject,
            "role" => &mut self.role,
            "reason" => &mut self.reason,
            "ticket" => &mut self.ticket,
            "starts" => &mut self.starts,
            "expires" => &mut self.expires,
            _ => return None,
        };
        slot.is_none().then(|| *slot = Some(value))
    }

    fn set_approvers(&mut self, approvers: Vec<Spanned<String>>) -> Option<()> {
        self.approvers
            .is_none()
            .then(|| self.approvers = Some(approvers))
    }

    fn finish(self) -> Option<GrantFile> {
        Some(GrantFile {
            subject: self.subject?,
            role: self.role?,
            reason: self.reason,
            ticket: self.ticket,
            approvers: self.approvers.unwrap_or_default(),
            starts: self.starts,
            expires: self.expires,
        })
    }
}

/// `[a, b]` after `approvers: `, which starts at `at`.
fn flow_list(value: &str, at: Position) -> Option<Vec<Spanned<String>>> {
    let inner = value.strip_prefix('[')?.strip_suffix(']')?;
    if inner.is_empty() {
        return Some(Vec::new());
    }
    let mut column = at.column + 1;
    let mut items = Vec::new();
    for item in inner.split(", ") {
        items.push(Spanned::new(
            plain_scalar(item, true)?,
            Position::new(at.line, column),
        ));
        column += u32::try_from(item.len() + 2).ok()?;
    }
    Some(items)
}

/// The `- item` lines after `approvers:`; comment lines may sit between
/// them, and at least one item is needed (an empty `approvers:` is null,
/// which the full parser refuses).
fn block_list<'a>(
    lines: &mut std::iter::Peekable<impl Iterator<Item = (&'a str, u32)>>,
) -> Option<Vec<Spanned<String>>> {
    let mut indent = None;
    let mut items = Vec::new();
    while let Some(&(line, number)) = lines.peek() {
        if line.starts_with('#') {
            lines.next();
            continue;
        }
        let Some(dash) = line.find('-') else { break };
        if line[..dash].bytes().any(|b| b != b' ') {
            break;
        }
        if *indent.get_or_insert(dash) != dash {
            return None;
        }
        let value = line[dash + 1..].strip_prefix(' ')?;
        let column = u32::try_from(dash + 3).ok()?;
        items.push(Spanned::new(
            plain_scalar(value, false)?,
            Position::new(number, column),
        ));
        lines.next();
    }
    (!items.is_empty()).then_some(items)
}

/// A plain scalar that means the same text in any YAML reading: no
/// indicator up front, no comment, no nested structure, no null.
fn plain_scalar(value: &str, in_flow: bool) -> Option<String> {
    let first = value.bytes().next()?;
    let forbidden = |b: u8| matches!(b, b'#' | b'[' | b']' | b'{' | b'}') || (in_flow && b == b',');
    let plain = first.is_ascii_alphanumeric()
        && !value.ends_with([' ', ':'])
        && !value.contains(": ")
        && !value.bytes().any(forbidden)
        && !matches!(value, "null" | "Null" | "NULL");
    plain.then(|| value.to_owned())
}

/// The invariant, for the differential test and the fuzz target: where
/// the fast reader answers, the full parser gives the same values at the
/// same positions. `Err` describes a disagreement.
pub fn check_agreement(text: &str) -> Result<(), String> {
    let Some(fast) = parse_plain_grant(text) else {
        return Ok(());
    };
    let full: GrantFile = parse_strict(std::path::Path::new("grant.yaml"), text)
        .map_err(|finding| format!("the full parser refuses it: {}", finding.message))?;
    let (fast, full) = (spanned_values(&fast), spanned_values(&full));
    if fast == full {
        Ok(())
    } else {
        Err(format!("fast reader {fast:?}, full parser {full:?}"))
    }
}

/// Every value with its position, in field order.
fn spanned_values(file: &GrantFile) -> Vec<(&str, Position)> {
    let optional = [&file.reason, &file.ticket, &file.starts, &file.expires];
    [&file.subject, &file.role]
        .into_iter()
        .chain(optional.into_iter().flatten())
        .chain(&file.approvers)
        .map(|value| (value.value.as_str(), value.at))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_grant_as_lapse_new_writes_it() {
        let text = "subject: alex@example.com\nrole: deployer\nreason: Release 4.2 (INC-1)\napprovers: [maria@example.com, li@example.com]\nexpires: 2026-12-06T17:00:00Z\n";
        let file = parse_plain_grant(text).expect("plain");
        assert_eq!(file.subject.at, Position::new(1, 10));
        assert_eq!(file.approvers[1].value, "li@example.com");
        assert_eq!(file.approvers[1].at, Position::new(4, 32));
        assert_eq!(file.expires.unwrap().at, Position::new(5, 10));
    }

    #[test]
    fn leaves_anything_unusual_to_the_full_parser() {
        for text in [
            "subject: 'alex'\nrole: r\n",
            "subject: alex # who\nrole: r\n",
            "subject: alex\nrole: r\nrole: s\n",
            "subject: alex\nrole: r\ncolour: blue\n",
            "subject: alex\n",
            "subject: null\nrole: r\n",
            "---\nsubject: alex\nrole: r\n",
            "subject: alex\nrole: r\napprovers:\n",
            "subject: alex\nrole: r\napprovers:\n  - a\n   - b\n",
            "subject: alex\nrole: r\nreason: two\n  lines\n",
            "subject: alex\r\nrole: r\n",
            "subject: ålex\nrole: r\n",
        ] {
            assert!(parse_plain_grant(text).is_none(), "{text:?}");
        }
    }
}
