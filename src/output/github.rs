//! GitHub Actions workflow commands: each finding becomes an annotation on
//! the pull request's diff. Values are escaped as the runner expects
//! (actions/toolkit, `command.ts`), so a message cannot end the command
//! early or forge a second one.

use std::io::{self, Write};

use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::break_glass::is_loud;

use super::Report;

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for diagnostic in report.diagnostics {
        writeln!(out, "{}", annotation(diagnostic))?;
    }
    Ok(())
}

fn annotation(diagnostic: &Diagnostic) -> String {
    let command = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    format!(
        "::{command} file={},line={},col={},title={}::{}",
        escape_property(&diagnostic.file.to_string_lossy()),
        diagnostic.line,
        diagnostic.column,
        escape_property(&title(diagnostic)),
        escape_data(&format!(
            "{} (help: {})",
            diagnostic.message, diagnostic.help
        )),
    )
}

/// The annotation's title: the rule id, shouted for break-glass, whose
/// annotation the sort also puts first.
fn title(diagnostic: &Diagnostic) -> String {
    if is_loud(diagnostic.rule) {
        format!("BREAK-GLASS lapse {}", diagnostic.rule)
    } else {
        format!("lapse {}", diagnostic.rule)
    }
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::yaml::PARSE_ERROR;
    use crate::model::Position;
    use std::path::Path;

    #[test]
    fn a_message_cannot_inject_a_second_command() {
        let finding = PARSE_ERROR.at(
            Path::new("grants/a,b.yaml"),
            Position::new(3, 1),
            "bad\n::error::forged",
        );
        let line = annotation(&finding);
        assert_eq!(line.lines().count(), 1);
        assert!(line.starts_with("::error file=grants/a%2Cb.yaml,line=3,col=1,title=lapse parse-error::bad%0A::error::forged"));
    }
}
