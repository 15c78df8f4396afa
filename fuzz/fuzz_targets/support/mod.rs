//! What the fuzz targets share: findings shown by the human renderer, as
//! `lapse check` prints them on a terminal.

use std::path::Path;

use lapse::diagnostic::Diagnostic;
use lapse::load::Sources;
use lapse::output::{Format, Report, write_report};

/// Renders `findings` in `text` (the file at `path`) and asserts that no
/// control character or direction override from the input reached the
/// output: every one must have been escaped.
pub fn show_to_a_terminal(path: &Path, text: &str, findings: &[Diagnostic]) {
    let mut sources = Sources::default();
    sources.insert(path.to_path_buf(), text.to_owned());
    let report = Report {
        diagnostics: findings,
        sources: &sources,
    };
    let mut out = Vec::new();
    write_report(Format::Human, &report, &mut out, false).expect("writes to memory");
    let shown = String::from_utf8(out).expect("UTF-8 output");
    assert!(
        !shown.chars().any(acted_on_by_a_terminal),
        "a control character reached the terminal: {shown:?}"
    );
}

fn acted_on_by_a_terminal(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\t'))
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}
