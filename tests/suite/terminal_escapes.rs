//! Human output never hands a terminal the control characters that grant
//! values, file names, the policy or commits carry: ESC could clear the
//! screen or rewrite the window title, CR overwrite a line, a line break
//! forge one, a direction override reorder text. Each is shown escaped.

use crate::common::{self, GRANT, POLICY, Repo};
use crate::history_support;

/// Characters a terminal acts on (line breaks aside) or that reorder text.
fn hostile_characters(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

fn assert_printable(text: &str) {
    let found = hostile_characters(text);
    assert!(found.is_empty(), "raw {found:?} in:\n{text}");
}

#[test]
fn check_escapes_values_file_names_and_source_lines() {
    let dir = "grants/team\u{1b}[2J";
    let role = GRANT.replace(
        "role: payments-deployer",
        "role: \"payments\\e]0;owned\\a\\u202Eredael\"",
    );
    // A raw C1 CSI is not YAML, so the line shown is the file's own bytes.
    let raw = GRANT.replace("reason: Deploy", "reason: \u{9b}2JDeploy");
    let repo = Repo::with_grants(&[
        (&format!("{dir}/alex-deploy.yaml"), &role),
        ("grants/raw.yaml", &raw),
    ]);
    let run = repo.check(&[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stdout.contains("unknown-role"), "{}", run.stdout);
    assert!(run.stdout.contains("parse-error"), "{}", run.stdout);
    assert_printable(&run.stdout);
    assert!(run.stdout.contains(r"team\u{1b}[2J"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains(r"payments\u{1b}]0;owned\u{7}\u{202e}redael"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(r"reason: \u{9b}2JDeploy"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_marker_stays_under_a_value_after_an_escaped_character() {
    // A raw direction override is valid YAML inside quotes.
    let text = GRANT.replace(
        "approvers: [maria@example.com]",
        "approvers: [\"\u{202e}maria@example.com\", nobody@example.com]",
    );
    let repo = Repo::with_grants(&[("grants/payments/alex-deploy.yaml", &text)]);
    let run = repo.check(&[]);
    assert_printable(&run.stdout);
    let block = run
        .stdout
        .split("\n\n")
        .find(|block| block.starts_with("error[unknown-approver]: approver `nobody"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    let lines: Vec<&str> = block.lines().collect();
    let source = lines
        .iter()
        .position(|line| line.contains(r#"approvers: ["\u{202e}maria@example.com", nobody"#))
        .unwrap_or_else(|| panic!("{block}"));
    let at = lines[source].find("nobody").expect("value on the line");
    assert_eq!(lines[source + 1].find('^'), Some(at), "{block}");
}

#[test]
fn who_escapes_grant_fields_paths_and_commit_authors() {
    let repo = history_support::Repo::new();
    let grant = history_support::grant("2026-11-20T17:00:00Z", &["\"li\\r@example.com\""]).replace(
        "subject: alex@example.com",
        "subject: \"alex\\e[2J@example.com\"",
    );
    repo.write("grants/ops\u{7}/alex-deploy.yaml", &grant);
    // `who` lists only grants that gave someone access: the policy knows
    // the hostile spelling as one of alex's aliases.
    repo.write(
        "lapse.yaml",
        history_support::POLICY.replace(
            "alex@example.com: {github: alex-gh}",
            "alex@example.com:\n    github: alex-gh\n    aliases: [\"alex\\e[2J@example.com\"]",
        ),
    );
    repo.commit("alex\u{1b}[8m@example.com", "2026-11-03T10:00:00Z", "Grant");
    let run = repo.lapse(&["who", "--at", "2026-11-04T12:00:00Z"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("alex-deploy"), "{}", run.stdout);
    assert_printable(&run.stdout);
    for escaped in [
        r"grants/ops\u{7}/alex-deploy.yaml",
        r"alex\u{1b}[2J@example.com",
        r"li\r@example.com",
        r"by alex\u{1b}[8m@example.com",
    ] {
        assert!(run.stdout.contains(escaped), "{escaped}: {}", run.stdout);
    }
}

#[test]
fn an_error_quoting_the_policy_is_escaped_but_keeps_its_lines() {
    let policy = POLICY.replace(
        "oncall: [alex@contractor.example, sam@example.com]",
        "oncall: [\"\\e[2J\\e[Hok\", \"\\u202Esam@example.com\"]",
    );
    let repo = Repo::new(&[("lapse.yaml", &policy)]);
    let dir = repo.path().to_str().expect("UTF-8 temp path");
    let run = common::lapse(&["expiring", "--repo", dir, "--now", common::NOW]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_printable(&run.stderr);
    assert!(
        run.stderr.contains(r"\u{1b}[2J\u{1b}[Hok"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(r"\u{202e}sam@example.com"),
        "{}",
        run.stderr
    );
    // One line per policy finding, as before.
    assert!(run.stderr.lines().count() >= 3, "{}", run.stderr);
}

#[test]
fn new_escapes_the_approvers_it_names_from_the_policy() {
    // An explicit Kubernetes name: the default, the key itself, would be
    // refused with the policy for its control character.
    let sam = "  sam@example.com: {aws: \"arn:aws:iam::123456789012:role/sam\", gcp: \"user:sam@example.com\"}";
    assert!(POLICY.contains(sam));
    let policy = POLICY
        .replace(sam, "  sam@example.com: {kubernetes: sam}")
        .replace("sam@example.com", "\"sam\\e[2J@example.com\"")
        .replace(
            "approvers: [maria@example.com]\n    gcp",
            "approvers: [\"sam\\e[2J@example.com\"]\n    gcp",
        );
    let repo = Repo::new(&[("lapse.yaml", &policy)]);
    let dir = repo.path().to_str().expect("UTF-8 temp path");
    let run = common::lapse(&[
        "new",
        "--repo",
        dir,
        "--now",
        common::NOW,
        "--subject",
        "alex@contractor.example",
        "--role",
        "payments-reader",
        "--for",
        "1d",
        "--reason",
        "Read the payments dashboards",
    ]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_printable(&run.stdout);
    assert!(
        run.stdout.contains(r"sam\u{1b}[2J@example.com"),
        "{}",
        run.stdout
    );
}

#[test]
fn expiring_rows_escape_what_the_grant_says() {
    // Expires a day after NOW, approved by a name with a direction override.
    let grant = GRANT
        .replace(
            "approvers: [maria@example.com]",
            "approvers: [\"\\u202Emaria@example.com\"]",
        )
        .replace("2026-12-06T09:00:00Z", "2026-11-24T09:00:00Z");
    let repo = Repo::with_grants(&[("grants/payments/alex-deploy.yaml", &grant)]);
    let dir = repo.path().to_str().expect("UTF-8 temp path");
    let run = common::lapse(&["expiring", "--repo", dir, "--now", common::NOW]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_printable(&run.stdout);
    assert!(
        run.stdout.contains(r"\u{202e}maria@example.com"),
        "{}",
        run.stdout
    );
}
