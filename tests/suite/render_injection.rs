//! No grant or policy value can inject Terraform: a corpus of hostile
//! strings is rendered, re-parsed, and every parsed value must equal its
//! input, with no block or attribute other than the template's. Checked with
//! hcl-rs and, when installed, with python-hcl2 (an independent parser);
//! CI sets LAPSE_REQUIRE_PYTHON_HCL2=1 to make the latter mandatory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use chrono::{DateTime, Utc};
use lapse::load::parse_grant;
use lapse::load::yaml::parse_strict;
use lapse::model::Policy;
use lapse::render::{RenderOptions, TemplateSet, render_files};

const REASON: &str = r#"x ${file("/etc/passwd")} %{if true}y%{endif} " } resource "null" "x" {"#;

fn corpus() -> Vec<String> {
    vec![
        REASON.to_owned(),
        r#"" } resource "aws_iam_user" "backdoor" { name = "x"#.to_owned(),
        "line one\nline two\r\n\ttabbed".to_owned(),
        "\"\n}\nresource \"null_resource\" \"x\" {\n".to_owned(),
        "${var.secret} $${already} %{for x in y}${x}%{endfor} %%{kept}".to_owned(),
        "trailing backslash \\".to_owned(),
        "\\\" escaped quote, \\n not a newline".to_owned(),
        "# not a comment // nor this /* nor this */".to_owned(),
        "<<EOT\nheredoc?\nEOT".to_owned(),
        "unicode: jörg 例え 🙂 \u{202e}rtl\u{2028}sep\u{200b}".to_owned(),
        "control \u{1} \u{1b}[31m \u{7f}".to_owned(),
        "$".to_owned(),
        "%".to_owned(),
        "{".to_owned(),
        "}".to_owned(),
        format!("long {}", "a\"${}".repeat(2_000)),
    ]
}

const NOW: &str = "2026-11-23T00:00:00Z";

fn now() -> DateTime<Utc> {
    NOW.parse().unwrap()
}

/// A JSON string is a valid YAML double-quoted scalar, once DEL (which
/// JSON leaves raw and YAML refuses raw) is escaped too.
fn yaml(text: &str) -> String {
    serde_json::to_string(text)
        .unwrap()
        .replace('\u{7f}', "\\u007f")
}

/// Renders one github grant whose every user-supplied string is `hostile`,
/// and one aws grant whose statements are.
fn render(hostile: &str) -> BTreeMap<PathBuf, String> {
    let q = yaml(hostile);
    let policy_text = format!(
        // Explicit keys (`? key`): YAML limits implicit keys to 1024 characters.
        "version: 1\npeople:\n  ? {q}\n  :\n    github: {q}\n    aws: {q}\nroles:\n  ? {q}\n  :\n    github: {{repository: {q}, permission: {q}}}\n  aws-role:\n    aws:\n      account: {q}\n      statements:\n        - actions: [{q}]\n          resources: [{q}]\n"
    );
    // Parsed without the loader's validation, which refuses hostile
    // principals and accounts: escaping must hold for them all the same.
    let policy: Policy =
        parse_strict(Path::new("lapse.yaml"), &policy_text).expect("policy parses");
    let grant = |id: &str, role: &str| {
        let text = format!(
            "subject: {q}\nrole: {role}\nreason: {q}\nticket: {q}\napprovers: [{q}]\nexpires: 2026-12-01T00:00:00Z\n"
        );
        parse_grant(Path::new(&format!("grants/{id}.yaml")), &text).expect("grant parses")
    };
    let grants = vec![grant("github-grant", &q), grant("aws-grant", "aws-role")];
    render_files(
        &policy,
        &grants,
        now(),
        &TemplateSet::builtin(),
        &RenderOptions {
            out_dir: PathBuf::from("generated"),
            split_by: None,
        },
    )
    .expect("renders")
}

/// The one module block of a rendered grant file, as attribute → value.
fn module_attributes(text: &str, label: &str) -> hcl::Map<String, hcl::Value> {
    let body: hcl::Body = hcl::from_str(text).expect("rendered HCL parses");
    assert_eq!(body.attributes().count(), 0, "no top-level attributes");
    let blocks: Vec<_> = body.blocks().collect();
    assert_eq!(blocks.len(), 1, "exactly one block");
    let block = blocks[0];
    assert_eq!(block.identifier(), "module");
    assert_eq!(block.labels().len(), 1);
    assert_eq!(block.labels()[0].as_str(), label);
    assert_eq!(block.body().blocks().count(), 0, "no nested blocks");
    let value: hcl::Value = hcl::from_body(block.body().clone()).expect("values");
    match value {
        hcl::Value::Object(map) => map.into_iter().collect(),
        other => panic!("module body is not an object: {other:?}"),
    }
}

fn string(value: &hcl::Value) -> &str {
    value.as_str().expect("a string")
}

fn first(value: &hcl::Value) -> &hcl::Value {
    value
        .as_array()
        .and_then(|items| items.first())
        .expect("a list")
}

#[test]
fn every_hostile_string_renders_as_exactly_itself() {
    for hostile in corpus() {
        let files = render(&hostile);
        let github = module_attributes(&files[Path::new("github-grant.tf")], "grant_github-grant");
        let expected_keys = [
            "approvers",
            "expires_at",
            "grant_id",
            "permission",
            "principals",
            "reason",
            "repository",
            "role",
            "source",
            "starts_at",
            "subject",
            "ticket",
        ];
        let mut keys: Vec<&str> = github.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, expected_keys, "attributes of {hostile:?}");
        for key in [
            "reason",
            "ticket",
            "subject",
            "role",
            "repository",
            "permission",
        ] {
            assert_eq!(string(&github[key]), hostile, "{key}");
        }
        assert_eq!(string(first(&github["approvers"])), hostile);
        let principals = github["principals"].as_object().unwrap();
        assert_eq!(principals.len(), 1);
        let (person, login) = principals.iter().next().unwrap();
        assert_eq!(person, &hostile);
        assert_eq!(string(login), hostile);

        let aws = module_attributes(&files[Path::new("aws-grant.tf")], "grant_aws-grant");
        assert_eq!(string(&aws["account_id"]), hostile);
        let statement = first(&aws["statements"]).as_object().unwrap();
        assert_eq!(string(first(&statement["actions"])), hostile);
        assert_eq!(string(first(&statement["resources"])), hostile);
    }
}

#[test]
fn aws_tags_stay_within_iam_limits_whatever_the_grant_says() {
    for hostile in corpus() {
        let files = render(&hostile);
        let aws = module_attributes(&files[Path::new("aws-grant.tf")], "grant_aws-grant");
        for (key, value) in aws["tags"].as_object().unwrap() {
            let value = string(value);
            assert!(key.chars().count() <= 128);
            assert!(value.chars().count() <= 256, "{key} too long");
            assert!(
                value.chars().all(|c| c.is_alphanumeric()
                    || c == ' '
                    || "_.:/=+-@".contains(c)
                    || (c.is_whitespace() && !c.is_control())),
                "{key} = {value:?}"
            );
        }
    }
}

/// Parses the rendered files with python-hcl2 and decodes each string
/// literal by HCL's escape rules, printing {file: {attribute: value}}.
/// python-hcl2 >= 7 keeps the quotes and escapes as written; checkov's
/// fork strips the quotes; both are handled.
const PYTHON_READER: &str = r#"
import hcl2, json, sys

def decode(raw):
    if len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"':
        raw = raw[1:-1]
    out, i = [], 0
    simple = {'n': '\n', 'r': '\r', 't': '\t', '"': '"', '\\': '\\'}
    while i < len(raw):
        if raw[i] == '\\':
            n = raw[i + 1]
            if n in simple:
                out.append(simple[n]); i += 2
            elif n == 'u':
                out.append(chr(int(raw[i + 2:i + 6], 16))); i += 6
            elif n == 'U':
                out.append(chr(int(raw[i + 2:i + 10], 16))); i += 10
            else:
                raise ValueError('unknown escape ' + n)
        elif raw.startswith('$${', i) or raw.startswith('%%{', i):
            out.append(raw[i] + '{'); i += 3
        else:
            out.append(raw[i]); i += 1
    return ''.join(out)

def values(node):
    if isinstance(node, str):
        return decode(node)
    if isinstance(node, list):
        return [values(item) for item in node]
    if isinstance(node, dict):
        return {decode(k): values(v) for k, v in node.items() if not k.startswith('__')}
    return node

result = {}
for path in sys.argv[1:]:
    with open(path, encoding='utf-8') as f:
        parsed = hcl2.load(f)
    modules = parsed['module']
    assert len(modules) == 1 and len(modules[0]) == 1, 'one module block'
    (label, body), = modules[0].items()
    # python-hcl2 < 7 wraps every attribute value in a one-element list.
    body = {k: (v[0] if isinstance(v, list) and len(v) == 1 and k not in ('approvers',) else v) for k, v in body.items()}
    result[path] = {'label': decode(label), 'body': values(body)}
print(json.dumps(result))
"#;

fn python() -> String {
    std::env::var("LAPSE_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

fn python_hcl2_available() -> bool {
    let available = Command::new(python())
        .args(["-c", "import hcl2"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !available && std::env::var("LAPSE_REQUIRE_PYTHON_HCL2").as_deref() == Ok("1") {
        panic!(
            "LAPSE_REQUIRE_PYTHON_HCL2=1 but `{} -c 'import hcl2'` fails",
            python()
        );
    }
    available
}

#[test]
fn an_independent_parser_reads_the_same_values() {
    if !python_hcl2_available() {
        eprintln!("python-hcl2 not installed; skipping the independent parser check");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    let corpus = corpus();
    for (index, hostile) in corpus.iter().enumerate() {
        let files = render(hostile);
        let path = dir.path().join(format!("{index}.tf"));
        std::fs::write(&path, &files[Path::new("github-grant.tf")]).unwrap();
        paths.push(path);
    }
    let output = Command::new(python())
        .arg("-c")
        .arg(PYTHON_READER)
        .args(&paths)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "python-hcl2 failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let parsed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for (path, hostile) in paths.iter().zip(&corpus) {
        let file = &parsed[path.to_str().unwrap()];
        assert_eq!(file["label"], "grant_github-grant");
        let body = &file["body"];
        for key in [
            "reason",
            "ticket",
            "subject",
            "role",
            "repository",
            "permission",
        ] {
            assert_eq!(
                body[key].as_str(),
                Some(hostile.as_str()),
                "{key} of {hostile:?}"
            );
        }
        assert_eq!(body["approvers"][0].as_str(), Some(hostile.as_str()));
        assert_eq!(
            body["principals"][hostile.as_str()].as_str(),
            Some(hostile.as_str())
        );
    }
}

/// Terraform itself is the parser that matters: when it is installed, each
/// escaped literal is evaluated by `terraform console` and must come back
/// as the input, byte for byte.
#[test]
fn terraform_reads_every_literal_as_its_input() {
    let Ok(version) = Command::new("terraform").arg("version").output() else {
        eprintln!("terraform not installed; skipping");
        return;
    };
    assert!(version.status.success());
    let corpus = corpus();
    // The console prints only the last expression it reads, so the whole
    // corpus is one: base64 of each literal, joined by spaces.
    let literals: Vec<String> = corpus
        .iter()
        .map(|hostile| {
            let literal = lapse::render::escape::escape_string(hostile).unwrap();
            format!("base64encode({literal})")
        })
        .collect();
    let input = format!("join(\" \", [{}])\n", literals.join(", "));
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new("terraform")
        .arg("console")
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let results: Vec<&str> = stdout.trim().trim_matches('"').split(' ').collect();
    assert_eq!(
        results.len(),
        corpus.len(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for (result, hostile) in results.iter().zip(&corpus) {
        assert_eq!(
            *result,
            STANDARD.encode(hostile.as_bytes()),
            "terraform read {hostile:?} differently"
        );
    }
}
