//! Leaves rendered HCL the way `terraform fmt` would, so that a rendered
//! tree passes `terraform fmt -check` and template authors need not align
//! anything by hand.
//!
//! This follows hclwrite's formatter (hashicorp/hcl, hclwrite/format.go):
//! indentation is two spaces per open bracket carried over from previous
//! lines (`formatIndent`), and the `=` of consecutive single-line attributes
//! is aligned one space after the longest name (`formatCells`); a line that
//! opens a multi-line value (`tags = {`), a blank line, a comment or a
//! block header ends such a run. Heredocs and trailing comments are not
//! supported in templates; lapse's own templates use neither.

/// What the formatter needs to know about one line of HCL.
#[derive(Debug, Default, PartialEq)]
struct LineShape {
    /// Opened minus closed brackets, template interpolations included.
    net_brackets: i32,
    /// Byte offset of the line's attribute `=`, if it has one.
    equals_at: Option<usize>,
    /// Whether the value after `=` closes every bracket it opens, which is
    /// what makes the line part of an alignment run.
    single_line_value: bool,
}

enum Frame {
    /// Inside a quoted string.
    Quoted,
    /// Inside `${ ... }` or `%{ ... }` of a quoted string, with how many
    /// further braces are open within it.
    Interpolation(u32),
}

fn shape_of(content: &str) -> LineShape {
    let bytes = content.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut shape = LineShape::default();
    let mut net_at_equals = 0;
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if let Some(Frame::Quoted) = stack.last() {
            match rest {
                [b'\\', ..] => i += 1,
                [b'"', ..] => {
                    stack.pop();
                }
                [b'$', b'$', b'{', ..] | [b'%', b'%', b'{', ..] => i += 2,
                [b'$', b'{', ..] | [b'%', b'{', ..] => {
                    stack.push(Frame::Interpolation(0));
                    shape.net_brackets += 1;
                    i += 1;
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        match rest {
            [b'#', ..] | [b'/', b'/', ..] => break,
            [b'"', ..] => stack.push(Frame::Quoted),
            [b'{' | b'[' | b'(', ..] => {
                shape.net_brackets += 1;
                if let Some(Frame::Interpolation(open)) = stack.last_mut() {
                    *open += 1;
                }
            }
            [b'}' | b']' | b')', ..] => {
                shape.net_brackets -= 1;
                match stack.last_mut() {
                    Some(Frame::Interpolation(0)) if rest[0] == b'}' => {
                        stack.pop();
                    }
                    Some(Frame::Interpolation(open)) => *open = open.saturating_sub(1),
                    _ => {}
                }
            }
            [b'=', b'=' | b'>', ..] => i += 1,
            [b'!' | b'<' | b'>', b'=', ..] => i += 1,
            [b'=', ..] if i > 0 && stack.is_empty() && shape.equals_at.is_none() => {
                shape.equals_at = Some(i);
                net_at_equals = shape.net_brackets;
            }
            _ => {}
        }
        i += 1;
    }
    shape.single_line_value = shape.equals_at.is_some() && shape.net_brackets == net_at_equals;
    shape
}

/// One line after indentation, split at its attribute `=` when it has one.
struct FormattedLine<'a> {
    indent: usize,
    name: &'a str,
    value: Option<&'a str>,
    aligned: bool,
}

/// Reformats `text` as `terraform fmt` would: indentation, `=` alignment,
/// no trailing spaces, no leading or trailing blank lines, one final newline.
pub fn terraform_fmt(text: &str) -> String {
    let lines = indent_lines(text);
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut start = 0;
    while start < lines.len() {
        let run = lines[start..]
            .iter()
            .take_while(|line| line.aligned)
            .count()
            .max(1);
        let width = lines[start..start + run]
            .iter()
            .map(|line| line.indent + columns(line.name))
            .max()
            .unwrap_or(0);
        for line in &lines[start..start + run] {
            write_line(&mut out, line, width);
        }
        start += run;
    }
    let trimmed = out.trim_matches('\n');
    let mut result = String::with_capacity(trimmed.len() + 1);
    result.push_str(trimmed);
    result.push('\n');
    result
}

fn write_line(out: &mut String, line: &FormattedLine, width: usize) {
    if line.name.is_empty() {
        out.push('\n');
        return;
    }
    out.extend(std::iter::repeat_n(' ', line.indent));
    out.push_str(line.name);
    if let Some(value) = line.value {
        let padding = if line.aligned {
            width - line.indent - columns(line.name) + 1
        } else {
            1
        };
        out.extend(std::iter::repeat_n(' ', padding));
        out.push('=');
        if !value.is_empty() {
            out.push(' ');
            out.push_str(value);
        }
    }
    out.push('\n');
}

/// Width of a name as hclwrite measures it: in grapheme clusters. Without
/// a segmentation table this counts characters, minus those that join the
/// one before them (combining marks, variation selectors, emoji skin
/// tones, and zero-width joiners with the character they join), which
/// covers the names that occur here (e-mail addresses in any script).
fn columns(name: &str) -> usize {
    let mut count = 0;
    let mut joined = false;
    for c in name.chars() {
        let extends = matches!(c,
            '\u{300}'..='\u{36f}'
            | '\u{1ab0}'..='\u{1aff}'
            | '\u{1dc0}'..='\u{1dff}'
            | '\u{20d0}'..='\u{20ff}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{fe20}'..='\u{fe2f}'
            | '\u{1f3fb}'..='\u{1f3ff}'
            | '\u{200d}');
        if !extends && !joined {
            count += 1;
        }
        joined = c == '\u{200d}';
    }
    count
}

/// hclwrite's `formatIndent`: a stack of the bracket counts that each
/// indenting line opened, popped as lines close them.
fn indent_lines(text: &str) -> Vec<FormattedLine<'_>> {
    let mut indents: Vec<i32> = Vec::new();
    let mut lines = Vec::new();
    for raw in text.lines() {
        let content = raw.trim();
        if content.is_empty() {
            lines.push(FormattedLine {
                indent: 0,
                name: "",
                value: None,
                aligned: false,
            });
            continue;
        }
        let shape = shape_of(content);
        let indent = if shape.net_brackets > 0 {
            let indent = indents.len();
            indents.push(shape.net_brackets);
            indent
        } else {
            close_brackets(&mut indents, -shape.net_brackets);
            indents.len()
        };
        let (name, value) = match shape.equals_at {
            Some(at) => (
                content[..at].trim_end(),
                Some(content[at + 1..].trim_start()),
            ),
            None => (content, None),
        };
        lines.push(FormattedLine {
            indent: 2 * indent,
            name,
            value,
            aligned: shape.single_line_value,
        });
    }
    lines
}

fn close_brackets(indents: &mut Vec<i32>, mut closed: i32) {
    while closed > 0 {
        let Some(last) = indents.last_mut() else {
            return;
        };
        if closed >= *last {
            closed -= *last;
            indents.pop();
        } else {
            *last -= closed;
            closed = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_consecutive_attributes_and_reindents() {
        let input = "module \"a\" {\nsource = \"x\"\n  grant_id   =   \"a\"\n\nexpires_at = \"b\"\n    tags = {\n\"k\" = \"v\"\n\"long-key\" = \"w\"\n  }\n}\n";
        let expected = "module \"a\" {\n  source   = \"x\"\n  grant_id = \"a\"\n\n  expires_at = \"b\"\n  tags = {\n    \"k\"        = \"v\"\n    \"long-key\" = \"w\"\n  }\n}\n";
        assert_eq!(terraform_fmt(input), expected);
    }

    #[test]
    fn ignores_brackets_and_equals_inside_strings() {
        let shape = shape_of(r#""a = {" = "} [ $${x} = \" ${var.y} %%{""#);
        assert_eq!(shape.net_brackets, 0);
        assert_eq!(shape.equals_at, Some(8));
        assert!(shape.single_line_value);
    }

    #[test]
    fn names_are_measured_in_grapheme_clusters_like_terraform_fmt() {
        assert_eq!(columns("\"e\u{301}e\u{301}\""), 4);
        assert_eq!(columns("\"\u{1f468}\u{200d}\u{1f469}\""), 3);
        assert_eq!(columns("\"jörg例え\""), 8);
    }

    #[test]
    fn a_multi_line_value_is_not_aligned() {
        let shape = shape_of("statements = [");
        assert_eq!(shape.net_brackets, 1);
        assert!(!shape.single_line_value);
    }
}
