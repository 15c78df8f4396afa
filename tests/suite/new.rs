//! `lapse new`: a grant file that `lapse check` accepts once approved, or
//! a refusal (exit 2) that says why and writes nothing.

use crate::common::{Repo, Run};

use std::path::Path;

use lapse::load::parse_grant;
use lapse::model::GrantFile;

/// The instant these scenarios judge at: their expiries are computed
/// from it.
const NOW: &str = "2026-11-22T09:00:00Z";

/// Two people, one approver, and one role per kind of limit the tests need.
const POLICY: &str = "\
version: 1
defaults:
  max_duration: 30d
people:
  alex@contractor.example:
    aliases: [alex@users.noreply.github.com]
    github: alex-gh
    gcp: user:alex@contractor.example
  maria@example.com:
    github: maria-gh
    gcp: user:maria@example.com
roles:
  payments-deployer:
    description: Deploy the payments service
    max_duration: 14d
    approvers: [maria@example.com]
    github:
      repository: example/payments
      permission: push
  data-reader:
    gcp:
      project: analytics
      role: roles/bigquery.dataViewer
    approvers: [maria@example.com]
";

const REASON: &str = "Deploy the payments service for sprint 42";

/// `lapse new` for alex and payments-deployer (max 14d) for `duration`.
fn new_grant(repo: &Repo, duration: &str, extra: &[&str]) -> Run {
    new_of(
        repo,
        "alex@contractor.example",
        "payments-deployer",
        duration,
        extra,
    )
}

/// `lapse new` of `role` to `subject` for `duration`, with `REASON`.
fn new_of(repo: &Repo, subject: &str, role: &str, duration: &str, extra: &[&str]) -> Run {
    let args = [
        "new",
        "--subject",
        subject,
        "--role",
        role,
        "--for",
        duration,
        "--reason",
        REASON,
    ];
    repo.lapse_at(NOW, &[&args[..], extra].concat())
}

/// The file as `lapse check` loads it.
fn load(repo: &Repo, relative: &str) -> GrantFile {
    let text = std::fs::read_to_string(repo.file(relative))
        .unwrap_or_else(|error| panic!("{relative}: {error}"));
    parse_grant(Path::new(relative), &text)
        .unwrap_or_else(|finding| panic!("{finding:?}\n{text}"))
        .file
}

fn value(field: &Option<lapse::model::Spanned<String>>) -> Option<&str> {
    field.as_ref().map(|spanned| spanned.value.as_str())
}

fn grant_files(repo: &Repo) -> Vec<String> {
    let mut files = Vec::new();
    let mut dirs = vec![repo.file("grants")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                dirs.push(entry.path());
            } else {
                files.push(entry.path().display().to_string());
            }
        }
    }
    files
}

#[test]
fn writes_the_requested_grant_with_expiry_from_now_in_utc() {
    let repo = Repo::with_policy(POLICY);
    let output = new_grant(&repo, "14d", &["--ticket", "PAY-123", "--team", "payments"]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let path = "grants/payments/alex-payments-deployer.yaml";
    assert!(output.stdout.contains(path), "{}", output.stdout);
    assert!(
        output.stdout.contains("maria@example.com"),
        "names who approves"
    );

    let grant = load(&repo, path);
    assert_eq!(grant.subject.value, "alex@contractor.example");
    assert_eq!(grant.role.value, "payments-deployer");
    assert_eq!(value(&grant.reason), Some(REASON));
    assert_eq!(value(&grant.ticket), Some("PAY-123"));
    assert!(grant.approvers.is_empty());
    assert_eq!(value(&grant.starts), None);
    // NOW is 2026-11-22T09:00:00Z.
    assert_eq!(value(&grant.expires), Some("2026-12-06T09:00:00Z"));
}

#[test]
fn the_written_grant_passes_check_but_for_the_approvals_review_adds() {
    let repo = Repo::with_policy(POLICY);
    assert_eq!(new_grant(&repo, "14d", &[]).code, Some(0));
    let check = repo.lapse_at(NOW, &["check", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&check.stdout).expect("JSON");
    let rules: Vec<_> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|finding| finding["rule"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(rules, ["insufficient-approvals"]);

    let approved = Repo::with_policy(POLICY);
    let output = new_grant(&approved, "14d", &["--approver", "Maria@Example.com"]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let check = approved.lapse_at(NOW, &["check"]);
    assert_eq!(check.code, Some(0), "{}", check.stdout);
    let grant = load(&approved, "grants/alex-payments-deployer.yaml");
    assert_eq!(grant.approvers[0].value, "maria@example.com");
}

#[test]
fn a_reason_with_yaml_syntax_and_line_breaks_reads_back_unchanged() {
    let repo = Repo::with_policy(POLICY);
    let reason = "Hotfix: payments # incident 7\n- step one: deploy\n\"quoted\" & 'single'";
    let output = repo.lapse_at(
        NOW,
        &[
            "new",
            "--subject",
            "alex@users.noreply.github.com",
            "--role",
            "data-reader",
            "--for",
            "4h",
            "--reason",
            reason,
            "--ticket",
            "#42: yes",
        ],
    );
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let grant = load(&repo, "grants/alex-data-reader.yaml");
    assert_eq!(value(&grant.reason), Some(reason));
    assert_eq!(value(&grant.ticket), Some("#42: yes"));
    // The alias is written as the person's key in lapse.yaml.
    assert_eq!(grant.subject.value, "alex@contractor.example");
}

#[test]
fn starts_is_written_in_utc_and_expiry_counts_from_it() {
    let repo = Repo::with_policy(POLICY);
    let output = new_grant(&repo, "2d", &["--starts", "2026-11-30T10:00:00+02:00"]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let grant = load(&repo, "grants/alex-payments-deployer.yaml");
    assert_eq!(value(&grant.starts), Some("2026-11-30T08:00:00Z"));
    assert_eq!(value(&grant.expires), Some("2026-12-02T08:00:00Z"));
}

#[test]
fn refuses_a_duration_above_the_roles_maximum_and_writes_nothing() {
    let repo = Repo::with_policy(POLICY);
    let output = new_grant(&repo, "15d", &[]);
    assert_eq!(output.code, Some(2));
    let message = output.stderr;
    assert!(
        message.contains("--for 15d is longer than the 14d that role `payments-deployer` allows"),
        "{message}"
    );
    assert!(grant_files(&repo).is_empty());
}

#[test]
fn refuses_an_unknown_role_or_subject() {
    let repo = Repo::with_policy(POLICY);
    let output = new_of(&repo, "alex@contractor.example", "root", "1d", &[]);
    assert_eq!(output.code, Some(2));
    assert!(
        output.stderr.contains("role `root` is not in the catalog of lapse.yaml; the roles are: data-reader, payments-deployer"),
        "{}",
        output.stderr
    );

    let output = new_of(&repo, "mallory@example.com", "data-reader", "1d", &[]);
    assert_eq!(output.code, Some(2));
    assert!(
        output.stderr.contains("subject `mallory@example.com`"),
        "{}",
        output.stderr
    );
    assert!(grant_files(&repo).is_empty());
}

#[test]
fn refuses_what_check_would_reject_such_as_a_self_approval() {
    let repo = Repo::with_policy(POLICY);
    let output = new_grant(
        &repo,
        "14d",
        &["--approver", "alex@users.noreply.github.com"],
    );
    assert_eq!(output.code, Some(2));
    assert!(output.stderr.contains("self-approval"), "{}", output.stderr);
    assert!(grant_files(&repo).is_empty());
}

#[test]
fn never_overwrites_a_grant() {
    let repo = Repo::with_policy(POLICY);
    let existing = "grants/old/alex-payments-deployer.yaml";
    let text = "subject: alex@contractor.example\nrole: payments-deployer\nreason: an old grant of last year\nexpires: 2025-01-01T00:00:00Z\n";
    repo.write(existing, text);

    let output = new_grant(&repo, "14d", &["--id", "alex-payments-deployer"]);
    assert_eq!(output.code, Some(2));
    assert!(output.stderr.contains("already used"), "{}", output.stderr);
    let output = new_grant(&repo, "14d", &["--out", existing]);
    assert_eq!(output.code, Some(2));
    assert_eq!(std::fs::read_to_string(repo.file(existing)).unwrap(), text);

    // Without --id, the default id gets the first free number.
    let output = new_grant(&repo, "14d", &[]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    load(&repo, "grants/alex-payments-deployer-2.yaml");
}

#[test]
fn out_must_name_a_grant_file_inside_the_grants_tree() {
    let repo = Repo::with_policy(POLICY);
    for out in [
        "lapse.yaml",
        "grants/../x.yaml",
        "grants/x.txt",
        "grants/Bad_Id.yaml",
    ] {
        let output = new_grant(&repo, "14d", &["--out", out]);
        assert_eq!(output.code, Some(2), "--out {out} was accepted");
    }
    let output = new_grant(&repo, "14d", &["--out", "grants/eu/pay-hotfix.yaml"]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    load(&repo, "grants/eu/pay-hotfix.yaml");
}

#[test]
fn out_outside_the_repository_is_one_clear_line_naming_both() {
    let repo = Repo::with_policy(POLICY);
    let elsewhere = tempfile::tempdir().unwrap();
    let out = elsewhere.path().join("x.yaml");
    let output = new_grant(&repo, "14d", &["--out", out.to_str().unwrap()]);
    assert_eq!(output.code, Some(2));
    let error = output.stderr;
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(error.contains("outside the repository"), "{error}");
    assert!(error.contains(&out.display().to_string()), "{error}");
    assert!(!error.contains("prefix"), "{error}");
    assert!(!out.exists());
}

#[test]
fn out_takes_yml_as_the_loader_does_and_an_absolute_path_inside() {
    let repo = Repo::with_policy(POLICY);
    let output = new_grant(&repo, "14d", &["--out", "./grants/eu/pay-fix.yml"]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(
        load(&repo, "grants/eu/pay-fix.yml").subject.value,
        "alex@contractor.example"
    );

    let inside = repo.file("grants/eu/pay-later.yaml");
    let after_the_first = ["--starts", "2026-12-07T00:00:00Z"];
    let output = new_grant(
        &repo,
        "1d",
        &[&after_the_first[..], &["--out", inside.to_str().unwrap()]].concat(),
    );
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    load(&repo, "grants/eu/pay-later.yaml");

    // The id of a .yml file is taken like any other.
    let output = new_grant(
        &repo,
        "1d",
        &[&after_the_first[..], &["--id", "pay-fix"]].concat(),
    );
    assert_eq!(output.code, Some(2));
    assert!(output.stderr.contains("already used"), "{}", output.stderr);
}

/// git stores symbolic links, so a committed `grants/<team>` could point
/// anywhere; `lapse new --team` must not write through it.
#[cfg(unix)]
#[test]
fn never_writes_through_a_linked_grants_folder() {
    let repo = Repo::with_policy(POLICY);
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.file("grants")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), repo.file("grants/payments")).unwrap();

    let output = new_grant(&repo, "14d", &["--team", "payments"]);
    assert_eq!(output.code, Some(2));
    assert!(output.stderr.contains("symbolic link"), "{}", output.stderr);
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}

#[test]
fn refuses_a_grant_nobody_could_approve() {
    // maria is the role's only approver: a grant to her can never be approved.
    let repo = Repo::with_policy(POLICY);
    let output = new_of(&repo, "maria@example.com", "payments-deployer", "1d", &[]);
    assert_eq!(output.code, Some(2), "{}", output.stderr);
    assert!(
        output.stderr.contains("unsatisfiable-approval"),
        "{}",
        output.stderr
    );
    assert!(grant_files(&repo).is_empty());
}
