//! What `lapse check` prints in each format, and its exit codes: 0 clean,
//! 1 findings, 2 usage, policy or I/O error.

use crate::common;

use common::{GRANT, NOW, Repo, lapse};

const PATH: &str = "grants/payments/alex-deploy.yaml";

/// A repository with one error (`unknown-role` at 2:7) and one warning
/// (`expired` at 7:10 of another grant).
fn repo_with_an_error_and_a_warning() -> Repo {
    let unknown_role = GRANT.replace("role: payments-deployer", "role: payments-deploy");
    let expired = GRANT
        .replace("2026-11-22T09:00:00Z", "2026-11-01T09:00:00Z")
        .replace("2026-12-06T09:00:00Z", "2026-11-10T09:00:00Z");
    Repo::with_grants(&[
        (PATH, &unknown_role),
        ("grants/old/alex-old.yaml", &expired),
    ])
}

mod human {
    use super::*;

    #[test]
    fn shows_the_offending_line_with_a_marker_under_the_value() {
        let run = repo_with_an_error_and_a_warning().check(&[]);
        assert_eq!(run.code, Some(1));
        assert!(run.stdout.contains("error[unknown-role]"), "{}", run.stdout);
        assert!(
            run.stdout.contains(&format!("--> {PATH}:2:7")),
            "{}",
            run.stdout
        );
        let lines: Vec<&str> = run.stdout.lines().collect();
        let source = lines
            .iter()
            .position(|l| l.ends_with("role: payments-deploy"))
            .unwrap_or_else(|| panic!("no source line in {}", run.stdout));
        let marker = lines[source + 1];
        let value_at = lines[source].find("payments-deploy").unwrap();
        assert_eq!(marker.find('^'), Some(value_at), "{}", run.stdout);
        assert_eq!(marker.trim_end().len(), value_at + "payments-deploy".len());
        assert!(
            run.stdout
                .contains("help: use a role defined under `roles`")
        );
        assert!(run.stdout.contains("warning[expired]"), "{}", run.stdout);
        assert!(
            run.stdout
                .trim_end()
                .ends_with("lapse: 1 error(s), 1 warning(s)")
        );
    }

    /// The text the marker underlines on the snippet line ending in `source`.
    fn underlined(stdout: &str, source: &str) -> String {
        let lines: Vec<&str> = stdout.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.ends_with(source))
            .unwrap_or_else(|| panic!("no `{source}` in {stdout}"));
        let (start, end) = (
            lines[at + 1].find('^').unwrap(),
            lines[at + 1].rfind('^').unwrap(),
        );
        lines[at][start..=end].to_owned()
    }

    #[test]
    fn the_marker_covers_a_list_item_or_quoted_value_without_punctuation() {
        let text = GRANT
            .replace("[maria@example.com]", "[sam@example.com, li@example.com]")
            .replace(
                "ticket: PAY-123",
                "ticket: \"PAY 123\"\nstarts: \"2026-11-22\"",
            )
            .replace("starts: 2026-11-22T09:00:00Z\n", "");
        let run = Repo::with_grants(&[(PATH, &text)]).check(&[]);
        let approvers = "approvers: [sam@example.com, li@example.com]";
        assert_eq!(underlined(&run.stdout, approvers), "sam@example.com");
        assert_eq!(
            underlined(&run.stdout, "starts: \"2026-11-22\""),
            "\"2026-11-22\""
        );
    }

    #[test]
    fn a_byte_order_mark_does_not_shift_the_marker() {
        let text = format!(
            "\u{feff}{}",
            GRANT.replace("alex@contractor.example", "nobody@example.com")
        );
        let run = Repo::with_grants(&[(PATH, &text)]).check(&[]);
        assert!(
            run.stdout.contains(&format!("--> {PATH}:1:10")),
            "{}",
            run.stdout
        );
        let source = "subject: nobody@example.com";
        assert_eq!(underlined(&run.stdout, source), "nobody@example.com");
    }

    #[test]
    fn has_no_colour_when_not_on_a_terminal() {
        let run = repo_with_an_error_and_a_warning().check(&[]);
        assert!(!run.stdout.contains('\u{1b}'), "{:?}", run.stdout);
    }

    #[test]
    fn says_so_when_there_is_nothing_to_report() {
        let run = Repo::with_grants(&[(PATH, GRANT)]).check(&[]);
        assert_eq!(run.code, Some(0));
        assert_eq!(run.stdout.trim(), "lapse: no problems found");
    }

    /// Runs `lapse check` under a pseudo-terminal (util-linux `script`).
    fn check_on_a_terminal(repo: &Repo, no_color: bool) -> String {
        let command = format!(
            "{} check --now {NOW} --repo {}",
            env!("CARGO_BIN_EXE_lapse"),
            repo.path().display()
        );
        let mut script = std::process::Command::new("script");
        script
            .args(["-qec", &command, "/dev/null"])
            .env_remove("NO_COLOR");
        if no_color {
            script.env("NO_COLOR", "1");
        }
        let output = script.output().expect("util-linux `script` is installed");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    #[test]
    fn is_coloured_on_a_terminal_unless_no_color_is_set() {
        let repo = repo_with_an_error_and_a_warning();
        let coloured = check_on_a_terminal(&repo, false);
        assert!(coloured.contains("error"), "{coloured:?}");
        assert!(coloured.contains('\u{1b}'), "{coloured:?}");
        let plain = check_on_a_terminal(&repo, true);
        assert!(plain.contains("error[unknown-role]"), "{plain:?}");
        assert!(!plain.contains('\u{1b}'), "{plain:?}");
    }
}

mod json {
    use super::*;

    #[test]
    fn reports_every_field_and_the_counts() {
        let run = repo_with_an_error_and_a_warning().check(&["--format", "json"]);
        assert_eq!(run.code, Some(1));
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(report["errors"], 1);
        assert_eq!(report["warnings"], 1);
        let diagnostics = report["diagnostics"].as_array().unwrap();
        assert_eq!(diagnostics.len(), 2);
        let error = diagnostics
            .iter()
            .find(|d| d["rule"] == "unknown-role")
            .unwrap();
        assert_eq!(error["severity"], "error");
        assert_eq!(error["file"], PATH);
        assert_eq!(error["line"], 2);
        assert_eq!(error["column"], 7);
        assert_eq!(
            error["message"],
            "role `payments-deploy` is not in the catalog"
        );
        assert!(error["help"].as_str().unwrap().contains("roles"));
        let warning = diagnostics.iter().find(|d| d["rule"] == "expired").unwrap();
        assert_eq!(warning["severity"], "warning");
    }

    #[test]
    fn a_clean_repository_is_an_empty_report() {
        let run = Repo::with_grants(&[(PATH, GRANT)]).check(&["--format", "json"]);
        assert_eq!(run.code, Some(0));
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(
            report,
            serde_json::json!({"version": 1, "diagnostics": [], "errors": 0, "warnings": 0})
        );
    }
}

mod github {
    use super::*;

    #[test]
    fn prints_one_workflow_annotation_per_finding() {
        let run = repo_with_an_error_and_a_warning().check(&["--format", "github"]);
        assert_eq!(run.code, Some(1));
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(lines.len(), 2, "{}", run.stdout);
        assert!(lines.contains(&"::error file=grants/payments/alex-deploy.yaml,line=2,col=7,title=lapse unknown-role::role `payments-deploy` is not in the catalog (help: use a role defined under `roles` in lapse.yaml, or add the role there first)"), "{}", run.stdout);
        assert!(
            lines.iter().any(|l| l.starts_with(
                "::warning file=grants/old/alex-old.yaml,line=7,col=10,title=lapse expired::"
            )),
            "{}",
            run.stdout
        );
    }

    #[test]
    fn a_clean_repository_prints_nothing() {
        let run = Repo::with_grants(&[(PATH, GRANT)]).check(&["--format", "github"]);
        assert_eq!(run.code, Some(0));
        assert_eq!(run.stdout, "");
    }
}

mod exit_codes {
    use super::*;

    #[test]
    fn clean_is_0_findings_1_and_warnings_alone_0() {
        assert_eq!(Repo::with_grants(&[(PATH, GRANT)]).check(&[]).code, Some(0));
        assert_eq!(repo_with_an_error_and_a_warning().check(&[]).code, Some(1));
        let expired = GRANT.replace("2026-12-06T09:00:00Z", "2026-11-23T09:00:00Z");
        assert_eq!(
            Repo::with_grants(&[(PATH, &expired)]).check(&[]).code,
            Some(0)
        );
    }

    #[test]
    fn an_unknown_flag_is_a_usage_error() {
        let run = Repo::with_grants(&[(PATH, GRANT)]).check(&["--frobnicate"]);
        assert_eq!(run.code, Some(2));
        assert!(run.stderr.contains("--frobnicate"), "{run:?}");
    }

    #[test]
    fn an_unknown_format_is_a_usage_error() {
        let run = Repo::with_grants(&[(PATH, GRANT)]).check(&["--format", "xml"]);
        assert_eq!(run.code, Some(2));
        assert!(run.stderr.contains("xml"), "{run:?}");
    }

    #[test]
    fn a_now_without_offset_is_a_usage_error_showing_the_accepted_form() {
        let run = lapse(&["check", "--now", "2026-11-23T12:00:00"]);
        assert_eq!(run.code, Some(2));
        assert!(run.stderr.contains("2026-12-06T17:00:00Z"), "{run:?}");
    }

    #[test]
    fn a_repository_without_policy_is_exit_2_naming_the_file() {
        let repo = Repo::new(&[(PATH, GRANT)]);
        let run = repo.check(&[]);
        assert_eq!(run.code, Some(2));
        assert_eq!(run.stdout, "");
        assert!(run.stderr.starts_with("error: "), "{run:?}");
        assert!(run.stderr.contains("lapse.yaml"), "{run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    }

    #[test]
    fn a_repository_that_does_not_exist_is_exit_2_naming_it() {
        let missing = tempfile::tempdir().unwrap().path().join("nowhere");
        let run = lapse(&["check", "--repo", missing.to_str().unwrap()]);
        assert_eq!(run.code, Some(2));
        assert!(run.stderr.contains("nowhere"), "{run:?}");
    }

    #[test]
    fn a_policy_that_is_a_symlink_is_exit_2() {
        let repo = Repo::new(&[("real/lapse.yaml", common::POLICY)]);
        std::os::unix::fs::symlink(
            repo.path().join("real/lapse.yaml"),
            repo.path().join("lapse.yaml"),
        )
        .unwrap();
        let run = repo.check(&[]);
        assert_eq!(run.code, Some(2));
        assert!(run.stderr.contains("symbolic link"), "{run:?}");
    }
}
