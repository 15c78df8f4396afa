//! For machines: `{"version": 1, "diagnostics": [...], "errors": N, "warnings": N}`.

use std::io::{self, Write};

use serde::Serialize;

use crate::diagnostic::Diagnostic;

use super::Report;

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
    diagnostics: &'a [Diagnostic],
    errors: usize,
    warnings: usize,
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let errors = report.diagnostics.iter().filter(|d| d.is_error()).count();
    let document = JsonReport {
        diagnostics: report.diagnostics,
        errors,
        warnings: report.diagnostics.len() - errors,
    };
    serde_json::to_writer_pretty(&mut *out, &versioned(document))?;
    writeln!(out)
}
