//! The one way a value from a grant or the policy reaches HCL.
//!
//! Every `{{ value }}` in a template is written through [`hcl_literal`] by the
//! template environment's formatter, so a template author cannot forget to
//! escape. A string becomes a quoted HCL string whose parsed value is exactly
//! the input: quotes, backslashes and control characters (newlines included)
//! are escaped, and the template sequences `${` and `%{` are doubled to `$${`
//! and `%%{` so that Terraform never interpolates or evaluates them
//! (https://developer.hashicorp.com/terraform/language/expressions/strings#escape-sequences).

use minijinja::value::{Value, ValueKind};

/// Why a value cannot be written as an HCL literal.
#[derive(Debug, thiserror::Error)]
pub enum EscapeError {
    #[error("cannot write an undefined value into HCL")]
    Undefined,
    #[error("cannot write a {0} into HCL")]
    Unsupported(ValueKind),
    #[error("cannot format a string as HCL: {0}")]
    Hcl(#[from] hcl::Error),
}

/// A quoted HCL string literal whose value is exactly `text`.
///
/// Characters are escaped by hcl-rs's string formatter (quotes,
/// backslashes, control characters). The template markers are doubled
/// here: hcl-rs's own marker escaping skips a `${` that follows another
/// `$` (it escapes `$${x}` to `$${x}`, which Terraform reads as `${x}`).
/// So the text is cut between every `$` or `%` and the `{` after it; no
/// piece then holds a marker, and the marker character is doubled at each
/// cut. `hcl::Value::String` is not used at all: hcl-rs writes a string
/// that looks templated without escaping it.
pub fn escape_string(text: &str) -> Result<String, EscapeError> {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut start = 0;
    for (brace, _) in text.match_indices('{') {
        if let Some(marker) = text[..brace]
            .chars()
            .next_back()
            .filter(|c| matches!(c, '$' | '%'))
        {
            push_escaped(&mut out, &text[start..brace])?;
            out.push(marker);
            start = brace;
        }
    }
    push_escaped(&mut out, &text[start..])?;
    out.push('"');
    Ok(out)
}

/// `piece`, which holds no template marker, escaped by hcl-rs without the
/// quotes around it.
fn push_escaped(out: &mut String, piece: &str) -> Result<(), EscapeError> {
    let quoted = hcl::format::to_string(&piece.to_owned())?;
    let inner = quoted
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(&quoted);
    out.push_str(inner);
    Ok(())
}

/// A template value as a complete HCL expression: a quoted string, a number,
/// `true`/`false`, `null`, a one-line list `[a, b]` or object
/// `{ "key" = value }`. Object keys are always quoted strings, so a key can
/// no more inject syntax than a value can.
pub fn hcl_literal(value: &Value) -> Result<String, EscapeError> {
    let mut out = String::new();
    write_literal(&mut out, value)?;
    Ok(out)
}

fn write_literal(out: &mut String, value: &Value) -> Result<(), EscapeError> {
    match value.kind() {
        ValueKind::Undefined => return Err(EscapeError::Undefined),
        ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::Number => write_number(out, value)?,
        ValueKind::String => out.push_str(&escape_string(value.as_str().unwrap_or_default())?),
        ValueKind::Seq | ValueKind::Iterable => write_list(out, value)?,
        ValueKind::Map => write_object(out, value)?,
        other => return Err(EscapeError::Unsupported(other)),
    }
    Ok(())
}

/// Numbers go through their integer or float form, never through text, so
/// nothing but digits, a sign, a point or an exponent can come out.
fn write_number(out: &mut String, value: &Value) -> Result<(), EscapeError> {
    if let Ok(integer) = i128::try_from(value.clone()) {
        out.push_str(&integer.to_string());
    } else if let Some(float) = f64::try_from(value.clone()).ok().filter(|f| f.is_finite()) {
        out.push_str(&float.to_string());
    } else {
        return Err(EscapeError::Unsupported(ValueKind::Number));
    }
    Ok(())
}

fn write_list(out: &mut String, value: &Value) -> Result<(), EscapeError> {
    let items = value
        .try_iter()
        .map_err(|_| EscapeError::Unsupported(value.kind()))?;
    out.push('[');
    for (index, item) in items.enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        write_literal(out, &item)?;
    }
    out.push(']');
    Ok(())
}

fn write_object(out: &mut String, value: &Value) -> Result<(), EscapeError> {
    let keys = value
        .try_iter()
        .map_err(|_| EscapeError::Unsupported(ValueKind::Map))?;
    out.push('{');
    let mut empty = true;
    for key in keys {
        let item = value
            .get_item(&key)
            .map_err(|_| EscapeError::Unsupported(ValueKind::Map))?;
        out.push_str(if empty { " " } else { ", " });
        empty = false;
        out.push_str(&escape_string(&key.to_string())?);
        out.push_str(" = ");
        write_literal(out, &item)?;
    }
    out.push_str(if empty { "}" } else { " }" });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed_string(literal: &str) -> String {
        let body: hcl::Body = hcl::from_str(&format!("value = {literal}\n")).unwrap();
        let value: hcl::Value = hcl::from_body(body).unwrap();
        let object = value.as_object().unwrap();
        object["value"].as_str().unwrap().to_owned()
    }

    #[test]
    fn template_sequences_are_doubled_so_terraform_keeps_them_literal() {
        let reason = r#"x ${file("/etc/passwd")} %{if true}y%{endif} " } resource "null" "x" {"#;
        let literal = escape_string(reason).unwrap();
        assert_eq!(
            literal,
            r#""x $${file(\"/etc/passwd\")} %%{if true}y%%{endif} \" } resource \"null\" \"x\" {""#
        );
        assert_eq!(parsed_string(&literal), reason);
    }

    #[test]
    fn runs_of_markers_and_already_doubled_markers_keep_their_value() {
        for text in [
            "$${x}", "$$${x}", "%%{x}", "%%%{x}", "$%{x}", "%${x}", "${", "$", "{",
        ] {
            assert_eq!(parsed_string(&escape_string(text).unwrap()), text, "{text}");
        }
        assert_eq!(escape_string("$${x}").unwrap(), r#""$$${x}""#);
    }

    #[test]
    fn newlines_and_control_characters_stay_inside_the_string() {
        let text = "line one\nline two\r\n\ttab \u{1b}[31m \\ end";
        let literal = escape_string(text).unwrap();
        assert!(!literal.contains('\n'));
        assert_eq!(parsed_string(&literal), text);
    }

    #[test]
    fn lists_and_objects_are_literals_with_quoted_keys() {
        let value = Value::from_serialize(serde_json::json!({
            "a\"b": ["x", 1, true, null],
        }));
        assert_eq!(
            hcl_literal(&value).unwrap(),
            r#"{ "a\"b" = ["x", 1, true, null] }"#
        );
    }

    #[test]
    fn undefined_is_an_error_not_an_empty_string() {
        assert!(matches!(
            hcl_literal(&Value::UNDEFINED),
            Err(EscapeError::Undefined)
        ));
    }
}
