//! Output formats: functions from findings to bytes. They read only the
//! report; no check knows which format will show its findings.

pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod sarif;
pub mod terminal;

use std::io::{self, Write};

use clap::ValueEnum;

use crate::diagnostic::Diagnostic;
use crate::load::Sources;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Source snippets with the offending field marked; coloured on a terminal.
    Human,
    /// One JSON document with every finding.
    Json,
    /// GitHub Actions workflow commands, shown as annotations on the pull request.
    Github,
    /// SARIF 2.1.0, for code-scanning services.
    Sarif,
    /// GitLab Code Quality report (CodeClimate JSON), for the merge request widget.
    Gitlab,
}

/// What `lapse check` found, with the files the findings point into.
pub struct Report<'a> {
    pub diagnostics: &'a [Diagnostic],
    pub sources: &'a Sources,
}

pub fn write_report(
    format: Format,
    report: &Report,
    out: &mut dyn Write,
    colour: bool,
) -> io::Result<()> {
    match format {
        Format::Human => human::write(report, out, colour),
        Format::Json => json::write(report, out),
        Format::Github => github::write(report, out),
        Format::Sarif => sarif::write(report, out),
        Format::Gitlab => gitlab::write(report, out),
    }
}
