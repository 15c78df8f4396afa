//! `lapse audit --format json`: the report as one versioned document.

use std::io::{self, Write};

use crate::audit::report::AuditReport;
use crate::output::json::versioned;

pub fn write(report: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &versioned(report))?;
    writeln!(out)
}
