//! Strict YAML: the parser settings every lapse file is read with, and the
//! conversion of parser errors into `parse-error` findings.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_saphyr::{Budget, DuplicateKeyPolicy, Options};

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::model::Position;

pub const PARSE_ERROR: Rule = Rule {
    id: "parse-error",
    severity: Severity::Error,
    summary: "invalid YAML, unknown field, duplicate key or wrong type",
    help: "fix the YAML at this position; `lapse schema` prints the accepted fields and types",
};

/// Bounds chosen so that a hostile file cannot exhaust memory or time: a
/// grant is a dozen fields and a policy a few hundred lines, so these leave
/// generous room for real files while an alias bomb ("billion laughs")
/// stops after a few thousand replayed events.
fn strict_options() -> Options {
    let mut budget = Budget::default();
    budget.max_events = 200_000;
    budget.max_aliases = 100;
    budget.max_anchors = 100;
    budget.max_depth = 64;
    let mut options = Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = 10_000;
    options.alias_limits.max_replay_stack_depth = 16;
    options.alias_limits.max_alias_expansions_per_anchor = 100;
    options.duplicate_keys = DuplicateKeyPolicy::Error;
    options.strict_booleans = true;
    options.with_snippet = false;
    options
}

/// Deserialises `text` strictly, or returns a `parse-error` finding at the
/// position the parser reports.
pub fn parse_strict<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T, Diagnostic> {
    serde_saphyr::from_str_with_options(text, strict_options()).map_err(|error| {
        let at = error
            .location()
            .map(|location| {
                Position::new(
                    u32::try_from(location.line()).unwrap_or(u32::MAX),
                    u32::try_from(location.column()).unwrap_or(u32::MAX),
                )
            })
            .unwrap_or(Position::new(1, 1));
        PARSE_ERROR.at(file, at, describe(&error))
    })
}

/// The parser's message on one line, without the position it already
/// carries in the finding.
fn describe(error: &serde_saphyr::Error) -> String {
    let error = error.without_snippet();
    // The parser's own wording of these names Rust APIs and types
    // ("use from_str_multiple", "use Option<String>"), which means nothing
    // to someone editing a grant.
    match error {
        serde_saphyr::Error::MultipleDocuments { .. } => {
            return "the file holds more than one YAML document; a lapse file is a single document, without a second `---`".to_owned();
        }
        serde_saphyr::Error::NullIntoString { .. } => {
            return "the value is empty; write text after the colon".to_owned();
        }
        serde_saphyr::Error::Eof { .. } => {
            return "the file ends before any field; it must be a mapping of fields".to_owned();
        }
        _ => {}
    }
    let text = error.to_string();
    let first_line = text.lines().next().unwrap_or("invalid YAML").trim();
    strip_position_suffix(first_line).to_owned()
}

fn strip_position_suffix(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(index) => &message[..index],
        None => message,
    }
}
