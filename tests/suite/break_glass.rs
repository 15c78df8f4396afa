//! Break-glass: a grant of a role with `break_glass` may be merged before it
//! is approved (`break-glass`, a warning every format shows first and
//! loudly), lasts at most the break-glass `max_duration`, is provisioned
//! like any grant, and must be reviewed within `review_within` of the
//! commit that put it in force on the default branch, or the audit reports
//! `unreviewed-break-glass`.

use crate::history_support;

use history_support::{POLICY, Repo, Run};
use serde_json::Value;

const GRANT: &str = "grants/oncall/alex-prod.yaml";

fn policy() -> String {
    format!(
        "{POLICY}  oncall-prod:\n    max_duration: 7d\n    approvers: [group:leads]\n    break_glass: {{max_duration: 4h, review_within: 24h}}\n    github: {{repository: acme/prod, permission: push}}\n"
    )
}

fn grant(expires: &str, approvers: &[&str]) -> String {
    format!(
        "subject: alex@example.com\nrole: oncall-prod\nreason: Incident 42, restart the payments service\napprovers: [{}]\nexpires: {expires}\n",
        approvers.join(", ")
    )
}

/// A repository whose policy has the break-glass role, and alex's
/// emergency grant committed to main at `when`, lasting until `expires`.
fn repo_with_emergency(when: &str, expires: &str) -> Repo {
    let repo = Repo::new();
    repo.write("lapse.yaml", policy());
    repo.commit(
        "sam@example.com",
        "2026-11-01T10:00:00Z",
        "Break-glass role",
    );
    repo.write(GRANT, grant(expires, &[]));
    repo.commit("alex@example.com", when, "Incident 42: break glass");
    repo
}

fn approve(repo: &Repo, who: &str, when: &str, expires: &str) {
    repo.write(GRANT, grant(expires, &[who]));
    repo.commit(who, when, "Reviewed");
}

#[test]
fn merged_without_approval_it_is_a_break_glass_warning_shown_first() {
    // History's NOW is 2026-11-10T12:00:00Z: two hours after the merge.
    let repo = repo_with_emergency("2026-11-10T10:00:00Z", "2026-11-10T13:00:00Z");
    // A second, ordinary finding in a file that sorts before it.
    repo.write(
        "grants/aaa/stale.yaml",
        history_support::grant("2026-11-02T00:00:00Z", &["maria@example.com"]),
    );
    repo.commit("sam@example.com", "2026-11-10T10:30:00Z", "Old grant");
    let run = repo.lapse(&["check", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let json = run.json();
    let rules: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["break-glass", "expired"], "{json:#}");
    assert!(
        run.stdout
            .starts_with("{\n  \"version\": 1,\n  \"break_glass\": [\n"),
        "{}",
        run.stdout
    );
    let finding = &json["break_glass"][0];
    assert_eq!(finding["severity"], "warning");
    assert_eq!(finding["line"], 2, "on the role: {finding:#}");
    let message = finding["message"].as_str().unwrap();
    assert!(message.starts_with("BREAK-GLASS: "), "{message}");
    assert!(message.contains("by 2026-11-11T10:00:00Z"), "{message}");

    let human = repo.lapse(&["check"]);
    assert!(
        human
            .stdout
            .starts_with("!!! BREAK-GLASS: 1 emergency grant(s) in force before their approvals, 0 not reviewed in time !!!\n"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("1 of them BREAK-GLASS"),
        "{}",
        human.stdout
    );
    let github = repo.lapse(&["check", "--format", "github"]);
    let first = github.stdout.lines().next().unwrap();
    assert!(
        first.starts_with(&format!(
            "::warning file={GRANT},line=2,col=7,title=BREAK-GLASS lapse break-glass::BREAK-GLASS: "
        )),
        "{}",
        github.stdout
    );
    let sarif = repo.lapse(&["check", "--format", "sarif"]).json();
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "break-glass");
    assert_eq!(result["rank"], 100.0);
    let rule = &sarif["runs"][0]["tool"]["driver"]["rules"]
        [result["ruleIndex"].as_u64().unwrap() as usize];
    assert_eq!(rule["properties"]["security-severity"], "8.0", "{rule:#}");
    let gitlab = repo.lapse(&["check", "--format", "gitlab"]).json();
    assert_eq!(gitlab[0]["check_name"], "break-glass");
    assert_eq!(gitlab[0]["severity"], "critical");
}

#[test]
fn a_pull_request_may_merge_it_and_render_provisions_it() {
    let repo = Repo::new();
    repo.write("lapse.yaml", policy());
    repo.commit(
        "sam@example.com",
        "2026-11-01T10:00:00Z",
        "Break-glass role",
    );
    repo.git(&["checkout", "-q", "-b", "incident"]);
    repo.write(GRANT, grant("2026-11-10T15:00:00Z", &[]));
    repo.commit("alex@example.com", "2026-11-10T11:00:00Z", "Break glass");
    let run = repo.lapse(&["check", "--base", "main", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.rules(), ["break-glass"]);
    let render = repo.lapse(&["render", "--out", "generated"]);
    assert_eq!(render.code, Some(0), "{}{}", render.stdout, render.stderr);
    let rendered = std::fs::read_to_string(repo.path().join("generated/alex-prod.tf")).unwrap();
    assert!(rendered.contains("2026-11-10T15:00:00Z"), "{rendered}");
}

#[test]
fn reviewed_in_time_it_is_an_ordinary_approved_grant() {
    let repo = repo_with_emergency("2026-11-09T10:00:00Z", "2026-11-09T14:00:00Z");
    // Unapproved, its review was due at 10:00 today.
    let before = repo.lapse(&["check", "--format", "json"]);
    assert_eq!(
        before.rules()[0],
        "unreviewed-break-glass",
        "{}",
        before.stdout
    );
    approve(
        &repo,
        "maria@example.com",
        "2026-11-09T20:00:00Z",
        "2026-11-09T14:00:00Z",
    );
    let run = repo.lapse(&["check", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.rules(), ["expired"]);
    let audit = repo.lapse(&["audit", "--format", "json"]).json();
    let events = &audit["grants"][0]["events"];
    let in_force = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "in-force")
        .unwrap();
    assert_eq!(in_force["break_glass_review_by"], "2026-11-10T10:00:00Z");
    assert_eq!(audit["unreviewed_break_glass"], 0);
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["event"] != "unreviewed-break-glass")
    );
}

fn unreviewed(run: &Run) -> Value {
    run.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "unreviewed-break-glass")
        .cloned()
        .unwrap_or_else(|| panic!("no unreviewed-break-glass in {}", run.stdout))
}

#[test]
fn not_reviewed_in_time_it_is_an_error_in_the_audit_and_a_line_in_lapse_audit() {
    let repo = repo_with_emergency("2026-11-09T10:00:00Z", "2026-11-09T14:00:00Z");
    let run = repo.lapse(&["check", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    let finding = unreviewed(&run);
    assert_eq!(finding["severity"], "error");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("put in force 2026-11-09T10:00:00Z and needed 1 authorised approval(s) within 24h (by 2026-11-10T10:00:00Z); 0 came in time"),
        "{finding:#}"
    );
    assert_eq!(
        run.json()["diagnostics"][0]["rule"],
        "unreviewed-break-glass"
    );
    assert!(run.rules().contains(&"insufficient-approvals".to_owned()));
    assert!(!run.rules().contains(&"break-glass".to_owned()));

    let audit = repo.lapse(&["audit", "--format", "json"]).json();
    assert_eq!(audit["unreviewed_break_glass"], 1);
    let line = audit["grants"][0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "unreviewed-break-glass")
        .unwrap()
        .clone();
    assert_eq!(line["time"], "2026-11-10T10:00:00Z");
    assert_eq!(line["in_force_at"], "2026-11-09T10:00:00Z");
    let markdown = repo.lapse(&["audit"]).stdout;
    assert!(
        markdown.contains("**BREAK-GLASS: 1 emergency grant(s) were not reviewed"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| **unreviewed-break-glass** |"),
        "{markdown}"
    );

    // A review after the window is on record as late: still an error.
    approve(
        &repo,
        "maria@example.com",
        "2026-11-10T11:00:00Z",
        "2026-11-09T14:00:00Z",
    );
    let run = repo.lapse(&["check", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        unreviewed(&run)["message"]
            .as_str()
            .unwrap()
            .contains("0 came in time")
    );
    assert!(!run.rules().contains(&"insufficient-approvals".to_owned()));
    let audit = repo.lapse(&["audit", "--format", "json"]).json();
    let line = audit["grants"][0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "unreviewed-break-glass")
        .unwrap()
        .clone();
    assert_eq!(
        line["approved_late_by"],
        serde_json::json!(["maria@example.com"])
    );
    // Render does not provision what the audit rejects.
    let render = repo.lapse(&["render", "--out", "generated"]);
    assert_eq!(render.code, Some(1), "{}", render.stderr);
    assert!(
        render.stderr.contains("unreviewed-break-glass"),
        "{}",
        render.stderr
    );
}

#[test]
fn the_review_is_due_from_the_merge_not_from_the_branch_commit() {
    let repo = Repo::new();
    repo.write("lapse.yaml", policy());
    repo.commit(
        "sam@example.com",
        "2026-11-01T10:00:00Z",
        "Break-glass role",
    );
    repo.git(&["checkout", "-q", "-b", "incident"]);
    // Written two days before it was merged, for the hours after the merge.
    let text = grant("2026-11-10T15:00:00Z", &[])
        .replace("expires:", "starts: 2026-11-10T11:00:00Z\nexpires:");
    repo.write(GRANT, &text);
    repo.commit("alex@example.com", "2026-11-08T11:00:00Z", "Break glass");
    repo.git(&["checkout", "-q", "main"]);
    repo.git_as(
        "li@example.com",
        "2026-11-10T11:00:00Z",
        &["merge", "-q", "--no-ff", "-m", "Merge incident", "incident"],
    );
    let run = repo.lapse(&["check", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.rules(), ["break-glass"]);
    assert!(
        run.stdout.contains("by 2026-11-11T11:00:00Z"),
        "{}",
        run.stdout
    );
}

#[test]
fn it_lasts_at_most_the_break_glass_maximum_until_approved() {
    let repo = repo_with_emergency("2026-11-10T10:00:00Z", "2026-11-10T20:00:00Z");
    let run = repo.lapse(&["check", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(run.rules(), ["break-glass", "duration-exceeds-max"]);
    assert!(
        run.stdout
            .contains("longer than the 4h that break-glass allows on role `oncall-prod`"),
        "{}",
        run.stdout
    );
    // Approved, it is an ordinary grant within the role's 7 days.
    approve(
        &repo,
        "li@example.com",
        "2026-11-10T11:00:00Z",
        "2026-11-10T20:00:00Z",
    );
    let run = repo.lapse(&["check", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
}

#[test]
fn lapse_new_break_glass_writes_an_emergency_request() {
    let repo = Repo::new();
    repo.write("lapse.yaml", policy());
    repo.commit(
        "sam@example.com",
        "2026-11-01T10:00:00Z",
        "Break-glass role",
    );
    let new = |extra: &[&str]| {
        let mut args = vec![
            "new",
            "--subject",
            "alex@example.com",
            "--reason",
            "Incident 42, restart the payments service",
            "--team",
            "oncall",
        ];
        args.extend_from_slice(extra);
        repo.lapse(&args)
    };
    let run = new(&["--role", "oncall-prod", "--for", "3h", "--break-glass"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("BREAK-GLASS: it may be merged before it is approved, and must be reviewed within 24h of the merge by 1 of: group:leads"), "{}", run.stdout);
    let text =
        std::fs::read_to_string(repo.path().join("grants/oncall/alex-oncall-prod.yaml")).unwrap();
    assert!(
        text.starts_with("# Written by `lapse new --break-glass`"),
        "{text}"
    );
    assert!(text.contains("approvers: []"), "{text}");
    assert!(text.contains("2026-11-10T15:00:00Z"), "{text}");
    repo.commit("alex@example.com", "2026-11-10T12:00:00Z", "Break glass");
    assert_eq!(
        repo.lapse(&["check", "--format", "json"]).rules(),
        ["break-glass"]
    );

    let too_long = new(&["--role", "oncall-prod", "--for", "5h", "--break-glass"]);
    assert_eq!(too_long.code, Some(2));
    assert!(
        too_long
            .stderr
            .contains("longer than the 4h that break-glass allows"),
        "{}",
        too_long.stderr
    );
    let ordinary = new(&["--role", "deployer", "--for", "3h", "--break-glass"]);
    assert_eq!(ordinary.code, Some(2));
    assert!(
        ordinary
            .stderr
            .contains("role `deployer` has no `break_glass`"),
        "{}",
        ordinary.stderr
    );
    let approved = new(&[
        "--role",
        "oncall-prod",
        "--for",
        "3h",
        "--break-glass",
        "--approver",
        "li@example.com",
    ]);
    assert_eq!(approved.code, Some(2), "{}", approved.stderr);
}
