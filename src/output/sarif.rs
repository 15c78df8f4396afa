//! SARIF 2.1.0, the format code-scanning services read (GitHub code
//! scanning, GitLab, Azure DevOps): one run whose driver lists every rule
//! lapse knows, and one result per finding.
//!
//! Reference: OASIS SARIF 2.1.0,
//! https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html

use std::io::{self, Write};
use std::path::Path;

use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, Region,
    ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif,
    Tool, ToolComponent, Version,
};

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::rules::RULES;
use crate::uri::encode_segment;

use super::Report;

/// The schema the log declares: the OASIS standard's own copy (errata 01).
const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The base every result's path is relative to. Code scanning resolves it
/// to the checkout root (SARIF §3.4.4, `uriBaseId`).
const SOURCE_ROOT: &str = "SRCROOT";

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &log(report.diagnostics))?;
    writeln!(out)
}

fn log(diagnostics: &[Diagnostic]) -> Sarif {
    let driver = ToolComponent::builder()
        .name("lapse")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .rules(
            RULES
                .iter()
                .map(|rule| descriptor(rule))
                .collect::<Vec<_>>(),
        )
        .build();
    let run = Run::builder()
        .tool(Tool::from(driver))
        // lapse counts columns in characters, not in UTF-16 code units
        // (SARIF's default, §3.14.17), so a non-ASCII line is not misread.
        .column_kind("unicodeCodePoints")
        .results(diagnostics.iter().map(result).collect::<Vec<_>>())
        .build();
    Sarif::builder()
        .schema(SCHEMA_URI)
        .version(Version::V2_1_0.to_string())
        .runs(vec![run])
        .build()
}

fn descriptor(rule: &Rule) -> ReportingDescriptor {
    ReportingDescriptor::builder()
        .id(rule.id)
        .short_description(plain_text(rule.summary))
        .help(plain_text(rule.help))
        .default_configuration(
            ReportingConfiguration::builder()
                .level(level(rule.severity).to_string())
                .build(),
        )
        .build()
}

fn result(diagnostic: &Diagnostic) -> SarifResult {
    let region = Region::builder()
        .start_line(i64::from(diagnostic.line))
        .start_column(i64::from(diagnostic.column))
        .build();
    let artifact = ArtifactLocation::builder()
        .uri(relative_uri(&diagnostic.file))
        .uri_base_id(SOURCE_ROOT)
        .build();
    let location = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(artifact)
                .region(region)
                .build(),
        )
        .build();
    let index = RULES.iter().position(|rule| rule.id == diagnostic.rule);
    let builder = SarifResult::builder()
        .rule_id(diagnostic.rule)
        .level(level(diagnostic.severity))
        .message(Message::from(message_text(diagnostic, index).as_str()))
        .locations(vec![location]);
    match index {
        // The index lets viewers find the rule without a lookup by id (§3.27.6).
        Some(index) => builder.rule_index(index as i64).build(),
        None => builder.build(),
    }
}

/// The finding's message, plus its help when that says more than the
/// rule's help (a timestamp hint, for example), which viewers show anyway.
fn message_text(diagnostic: &Diagnostic, rule_index: Option<usize>) -> String {
    let rule_help = rule_index.map(|index| RULES[index].help);
    if rule_help == Some(diagnostic.help.as_str()) {
        diagnostic.message.clone()
    } else {
        format!("{} (help: {})", diagnostic.message, diagnostic.help)
    }
}

fn plain_text(text: &str) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(text).build()
}

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
    }
}

/// A relative URI reference for a repository path: `/` separators whatever
/// the platform, and every byte outside RFC 3986's unreserved set
/// percent-encoded, so a directory named `a b#c` stays one path.
fn relative_uri(path: &Path) -> String {
    let segments: Vec<String> = path
        .components()
        .map(|component| encode_segment(&component.as_os_str().to_string_lossy()))
        .collect();
    segments.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_relative_uris_with_forward_slashes_and_escapes() {
        assert_eq!(
            relative_uri(Path::new("grants/pay ments/a#1.yaml")),
            "grants/pay%20ments/a%231.yaml"
        );
        assert_eq!(relative_uri(Path::new("lapse.yaml")), "lapse.yaml");
    }
}
