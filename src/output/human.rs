//! For people at a terminal: rustc-style snippets of the offending line.

use std::io::{self, Write};
use std::ops::Range;

use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};

use crate::diagnostic::{Diagnostic, Severity};

use super::terminal::printable;
use super::{Report, break_glass_banner, break_glass_findings};

pub fn write(report: &Report, out: &mut dyn Write, colour: bool) -> io::Result<()> {
    let renderer = if colour {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    if let Some(banner) = break_glass_banner(report.diagnostics) {
        // Bold reverse video: the line a person must not miss.
        if colour {
            writeln!(out, "\x1b[1;7m{banner}\x1b[0m\n")?;
        } else {
            writeln!(out, "{banner}\n")?;
        }
    }
    // Rendering a snippet is most of the cost of printing a finding, and
    // an audit may print ten thousand: they are rendered on every core.
    let rendered = crate::parallel::map_chunks(report.diagnostics, 256, |part| {
        let mut text = String::new();
        for diagnostic in part {
            let source = report.sources.get(&diagnostic.file);
            text.push_str(&render_one(&renderer, diagnostic, source));
            text.push_str("\n\n");
        }
        text
    });
    for text in rendered {
        out.write_all(text.as_bytes())?;
    }
    writeln!(out, "{}", summary(report.diagnostics))
}

fn render_one(renderer: &Renderer, diagnostic: &Diagnostic, source: Option<&str>) -> String {
    let level = match diagnostic.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    // Every text shown comes from grants, file names or the policy, and is
    // escaped before the renderer styles it.
    let path = printable(&diagnostic.file.display().to_string()).into_owned();
    let message = printable(&diagnostic.message);
    let title = level.primary_title(message.as_ref()).id(diagnostic.rule);
    let help_text = printable(&diagnostic.help);
    let help = Level::HELP.message(help_text.as_ref());
    // A byte order mark opening the file is not a column to the parser, so
    // the snippet must not count it either.
    let source = source.map(|text| text.strip_prefix('\u{feff}').unwrap_or(text));
    let group = match source.and_then(|text| span_of(text, diagnostic.line, diagnostic.column)) {
        Some((line_text, span)) => {
            let (line_text, span) = printable_with_span(line_text, span);
            title
                .element(
                    Snippet::source(line_text)
                        .line_start(diagnostic.line as usize)
                        .path(path)
                        .annotation(AnnotationKind::Primary.span(span)),
                )
                .element(help)
        }
        None => title
            .element(Level::NOTE.message(format!(
                "in {path}:{}:{}",
                diagnostic.line, diagnostic.column
            )))
            .element(help),
    };
    renderer.render(&[group])
}

/// The text of `line` and the byte range in it of the token at `column`
/// (both 1-based, the column in characters), so the marker underlines the
/// value: a quoted scalar up to its closing quote, else up to the first
/// space or YAML flow indicator. Only that line is shown.
fn span_of(text: &str, line: u32, column: u32) -> Option<(&str, Range<usize>)> {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1) as usize)
        .map(str::len)
        .sum();
    let line_text = text.get(line_start..)?.lines().next()?;
    let start = line_text
        .char_indices()
        .nth(column.saturating_sub(1) as usize)
        .map_or(line_text.len(), |(i, _)| i);
    let rest = &line_text[start..];
    // At least the character at the column, so an empty token is marked.
    let first = rest.chars().next().map_or(0, char::len_utf8);
    Some((line_text, start..start + token_len(rest).max(first)))
}

/// The line escaped for the terminal, and the span moved to where its
/// characters are in the escaped text.
fn printable_with_span(line: &str, span: Range<usize>) -> (String, Range<usize>) {
    let before = printable(&line[..span.start]);
    let marked = printable(&line[span.clone()]);
    let start = before.len();
    let end = start + marked.len();
    (printable(line).into_owned(), start..end)
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
    let loud = break_glass_findings(diagnostics).count();
    match (errors, warnings, loud) {
        (0, 0, _) => "lapse: no problems found".to_owned(),
        (_, _, 0) => format!("lapse: {errors} error(s), {warnings} warning(s)"),
        _ => format!("lapse: {errors} error(s), {warnings} warning(s), {loud} of them BREAK-GLASS"),
    }
}
