//! For machines: `{"version": 1, "break_glass": [...], "diagnostics": [...], "errors": N,
//! "warnings": N}`, `break_glass` only when there are any.

use std::io::{self, Write};

use serde::Serialize;

use crate::diagnostic::Diagnostic;

use super::{Report, break_glass_findings};

/// The version of every JSON document lapse prints (check, who, prune,
/// expiring). Fields may be added within a version; a field is removed,
/// renamed or changes meaning only with a new version.
pub const JSON_VERSION: u32 = 1;

/// A JSON document with `"version"` as its first field.
#[derive(Serialize)]
pub struct Versioned<T> {
    version: u32,
    #[serde(flatten)]
    document: T,
}

pub fn versioned<T: Serialize>(document: T) -> Versioned<T> {
    Versioned {
        version: JSON_VERSION,
        document,
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    /// The break-glass findings, again, first: emergency access. Left out
    /// when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    break_glass: Vec<&'a Diagnostic>,
    diagnostics: &'a [Diagnostic],
    errors: usize,
    warnings: usize,
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let errors = report.diagnostics.iter().filter(|d| d.is_error()).count();
    let document = JsonReport {
        break_glass: break_glass_findings(report.diagnostics).collect(),
        diagnostics: report.diagnostics,
        errors,
        warnings: report.diagnostics.len() - errors,
    };
    serde_json::to_writer_pretty(&mut *out, &versioned(document))?;
    writeln!(out)
}
