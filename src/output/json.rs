//! For machines: `{"diagnostics": [...], "errors": N, "warnings": N}`.

use std::io::{self, Write};

use serde::Serialize;

use crate::diagnostic::Diagnostic;

use super::Report;

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
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}
