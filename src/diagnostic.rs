//! Findings: what every rule returns and every output format reads.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::Position;
use crate::rules::break_glass::is_loud;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// A rule's identity card: its stable id, default severity, a one-line
/// description (used by SARIF and the README) and the help shown with each
/// finding. Declared next to the code that checks it.
#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub help: &'static str,
}

impl Rule {
    /// A finding of this rule at `at` in `file`, with the rule's severity and help.
    pub fn at(&'static self, file: &Path, at: Position, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            rule: self.id,
            severity: self.severity,
            file: file.to_path_buf(),
            line: at.line.max(1),
            column: at.column.max(1),
            message: message.into(),
            help: self.help.to_owned(),
        }
    }
}

/// One finding. `file` is relative to the repository root; `line` and
/// `column` are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub rule: &'static str,
    pub severity: Severity,
    #[serde(serialize_with = "serialize_path_lossy")]
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
    pub message: String,
    pub help: String,
}

/// File names come from the repository, and a hostile one need not be
/// UTF-8; serde's own `Path` serialisation fails on such a name, which
/// would lose the whole report. The finding is about that very file, so it
/// is shown with the invalid bytes replaced.
fn serialize_path_lossy<S: serde::Serializer>(
    path: &Path,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.to_string_lossy())
}

impl Diagnostic {
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:column: message`, the one-line form used in error messages.
    pub fn one_line(&self) -> String {
        format!(
            "{}:{}:{}: {} [{}]",
            self.file.display(),
            self.line,
            self.column,
            self.message,
            self.rule
        )
    }
}

/// Sorts findings the way a reader scans them: break-glass first (an
/// emergency grant must not scroll past unread), then by file, position
/// and rule.
pub fn sort_diagnostics(diagnostics: &mut [Diagnostic]) {
    fn key(d: &Diagnostic) -> (bool, &Path, u32, u32, &str) {
        (!is_loud(d.rule), &d.file, d.line, d.column, d.rule)
    }
    diagnostics.sort_by(|a, b| key(a).cmp(&key(b)));
}
