//! `lapse check` on grant files: for every rule a grant can break, a file
//! that breaks it (rule id, file, line, column, severity, exit code) and a
//! near miss that does not.

use crate::common;

use std::path::Path;

use common::{GRANT, POLICY, Repo};

const PATH: &str = "grants/payments/alex-deploy.yaml";

/// A repository with the clean policy and one grant at `PATH`.
fn check_grant(text: &str) -> common::Checked {
    Repo::with_grants(&[(PATH, text)]).check_json()
}

/// `GRANT` with the line starting with `field:` replaced by `line`, or
/// removed when `line` is empty.
fn grant_with(field: &str, line: &str) -> String {
    let prefix = format!("{field}:");
    GRANT
        .lines()
        .filter_map(|l| match l.starts_with(&prefix) {
            true if line.is_empty() => None,
            true => Some(line),
            false => Some(l),
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Every registered rule is asserted by id (`"rule-id"`) in some test
/// file, so a rule added to `RULES` without a test fails the suite.
#[test]
fn every_rule_is_asserted_by_some_test() {
    let tests_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut sources = String::new();
    let mut dirs = vec![tests_dir];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                sources.push_str(&std::fs::read_to_string(path).unwrap());
            }
        }
    }
    let untested: Vec<_> = lapse::rules::RULES
        .iter()
        .map(|rule| rule.id)
        .filter(|id| !sources.contains(&format!("\"{id}\"")))
        .collect();
    assert!(untested.is_empty(), "rules without a test: {untested:?}");
}

#[test]
fn the_clean_grant_has_no_findings() {
    check_grant(GRANT).expect_clean();
}

mod parse_error {
    use super::*;

    #[test]
    fn unknown_field_points_at_the_field() {
        let checked = check_grant(&format!("{GRANT}colour: blue\n"));
        let finding = checked.expect_error("parse-error", PATH, 8, 1);
        assert!(finding.message.contains("colour"), "{finding:?}");
    }

    #[test]
    fn duplicate_key_points_at_the_second_occurrence() {
        let checked = check_grant(&format!("{GRANT}role: payments-reader\n"));
        let finding = checked.expect_error("parse-error", PATH, 8, 1);
        assert!(finding.message.contains("role"), "{finding:?}");
    }

    #[test]
    fn wrong_type_points_at_the_value() {
        let checked = check_grant(&grant_with("subject", "subject: [alex, sam]"));
        checked.expect_error("parse-error", PATH, 1, 10);
    }

    #[test]
    fn invalid_yaml_points_at_the_broken_line() {
        let checked = check_grant(&grant_with("reason", "reason: \"never closed"));
        let finding = checked.expect_one("parse-error", "error", PATH, 3, 9);
        assert_eq!(checked.code, Some(1));
        assert!(!finding.message.is_empty());
    }

    #[test]
    fn alias_bomb_is_refused_without_expanding_it() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..12 {
            let p = level - 1;
            text.push_str(&format!(
                "a{level}: &a{level} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        text.push_str("subject: *a11\n");
        let started = std::time::Instant::now();
        let checked = check_grant(&text);
        assert!(
            started.elapsed().as_secs() < 10,
            "took {:?}",
            started.elapsed()
        );
        assert_eq!(checked.code, Some(1));
        assert_eq!(checked.of_rule("parse-error").len(), 1, "{checked:#?}");
    }

    #[test]
    fn a_single_alias_of_a_scalar_is_fine() {
        let text = format!("{}reason: *why\n", grant_with("reason", "")).replace(
            "ticket: PAY-123",
            "ticket: &why Deploy the payments service, PAY-123",
        );
        check_grant(&text).expect_none_of("parse-error");
    }
}

mod grant_ids {
    use super::*;

    #[test]
    fn a_stem_with_capitals_or_underscores_is_an_invalid_id() {
        let path = "grants/payments/Alex_Deploy.yaml";
        let checked = Repo::with_grants(&[(path, GRANT)]).check_json();
        let finding = checked.expect_error("invalid-grant-id", path, 1, 1);
        assert!(finding.message.contains("Alex_Deploy"), "{finding:?}");
    }

    #[test]
    fn lower_case_digits_and_dashes_are_a_valid_id() {
        let checked = Repo::with_grants(&[("grants/0-alex-deploy-2.yml", GRANT)]).check_json();
        checked.expect_clean();
    }

    #[test]
    fn the_same_stem_in_two_folders_is_a_duplicate_id() {
        let later = "grants/team-b/alex-deploy.yaml";
        let other = grant_with("role", "role: payments-reader");
        let checked =
            Repo::with_grants(&[("grants/team-a/alex-deploy.yaml", GRANT), (later, &other)])
                .check_json();
        let finding = checked.expect_error("duplicate-grant-id", later, 1, 1);
        assert!(finding.message.contains("grants/team-a/alex-deploy.yaml"));
    }

    #[test]
    fn different_stems_are_distinct_ids() {
        let other = grant_with("role", "role: payments-reader");
        let checked = Repo::with_grants(&[
            ("grants/team-a/alex-deploy.yaml", GRANT),
            ("grants/team-b/alex-read.yaml", &other),
        ])
        .check_json();
        checked.expect_clean();
    }
}

mod refused_files {
    use super::*;
    use lapse::diagnostic::Diagnostic;

    /// A grant-shaped file outside any repository, whose text must never
    /// reach lapse's output; the directory lives as long as the first value.
    fn secret_outside_the_repository() -> (tempfile::TempDir, std::path::PathBuf) {
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("secret.yaml");
        std::fs::write(&secret, "subject: SECRET-MARKER\nrole: SECRET-MARKER\n").unwrap();
        (outside, secret)
    }

    #[test]
    fn a_symlink_to_a_file_outside_the_repository_is_refused_unread() {
        let (_outside, secret) = secret_outside_the_repository();
        let repo = Repo::with_grants(&[(PATH, GRANT)]);
        let link = "grants/payments/leak.yaml";
        std::os::unix::fs::symlink(&secret, repo.path().join(link)).unwrap();

        let checked = repo.check_json();
        checked.expect_error("refused-file", link, 1, 1);
        assert_eq!(checked.findings.len(), 1, "{:#?}", checked.findings);
        for format in ["human", "json", "github"] {
            let run = repo.check(&["--format", format]);
            assert!(!run.stdout.contains("SECRET-MARKER"), "{format}: {run:?}");
        }
    }

    /// Opening a FIFO for reading blocks until a writer comes, so a run
    /// that ends proves the link target was never even opened.
    #[test]
    fn a_symlink_to_a_fifo_is_refused_without_opening_it() {
        let outside = tempfile::tempdir().unwrap();
        let fifo = outside.path().join("pipe.yaml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let repo = Repo::with_grants(&[(PATH, GRANT)]);
        let link = "grants/payments/pipe.yaml";
        std::os::unix::fs::symlink(&fifo, repo.path().join(link)).unwrap();

        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lapse"))
            .args(["check", "--now", common::NOW, "--repo"])
            .arg(repo.path())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                child.kill().unwrap();
                panic!("lapse blocked on the FIFO behind {link}: it followed the link");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(1));
        repo.check_json().expect_error("refused-file", link, 1, 1);
    }

    #[test]
    fn a_fifo_named_like_a_grant_is_refused_without_opening_it() {
        let repo = Repo::with_grants(&[(PATH, GRANT)]);
        let fifo = "grants/payments/pipe.yaml";
        let made = std::process::Command::new("mkfifo")
            .arg(repo.path().join(fifo))
            .status()
            .unwrap();
        assert!(made.success());

        let checked = repo.check_json();
        checked.expect_error("refused-file", fifo, 1, 1);
        assert_eq!(checked.findings.len(), 1, "{:#?}", checked.findings);
    }

    /// A grant directly under `grants/`: listed with the top directory,
    /// opened later, on whichever thread reads it.
    const TOP_LEVEL: &str = "grants/alex-deploy.yaml";

    /// A file of the grants tree and what reading it gave.
    type ReadFile = (std::path::PathBuf, Result<String, Diagnostic>);

    /// What reading the grants tree gives when `swap` changes it after the
    /// top directory was listed and before its parts are read: each file
    /// read, and the refusals.
    fn read_after_listing(repo: &Repo, swap: impl FnOnce()) -> (Vec<ReadFile>, Vec<Diagnostic>) {
        let (tree, mut refusals) =
            lapse::load::tree::grant_tree_parts(repo.path(), Path::new("grants"));
        swap();
        let mut files = Vec::new();
        for part in &tree.parts {
            lapse::load::tree::read_part(&tree, part, &mut refusals, &mut |path, text| {
                files.push((path, text));
            });
        }
        (files, refusals)
    }

    /// The tree is listed before its files are read; a grant swapped for a
    /// link in between must not be followed when it is opened.
    #[test]
    fn a_grant_swapped_for_a_link_after_listing_is_not_followed() {
        let (_outside, secret) = secret_outside_the_repository();
        let repo = Repo::with_grants(&[(TOP_LEVEL, GRANT)]);
        let (files, _) = read_after_listing(&repo, || {
            std::fs::remove_file(repo.path().join(TOP_LEVEL)).unwrap();
            std::os::unix::fs::symlink(&secret, repo.path().join(TOP_LEVEL)).unwrap();
        });

        let [(path, read)] = &files[..] else {
            panic!("{files:?}")
        };
        assert_eq!(path, Path::new(TOP_LEVEL));
        let refusal = read.as_ref().expect_err("the link was followed");
        assert_eq!(refusal.rule, "refused-file");
        assert!(refusal.message.contains("symbolic link"), "{refusal:?}");
    }

    /// Likewise a directory swapped for a link to another tree of grants:
    /// its files are opened relative to the directory listed, never by a
    /// path resolved again through the link.
    #[test]
    fn a_directory_swapped_for_a_link_after_listing_is_not_walked() {
        let (outside, _secret) = secret_outside_the_repository();
        let repo = Repo::with_grants(&[(PATH, GRANT)]);
        let (files, refusals) = read_after_listing(&repo, || {
            let payments = repo.path().join("grants/payments");
            std::fs::remove_dir_all(&payments).unwrap();
            std::os::unix::fs::symlink(outside.path(), &payments).unwrap();
        });

        assert!(files.is_empty(), "read through the link: {files:?}");
        let [refusal] = &refusals[..] else {
            panic!("{refusals:?}")
        };
        assert_eq!(refusal.file, Path::new("grants/payments"));
        assert!(refusal.message.contains("symbolic link"), "{refusal:?}");
    }

    /// Likewise a grant swapped for a FIFO: opening it must not wait for a
    /// writer that never comes.
    #[test]
    fn a_grant_swapped_for_a_fifo_after_listing_is_not_waited_on() {
        let repo = Repo::with_grants(&[(TOP_LEVEL, GRANT)]);
        let root = repo.path().to_path_buf();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let repo = repo;
            let read = read_after_listing(&repo, || {
                std::fs::remove_file(root.join(TOP_LEVEL)).unwrap();
                let made = std::process::Command::new("mkfifo")
                    .arg(root.join(TOP_LEVEL))
                    .status()
                    .unwrap();
                assert!(made.success());
            });
            let _ = sender.send(read.0);
        });
        let files = receiver
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("reading the FIFO waited for a writer");
        let [(_, read)] = &files[..] else {
            panic!("{files:?}")
        };
        assert!(read.is_err() || read.as_deref() == Ok(""), "{read:?}");
    }

    #[test]
    fn a_symlinked_directory_is_refused_not_walked() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("other.yaml"), "not: a grant\n").unwrap();
        let repo = Repo::with_grants(&[(PATH, GRANT)]);
        std::os::unix::fs::symlink(outside.path(), repo.path().join("grants/elsewhere")).unwrap();

        let checked = repo.check_json();
        checked.expect_error("refused-file", "grants/elsewhere", 1, 1);
        checked.expect_none_of("parse-error");
    }

    #[test]
    fn a_grants_file_instead_of_a_directory_is_refused() {
        let checked = Repo::new(&[("lapse.yaml", POLICY), ("grants", "subject: x\n")]).check_json();
        checked.expect_error("refused-file", "grants", 1, 1);
    }

    #[test]
    fn a_file_over_64_kib_is_refused() {
        let padding = "# padding to push the file over the size bound\n".repeat(1400);
        let checked = check_grant(&format!("{GRANT}{padding}"));
        let finding = checked.expect_error("refused-file", PATH, 1, 1);
        assert!(finding.message.contains("64 KiB"), "{finding:?}");
    }

    #[test]
    fn a_file_just_under_64_kib_is_read() {
        let padding = "# padding that keeps the file under the size bound\n".repeat(1200);
        check_grant(&format!("{GRANT}{padding}")).expect_clean();
    }

    #[test]
    fn files_that_are_not_yaml_are_ignored() {
        let repo = Repo::with_grants(&[(PATH, GRANT), ("grants/payments/README.md", "# notes\n")]);
        repo.check_json().expect_clean();
    }
}

mod expiry {
    use super::*;

    #[test]
    fn a_grant_without_expires_is_missing_expiry() {
        let checked = check_grant(&grant_with("expires", ""));
        let finding = checked.expect_error("missing-expiry", PATH, 1, 10);
        assert!(finding.message.contains("alex-deploy"));
    }

    #[test]
    fn a_date_without_time_is_an_invalid_timestamp_with_the_accepted_form() {
        let checked = check_grant(&grant_with("expires", "expires: 2026-12-06"));
        let finding = checked.expect_error("invalid-timestamp", PATH, 7, 10);
        assert!(finding.help.contains("2026-12-06T17:00:00Z"), "{finding:?}");
        assert!(finding.help.contains("+01:00"), "{finding:?}");
    }

    #[test]
    fn a_time_without_offset_is_an_invalid_timestamp_with_the_accepted_form() {
        let checked = check_grant(&grant_with("starts", "starts: 2026-11-22T09:00:00"));
        let finding = checked.expect_error("invalid-timestamp", PATH, 6, 9);
        assert!(finding.message.contains("offset"), "{finding:?}");
        assert!(finding.help.contains("2026-11-22T09:00:00Z"), "{finding:?}");
    }

    #[test]
    fn an_explicit_offset_other_than_utc_is_accepted() {
        let text = grant_with("expires", "expires: 2026-12-06T10:00:00+01:00");
        check_grant(&text).expect_clean();
    }

    #[test]
    fn an_expired_grant_is_only_a_warning_in_audit_mode() {
        let text = grant_with("expires", "expires: 2026-11-23T11:59:59Z");
        let checked = check_grant(&text);
        let finding = checked.expect_one("expired", "warning", PATH, 7, 10);
        assert!(finding.help.contains("lapse prune"), "{finding:?}");
        assert_eq!(checked.findings.len(), 1, "{:#?}", checked.findings);
        assert_eq!(checked.code, Some(0));
    }

    #[test]
    fn a_grant_expiring_exactly_now_has_expired() {
        let text = grant_with("expires", &format!("expires: {}", common::NOW));
        check_grant(&text).expect_one("expired", "warning", PATH, 7, 10);
    }

    #[test]
    fn a_grant_expiring_in_the_future_has_not_expired() {
        let text = grant_with("expires", "expires: 2026-11-23T12:00:01Z");
        check_grant(&text).expect_clean();
    }

    #[test]
    fn expires_equal_to_starts_is_expires_before_start() {
        let text = grant_with("expires", "expires: 2026-11-22T09:00:00Z");
        let checked = check_grant(&text);
        checked.expect_error("expires-before-start", PATH, 7, 10);
    }

    #[test]
    fn expires_after_starts_is_fine() {
        let text = grant_with("starts", "starts: 2026-12-06T08:59:00Z");
        check_grant(&text).expect_clean();
    }

    #[test]
    fn longer_than_the_role_maximum_from_starts_exceeds_it() {
        let text = grant_with("expires", "expires: 2026-12-06T09:01:00Z");
        let finding = check_grant(&text)
            .expect_error("duration-exceeds-max", PATH, 7, 10)
            .clone();
        assert!(finding.message.contains("from starts"), "{finding:?}");
        assert!(
            finding.message.contains("longer than the 14d that role"),
            "{finding:?}"
        );
    }

    #[test]
    fn longer_than_the_role_maximum_from_now_exceeds_it() {
        let text = grant_with("starts", "").replace("2026-12-06T09:00:00Z", "2026-12-07T12:01:00Z");
        let checked = check_grant(&text);
        let finding = checked.expect_error("duration-exceeds-max", PATH, 6, 10);
        assert!(finding.message.contains("from now"), "{finding:?}");
    }

    #[test]
    fn exactly_the_role_maximum_from_now_is_allowed() {
        let text = grant_with("starts", "").replace("2026-12-06T09:00:00Z", "2026-12-07T12:00:00Z");
        check_grant(&text).expect_clean();
    }

    #[test]
    fn a_role_without_maximum_gets_the_default_maximum() {
        let reader = grant_with("role", "role: payments-reader");
        let over = reader.replace("2026-12-06T09:00:00Z", "2026-12-22T09:01:00Z");
        check_grant(&over).expect_error("duration-exceeds-max", PATH, 7, 10);
        let within = reader.replace("2026-12-06T09:00:00Z", "2026-12-22T09:00:00Z");
        check_grant(&within).expect_clean();
    }

    /// Outside a change (the audit), a grant that outlives the contract
    /// ends with it: a warning, so that a shortened contract never blocks
    /// anyone. A change that writes one is an error (tests/suite/lifecycle.rs).
    #[test]
    fn expiring_after_the_contract_ends_outlives_it() {
        let text = GRANT
            .replace("2026-11-22T09:00:00Z", "2026-12-25T09:00:00Z")
            .replace("2026-12-06T09:00:00Z", "2027-01-01T00:00:00Z");
        let checked = check_grant(&text);
        let finding = checked.expect_one("outlives-contract", "warning", PATH, 7, 10);
        assert!(
            finding.message.contains("2026-12-31T23:59:59Z"),
            "{finding:?}"
        );
        assert_eq!(checked.code, Some(0));
    }

    #[test]
    fn the_contract_applies_to_the_subject_under_an_alias() {
        let text = GRANT
            .replace("alex@contractor.example", "Alex@Users.Noreply.GitHub.com")
            .replace("2026-11-22T09:00:00Z", "2026-12-25T09:00:00Z")
            .replace("2026-12-06T09:00:00Z", "2027-01-01T00:00:00Z");
        check_grant(&text).expect_one("outlives-contract", "warning", PATH, 7, 10);
    }

    #[test]
    fn expiring_when_the_contract_ends_is_allowed() {
        let text = GRANT
            .replace("2026-11-22T09:00:00Z", "2026-12-25T09:00:00Z")
            .replace("2026-12-06T09:00:00Z", "2026-12-31T23:59:59Z");
        check_grant(&text).expect_clean();
    }
}

mod references {
    use super::*;

    #[test]
    fn a_role_missing_from_the_catalog_is_unknown() {
        let checked = check_grant(&grant_with("role", "role: payments-deploy"));
        let finding = checked.expect_error("unknown-role", PATH, 2, 7);
        assert!(finding.message.contains("payments-deploy"));
    }

    /// In the audit, a grant whose subject is not in the policy is what
    /// offboarding leaves behind: never provisioned, pruned, a warning. A
    /// change naming an unknown subject is `unknown-subject`
    /// (tests/suite/lifecycle.rs).
    #[test]
    fn a_person_missing_from_people_leaves_an_orphaned_grant() {
        let checked = check_grant(&grant_with("subject", "subject: mallory@example.com"));
        checked.expect_one("orphaned-grant", "warning", PATH, 1, 10);
    }

    #[test]
    fn a_group_missing_from_groups_leaves_an_orphaned_grant() {
        let checked = check_grant(&grant_with("subject", "subject: group:nobody"));
        checked.expect_one("orphaned-grant", "warning", PATH, 1, 10);
    }

    #[test]
    fn subjects_are_known_by_alias_case_variant_or_group() {
        for subject in [
            "alex@users.noreply.github.com",
            "ALEX@Contractor.Example",
            "group:oncall",
        ] {
            let checked = check_grant(&grant_with("subject", &format!("subject: {subject}")));
            checked.expect_none_of("unknown-subject");
            assert_eq!(checked.code, Some(0), "{subject}: {:#?}", checked.findings);
        }
    }

    #[test]
    fn an_approver_missing_from_people_is_unknown() {
        let text = grant_with(
            "approvers",
            "approvers: [maria@example.com, ghost@example.com]",
        );
        let checked = check_grant(&text);
        checked.expect_error("unknown-approver", PATH, 5, 32);
        // Reported once, not again as an unauthorised approver.
        checked.expect_none_of("unauthorized-approver");
    }

    #[test]
    fn an_approver_named_by_alias_is_known() {
        let text = grant_with("approvers", "approvers: [maria@users.noreply.github.com]");
        check_grant(&text).expect_clean();
    }
}

mod justification {
    use super::*;

    #[test]
    fn a_grant_without_reason_is_missing_reason_at_the_subject() {
        let checked = check_grant(&grant_with("reason", ""));
        checked.expect_error("missing-reason", PATH, 1, 10);
    }

    #[test]
    fn a_reason_shorter_than_the_minimum_is_missing_reason_at_the_reason() {
        let checked = check_grant(&grant_with("reason", "reason: \"  deploy   \""));
        let finding = checked.expect_error("missing-reason", PATH, 3, 9);
        assert!(finding.message.contains("10"), "{finding:?}");
    }

    #[test]
    fn a_reason_of_exactly_the_minimum_length_is_enough() {
        check_grant(&grant_with("reason", "reason: hotfix 42Z")).expect_clean();
        check_grant(&grant_with("reason", "reason: débogage 1")).expect_clean();
    }

    fn ticket_policy() -> String {
        POLICY.replace("require_ticket: false", "require_ticket: true")
    }

    #[test]
    fn without_ticket_when_the_policy_requires_one_is_missing_ticket() {
        let policy = ticket_policy();
        let text = grant_with("ticket", "");
        let checked = Repo::new(&[("lapse.yaml", &policy), (PATH, &text)]).check_json();
        checked.expect_error("missing-ticket", PATH, 1, 10);
    }

    #[test]
    fn an_empty_ticket_when_the_policy_requires_one_is_missing_ticket() {
        let policy = ticket_policy();
        let text = grant_with("ticket", "ticket: \" \"");
        let checked = Repo::new(&[("lapse.yaml", &policy), (PATH, &text)]).check_json();
        checked.expect_error("missing-ticket", PATH, 4, 9);
    }

    #[test]
    fn a_ticket_satisfies_the_policy_and_none_is_needed_by_default() {
        let policy = ticket_policy();
        Repo::new(&[("lapse.yaml", &policy), (PATH, GRANT)])
            .check_json()
            .expect_clean();
        check_grant(&grant_with("ticket", "")).expect_clean();
    }
}

mod approvals {
    use super::*;

    fn db_writer_approved_by(approvers: &str) -> String {
        grant_with("role", "role: payments-db-writer").replace(
            "approvers: [maria@example.com]",
            &format!("approvers: {approvers}"),
        )
    }

    #[test]
    fn one_person_under_an_alias_counts_once() {
        let text = db_writer_approved_by("[maria@example.com, maria@users.noreply.github.com]");
        let checked = check_grant(&text);
        let finding = checked.expect_error("insufficient-approvals", PATH, 5, 13);
        assert!(finding.message.contains("needs 2"), "{finding:?}");
        assert!(finding.message.contains("has 1"), "{finding:?}");
    }

    #[test]
    fn one_person_in_two_spellings_counts_once() {
        let text = db_writer_approved_by("[maria@example.com, MARIA@Example.COM]");
        check_grant(&text).expect_error("insufficient-approvals", PATH, 5, 13);
    }

    #[test]
    fn no_approvers_at_all_is_insufficient() {
        let checked = check_grant(&grant_with("approvers", ""));
        checked.expect_error("insufficient-approvals", PATH, 2, 7);
    }

    #[test]
    fn two_distinct_authorised_people_are_enough() {
        check_grant(&db_writer_approved_by(
            "[maria@example.com, sam@example.com]",
        ))
        .expect_clean();
    }

    #[test]
    fn an_approver_not_listed_directly_is_unauthorized() {
        let text = grant_with("role", "role: payments-reader")
            .replace("[maria@example.com]", "[li@example.com]");
        let checked = check_grant(&text);
        let finding = checked.expect_error("unauthorized-approver", PATH, 5, 13);
        assert!(finding.message.contains("payments-reader"), "{finding:?}");
        // An unauthorised approval counts for nothing.
        checked.expect_one("insufficient-approvals", "error", PATH, 5, 13);
    }

    #[test]
    fn an_approver_outside_the_approving_group_is_unauthorized() {
        let text = grant_with("approvers", "approvers: [sam@example.com]");
        check_grant(&text).expect_error("unauthorized-approver", PATH, 5, 13);
    }

    #[test]
    fn approvers_are_authorised_directly_or_through_a_group_under_any_spelling() {
        let direct = grant_with("role", "role: payments-reader")
            .replace("[maria@example.com]", "[Maria@users.noreply.github.com]");
        check_grant(&direct).expect_clean();
        let via_group = grant_with("approvers", "approvers: [LI@example.com]");
        check_grant(&via_group).expect_clean();
    }

    /// A grant of `payments-reader` (approved by maria alone) to `subject`.
    fn reader_grant_to(subject: &str) -> String {
        grant_with("role", "role: payments-reader").replace("alex@contractor.example", subject)
    }

    #[test]
    fn the_subject_approving_their_own_grant_is_self_approval() {
        let checked = check_grant(&reader_grant_to("maria@example.com"));
        checked.expect_error("self-approval", PATH, 5, 13);
    }

    #[test]
    fn self_approval_is_caught_through_an_alias() {
        let text = reader_grant_to("maria@example.com")
            .replace("[maria@example.com]", "[maria@users.noreply.github.com]");
        check_grant(&text).expect_error("self-approval", PATH, 5, 13);
    }

    #[test]
    fn self_approval_is_caught_through_a_case_variant() {
        let checked = check_grant(&reader_grant_to("Maria@Example.COM"));
        checked.expect_error("self-approval", PATH, 5, 13);
    }

    #[test]
    fn a_member_of_the_subject_group_approving_is_self_approval() {
        let text = grant_with("subject", "subject: group:payments-leads")
            .replace("[maria@example.com]", "[li@example.com]");
        let checked = check_grant(&text);
        checked.expect_error("self-approval", PATH, 5, 13);
    }

    #[test]
    fn someone_else_approving_is_not_self_approval() {
        check_grant(&grant_with("subject", "subject: group:oncall")).expect_clean();
    }
}

mod overlap {
    use super::*;

    const LATER: &str = "grants/payments/alex-deploy-2.yaml";

    fn second_grant(starts: &str, expires: &str) -> String {
        GRANT
            .replace("starts: 2026-11-22T09:00:00Z", &format!("starts: {starts}"))
            .replace(
                "expires: 2026-12-06T09:00:00Z",
                &format!("expires: {expires}"),
            )
    }

    #[test]
    fn overlapping_grants_of_one_role_to_one_subject_are_duplicates() {
        let later = second_grant("2026-12-01T09:00:00Z", "2026-12-10T09:00:00Z")
            .replace("alex@contractor.example", "alex@users.noreply.github.com");
        let checked = Repo::with_grants(&[(PATH, GRANT), (LATER, &later)]).check_json();
        let finding = checked.expect_error("duplicate-grant", LATER, 2, 7);
        assert!(finding.message.contains("alex-deploy"), "{finding:?}");
    }

    #[test]
    fn adjacent_grants_do_not_overlap() {
        let later = second_grant("2026-12-06T09:00:00Z", "2026-12-10T09:00:00Z");
        let checked = Repo::with_grants(&[(PATH, GRANT), (LATER, &later)]).check_json();
        checked.expect_clean();
    }

    #[test]
    fn overlapping_grants_of_different_roles_are_not_duplicates() {
        let other = grant_with("role", "role: payments-reader");
        let checked = Repo::with_grants(&[(PATH, GRANT), (LATER, &other)]).check_json();
        checked.expect_clean();
    }
}
