//! GitLab Code Quality report (a subset of CodeClimate's JSON), which
//! GitLab shows in the merge request widget and diff when a job saves it as
//! `artifacts: reports: codequality`. The fields are the ones GitLab
//! documents as required:
//! https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format

use std::collections::HashMap;
use std::io::{self, Write};

use git2::{ObjectType, Oid};
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity};

use super::Report;

#[derive(Serialize)]
struct Issue<'a> {
    description: String,
    check_name: &'a str,
    fingerprint: String,
    severity: &'static str,
    location: Location,
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut seen = HashMap::new();
    let issues: Vec<Issue> = report
        .diagnostics
        .iter()
        .map(|diagnostic| {
            let occurrence = seen.entry(identity(diagnostic)).or_insert(0u32);
            *occurrence += 1;
            issue(diagnostic, *occurrence)
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &issues)?;
    writeln!(out)
}

fn issue(diagnostic: &Diagnostic, occurrence: u32) -> Issue<'_> {
    Issue {
        description: format!("{} (help: {})", diagnostic.message, diagnostic.help),
        check_name: diagnostic.rule,
        fingerprint: fingerprint(diagnostic, occurrence),
        severity: severity(diagnostic.severity),
        location: Location {
            path: diagnostic.file.to_string_lossy().into_owned(),
            lines: Lines {
                begin: diagnostic.line,
            },
        },
    }
}

/// GitLab's severities are info, minor, major, critical and blocker. An
/// error fails the check (major); a warning does not (minor).
fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "major",
        Severity::Warning => "minor",
    }
}

/// What makes a finding the same finding on the base branch and in the
/// merge request: its rule, file and message, not its line, so that an edit
/// above it does not show it as fixed and found again.
fn identity(diagnostic: &Diagnostic) -> String {
    format!(
        "{}\0{}\0{}",
        diagnostic.rule,
        diagnostic.file.to_string_lossy(),
        diagnostic.message
    )
}

/// GitLab compares reports by fingerprint, which must be unique in a
/// report: the identity, numbered when the same finding occurs twice,
/// hashed (SHA-1 as git hashes a blob; git2 is already linked) to a fixed
/// length whatever the message.
fn fingerprint(diagnostic: &Diagnostic, occurrence: u32) -> String {
    let text = format!("{}\0{occurrence}", identity(diagnostic));
    Oid::hash_object(ObjectType::Blob, text.as_bytes())
        .map(|oid| oid.to_string())
        .unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn the_same_finding_twice_gets_two_fingerprints() {
        let twin = Diagnostic {
            rule: "unknown-approver",
            severity: Severity::Error,
            file: PathBuf::from("grants/a.yaml"),
            line: 3,
            column: 12,
            message: "bob@example.com is not in people".to_owned(),
            help: "add them".to_owned(),
        };
        let sources = crate::load::Sources::default();
        let diagnostics = [twin.clone(), Diagnostic { line: 4, ..twin }];
        let report = Report {
            diagnostics: &diagnostics,
            sources: &sources,
        };
        let mut out = Vec::new();
        write(&report, &mut out).unwrap();
        let issues: Vec<serde_json::Value> = serde_json::from_slice(&out).unwrap();
        assert_ne!(issues[0]["fingerprint"], issues[1]["fingerprint"]);
        assert_eq!(issues[0]["fingerprint"].as_str().unwrap().len(), 40);
    }
}
