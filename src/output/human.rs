//! For people at a terminal: rustc-style snippets of the offending line.

use std::io::{self, Write};

use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};

use crate::diagnostic::{Diagnostic, Severity};

use super::Report;

pub fn write(report: &Report, out: &mut dyn Write, colour: bool) -> io::Result<()> {
    let renderer = if colour {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    for diagnostic in report.diagnostics {
        let source = report.sources.get(&diagnostic.file);
        writeln!(out, "{}\n", render_one(&renderer, diagnostic, source))?;
    }
    writeln!(out, "{}", summary(report.diagnostics))
}

fn render_one(renderer: &Renderer, diagnostic: &Diagnostic, source: Option<&str>) -> String {
    let level = match diagnostic.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let path = diagnostic.file.display().to_string();
    let title = level
        .primary_title(diagnostic.message.as_str())
        .id(diagnostic.rule);
    let help = Level::HELP.message(diagnostic.help.as_str());
    // A byte order mark opening the file is not a column to the parser, so
    // the snippet must not count it either.
    let source = source.map(|text| text.strip_prefix('\u{feff}').unwrap_or(text));
    let group = match source.and_then(|text| span_of(text, diagnostic.line, diagnostic.column)) {
        Some((text, span)) => title
            .element(
                Snippet::source(text)
                    .path(path)
                    .annotation(AnnotationKind::Primary.span(span)),
            )
            .element(help),
        None => title
            .element(Level::NOTE.message(format!(
                "in {path}:{}:{}",
                diagnostic.line, diagnostic.column
            )))
            .element(help),
    };
    renderer.render(&[group])
}

/// The byte range of the token at `line`:`column` (1-based, in characters),
/// so the marker underlines the value: a quoted scalar up to its closing
/// quote, else up to the first space or YAML flow indicator.
fn span_of(text: &str, line: u32, column: u32) -> Option<(&str, std::ops::Range<usize>)> {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1) as usize)
        .map(str::len)
        .sum();
    let line_text = text[line_start..].lines().next()?;
    let offset = line_text
        .char_indices()
        .nth(column.saturating_sub(1) as usize)
        .map_or(line_text.len(), |(i, _)| i);
    let token_len = token_len(&line_text[offset..]).max(1);
    let start = line_start + offset;
    let end = (start + token_len).min(text.len()).max(start);
    Some((text, start..end))
}

fn token_len(rest: &str) -> usize {
    let mut chars = rest.char_indices();
    match chars.next() {
        Some((_, quote @ ('"' | '\''))) => chars
            .find(|&(_, c)| c == quote)
            .map_or(rest.len(), |(i, c)| i + c.len_utf8()),
        _ => rest
            .find(|c: char| c.is_whitespace() || matches!(c, '#' | ',' | ']' | '}'))
            .unwrap_or(rest.len()),
    }
}

fn summary(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    match (errors, warnings) {
        (0, 0) => "lapse: no problems found".to_owned(),
        _ => format!("lapse: {errors} error(s), {warnings} warning(s)"),
    }
}
