//! Grant files: text to `Grant`, with the grant id taken from the file stem.

use std::path::Path;

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::model::{Grant, GrantFile, Position};

use super::plain_grant::parse_plain_grant;
use super::yaml::parse_strict;

pub const INVALID_GRANT_ID: Rule = Rule {
    id: "invalid-grant-id",
    severity: Severity::Error,
    summary: "the file stem is not a valid grant id",
    help: "rename the file: a grant id is lower-case letters, digits and dashes, starting with a letter or digit ([a-z0-9][a-z0-9-]*)",
};

/// Longest grant id: it becomes part of Terraform resource names, IAM
/// policy names (128 characters at most) and branch names.
pub const MAX_GRANT_ID_LENGTH: usize = 64;

/// Parses one grant file. `path` is relative to the repository root.
pub fn parse_grant(path: &Path, text: &str) -> Result<Grant, Diagnostic> {
    let id = grant_id_of(path)?;
    let file: GrantFile = match parse_plain_grant(text) {
        Some(file) => file,
        None => parse_strict(path, text)?,
    };
    Ok(Grant {
        id,
        path: path.to_path_buf(),
        file,
    })
}

/// The grant id a path stands for, if its stem is a valid id.
pub fn grant_id_of(path: &Path) -> Result<String, Diagnostic> {
    let stem = stem_of(path);
    if is_valid_grant_id(&stem) {
        Ok(stem.into_owned())
    } else {
        Err(INVALID_GRANT_ID.at(
            path,
            Position::new(1, 1),
            format!("`{}` is not a valid grant id", stem.escape_debug()),
        ))
    }
}

/// Whether `path` names a grant: `grant_id_of` without making the id or
/// the finding, for listings of thousands of files.
pub fn has_grant_id(path: &Path) -> bool {
    is_valid_grant_id(&stem_of(path))
}

fn stem_of(path: &Path) -> std::borrow::Cow<'_, str> {
    path.file_stem().unwrap_or_default().to_string_lossy()
}

pub fn is_valid_grant_id(id: &str) -> bool {
    let mut chars = id.chars();
    let valid_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    id.len() <= MAX_GRANT_ID_LENGTH
        && chars.next().is_some_and(valid_char)
        && chars.all(|c| valid_char(c) || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str =
        "subject: alex@example.com\nrole: deployer\nexpires: 2026-12-06T17:00:00Z\n";

    #[test]
    fn reads_the_id_from_the_file_stem() {
        let grant = parse_grant(Path::new("grants/team/alex-deploy.yaml"), VALID).unwrap();
        assert_eq!(grant.id, "alex-deploy");
        assert_eq!(grant.file.subject.value, "alex@example.com");
        assert_eq!(grant.file.role.at, Position::new(2, 7));
    }

    #[test]
    fn rejects_ids_with_upper_case_dots_or_leading_dash() {
        for stem in ["Alex", "-alex", "alex.deploy", "alex_deploy", ""] {
            assert!(!is_valid_grant_id(stem), "{stem} accepted");
        }
        assert!(is_valid_grant_id("0-alex-2"));
    }

    #[test]
    fn unknown_field_is_a_parse_error_on_its_line() {
        let text = format!("{VALID}colour: blue\n");
        let finding = parse_grant(Path::new("grants/a.yaml"), &text).unwrap_err();
        assert_eq!(finding.rule, "parse-error");
        assert_eq!(finding.line, 4);
        assert!(finding.message.contains("colour"), "{}", finding.message);
    }

    #[test]
    fn duplicate_key_is_a_parse_error_on_the_second_occurrence() {
        let text = format!("{VALID}role: admin\n");
        let finding = parse_grant(Path::new("grants/a.yaml"), &text).unwrap_err();
        assert_eq!(finding.rule, "parse-error");
        assert_eq!(finding.line, 4, "{finding:?}");
    }

    #[test]
    fn wrong_type_is_a_parse_error() {
        let text = "subject: [a, b]\nrole: deployer\n";
        let finding = parse_grant(Path::new("grants/a.yaml"), text).unwrap_err();
        assert_eq!(finding.rule, "parse-error");
        assert_eq!(finding.line, 1);
    }

    #[test]
    fn alias_bomb_is_refused_quickly() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..12 {
            let previous = level - 1;
            text.push_str(&format!(
                "a{level}: &a{level} [*a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}]\n"
            ));
        }
        text.push_str("subject: *a11\nrole: r\n");
        let finding = parse_grant(Path::new("grants/bomb.yaml"), &text).unwrap_err();
        assert_eq!(finding.rule, "parse-error");
    }
}
