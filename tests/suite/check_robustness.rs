//! Hostile or broken input never crashes the loader: a malformed grant is a
//! finding (exit 1), a malformed policy is exit 2, and nothing ends with a
//! panic (exit 101) or a signal (a stack overflow).

use crate::common;

use std::path::Path;

use common::{GRANT, NOW, POLICY, Repo, Xorshift};
use lapse::load::{parse_grant, parse_policy};
use lapse::model::timestamp::parse_timestamp;
use lapse::rules::{CheckContext, check_all};

const PATH: &str = "grants/payments/alex-deploy.yaml";

/// Checks a repository whose only grant is `bytes`; it must end with exit
/// 1 and a finding on that file, which is returned.
fn grant_is_rejected(bytes: &[u8]) -> common::Finding {
    let repo = Repo::with_grants(&[]);
    repo.write(PATH, bytes);
    let checked = repo.check_json();
    assert_eq!(checked.code, Some(1), "{checked:#?}");
    let on_file: Vec<_> = checked
        .findings
        .iter()
        .filter(|f| f.file == Path::new(PATH))
        .collect();
    assert_eq!(on_file.len(), 1, "{checked:#?}");
    on_file[0].clone()
}

fn grant_is_accepted(bytes: &[u8]) {
    let repo = Repo::with_grants(&[]);
    repo.write(PATH, bytes);
    repo.check_json().expect_clean();
}

/// A policy of `bytes` must end the run with exit 2 and an `error:` line.
fn policy_is_fatal(bytes: &[u8]) {
    let repo = Repo::new(&[(PATH, GRANT)]);
    repo.write("lapse.yaml", bytes);
    let run = repo.check(&[]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.starts_with("error: "), "{run:?}");
}

/// Inputs that break the loader in different ways, each a grant or a policy.
fn malformed_inputs() -> Vec<(&'static str, Vec<u8>)> {
    let deep_flow = format!("subject: {}{}\n", "[".repeat(30_000), "]".repeat(30_000));
    let deep_block: String = (0..150)
        .map(|depth| format!("{}a:\n", "  ".repeat(depth)))
        .collect();
    let mut garbage = Vec::with_capacity(4096);
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..4096 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        garbage.push(state.to_le_bytes()[0]);
    }
    vec![
        ("binary garbage", garbage),
        ("NUL byte", b"subject: al\0ex\nrole: r\n".to_vec()),
        (
            "control characters",
            b"subject: \x07\x1b[31m\nrole: r\n".to_vec(),
        ),
        ("deeply nested flow", deep_flow.into_bytes()),
        ("deeply nested block", deep_block.into_bytes()),
        ("empty", Vec::new()),
        ("comment only", b"# nothing here\n".to_vec()),
        ("a list", b"- subject\n- role\n".to_vec()),
        ("a scalar", b"just some text\n".to_vec()),
        (
            "multi-document",
            format!("{GRANT}---\n{GRANT}").into_bytes(),
        ),
        (
            "tab indentation",
            b"approvers:\n\t- maria@example.com\n".to_vec(),
        ),
        ("unclosed flow", b"approvers: [maria@example.com\n".to_vec()),
        ("unknown anchor", b"subject: *nowhere\n".to_vec()),
        (
            "huge number",
            b"version: 99999999999999999999999999999\n".to_vec(),
        ),
        ("tagged value", b"subject: !!binary aGVsbG8=\n".to_vec()),
    ]
}

#[test]
fn malformed_grants_are_findings_not_crashes() {
    for (name, bytes) in malformed_inputs() {
        let finding = grant_is_rejected(&bytes);
        assert!(
            ["parse-error", "refused-file"].contains(&finding.rule.as_str()),
            "{name}: {finding:?}"
        );
    }
}

#[test]
fn malformed_policies_are_exit_2_not_crashes() {
    for (_, bytes) in malformed_inputs() {
        policy_is_fatal(&bytes);
    }
}

#[test]
fn a_second_document_is_refused_where_it_starts() {
    let finding = grant_is_rejected(format!("{GRANT}---\nrole: payments-reader\n").as_bytes());
    assert_eq!((finding.rule.as_str(), finding.line), ("parse-error", 9));
    assert!(
        finding.message.contains("more than one YAML document"),
        "{finding:?}"
    );
}

#[test]
fn an_empty_grant_file_is_a_parse_error_that_says_so() {
    let finding = grant_is_rejected(b"");
    assert_eq!((finding.line, finding.column), (1, 1));
    assert!(
        finding.message.contains("ends before any field"),
        "{finding:?}"
    );
}

#[test]
fn an_empty_value_is_a_parse_error_in_plain_words() {
    let finding = grant_is_rejected(GRANT.replace("role: payments-deployer", "role:").as_bytes());
    assert_eq!((finding.rule.as_str(), finding.line), ("parse-error", 2));
    assert!(!finding.message.contains("Option"), "{finding:?}");
}

#[test]
fn a_huge_scalar_within_the_size_bound_is_read() {
    let reason = "x".repeat(60_000);
    let text = GRANT.replace(
        "Deploy the payments service for sprint 42",
        &format!("Deploy {reason}"),
    );
    grant_is_accepted(text.as_bytes());
}

#[test]
fn a_byte_order_mark_crlf_line_ends_and_tab_separators_are_accepted() {
    grant_is_accepted(format!("\u{feff}{GRANT}").as_bytes());
    grant_is_accepted(GRANT.replace('\n', "\r\n").as_bytes());
    grant_is_accepted(GRANT.replace("role: ", "role:\t").as_bytes());
}

#[test]
fn positions_are_the_same_with_crlf_line_ends() {
    let text = GRANT
        .replace("role: payments-deployer", "role: payments-deploy")
        .replace('\n', "\r\n");
    let finding = grant_is_rejected(text.as_bytes());
    assert_eq!(
        (finding.rule.as_str(), finding.line, finding.column),
        ("unknown-role", 2, 7)
    );
}

/// The farthest instants an offset allows that are still years 0000 to
/// 9999 in UTC (beyond them is `invalid-timestamp`, see timestamps.rs).
#[test]
fn extreme_timestamps_are_judged_without_overflow() {
    let far = GRANT
        .replace("2026-11-22T09:00:00Z", "0000-01-01T23:59:00+23:59")
        .replace("2026-12-06T09:00:00Z", "9999-12-31T00:00:59-23:59");
    let checked = Repo::with_grants(&[(PATH, &far)]).check_json();
    checked.expect_error("duration-exceeds-max", PATH, 7, 10);
    checked.expect_one("outlives-contract", "warning", PATH, 7, 10);
}

struct Mutator(Xorshift);

impl Mutator {
    fn below(&mut self, n: usize) -> usize {
        self.0.below(n)
    }

    /// `text` with a few random edits drawn from the characters that give
    /// YAML its structure.
    fn mutate(&mut self, text: &str) -> String {
        const PIECES: &[&str] = &[
            ":",
            " ",
            "\n",
            "\t",
            "-",
            "[",
            "]",
            "{",
            "}",
            "&a ",
            "*a",
            "!!str ",
            "\"",
            "'",
            "#",
            "---\n",
            "|\n",
            ">-\n",
            "?",
            ",",
            "%YAML 1.2\n",
            "\u{feff}",
            "\0",
            "é",
            "  ",
            "2026-13-45T99:99:99Z",
            "group:",
            "~",
            "<<: ",
        ];
        let mut bytes = text.as_bytes().to_vec();
        for _ in 0..=self.below(4) {
            let at = self.below(bytes.len() + 1);
            match self.below(3) {
                0 if at < bytes.len() => {
                    bytes.remove(at);
                }
                1 => {
                    let len = self.below(20).min(bytes.len() - at.min(bytes.len()));
                    let copy = bytes[at..at + len].to_vec();
                    let to = self.below(bytes.len() + 1);
                    bytes.splice(to..to, copy);
                }
                _ => {
                    let piece = PIECES[self.below(PIECES.len())].as_bytes();
                    bytes.splice(at..at, piece.iter().copied());
                }
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Thousands of random edits of a valid grant and policy go through the
/// loader and, when they still parse, through every rule. A panic anywhere
/// fails the test; the seed makes it reproducible.
#[test]
fn random_edits_of_valid_files_never_panic_the_loader_or_the_rules() {
    let policy_path = Path::new("lapse.yaml");
    let grant_path = Path::new(PATH);
    let now = parse_timestamp(NOW).unwrap();
    let policy = parse_policy(policy_path, POLICY).unwrap();
    let grant = parse_grant(grant_path, GRANT).unwrap();
    let mut mutator = Mutator(Xorshift(0x9e37_79b9_7f4a_7c15));
    for _ in 0..3000 {
        let text = mutator.mutate(GRANT);
        if let Ok(mutated) = parse_grant(grant_path, &text) {
            let grants = [grant.clone(), mutated];
            check_all(&grants, policy_path, &CheckContext::new(&policy, now));
        }
        let text = mutator.mutate(POLICY);
        if let Ok(mutated) = parse_policy(policy_path, &text) {
            check_all(
                std::slice::from_ref(&grant),
                policy_path,
                &CheckContext::new(&mutated, now),
            );
        }
    }
}

#[test]
fn a_file_name_that_is_not_utf8_is_reported_in_every_format() {
    use std::os::unix::ffi::OsStrExt;
    let repo = Repo::with_grants(&[]);
    let name = std::ffi::OsStr::from_bytes(b"gr\xffant.yaml");
    std::fs::create_dir_all(repo.path().join("grants")).unwrap();
    std::fs::write(repo.path().join("grants").join(name), GRANT).unwrap();
    let checked = repo.check_json();
    let finding = checked.expect_error("refused-file", "grants/gr\u{fffd}ant.yaml", 1, 1);
    assert!(finding.message.contains("not valid UTF-8"), "{finding:?}");
    for format in ["human", "github"] {
        assert_eq!(repo.check(&["--format", format]).code, Some(1), "{format}");
    }
}
