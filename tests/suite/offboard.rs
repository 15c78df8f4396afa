//! `lapse offboard PERSON`: one commit on `lapse/offboard-<person>` that
//! takes the person out of lapse.yaml (keeping every other byte) and
//! removes their grants, or `--at` sets their contract end; pushed to a
//! real bare remote, proposed once on a fake forge, reused on rerun, and
//! passing `lapse check --base`. The working tree is never touched.

use crate::common::Run;
use crate::prune_support;

use prune_support::forge::{FakeForge, Flavour};
use prune_support::{Fixture, NOW, git, write};

const POLICY: &str = "\
# Who may hold or approve access.
version: 1
owners: [group:security, alex@example.com]
people:
  alex@example.com:   # contractor, leaves early
    aliases: [alex@users.noreply.github.com]
    github: alex-gh

  sam@example.com: {github: sam-gh}
  maria@example.com: {github: maria-gh}
  li@example.com: {github: li-gh}
groups:
  security: [maria@example.com, li@example.com]
  oncall:
    - sam@example.com
    - alex@users.noreply.github.com   # pager
roles:
  deployer:
    description: Push to the payments repository
    # Leads approve deploys.
    approvers: [maria@example.com, ALEX@example.com, li@example.com]
    github: {repository: octo/payments, permission: push}
  reader:
    approvers: [group:security]
    github: {repository: octo/payments, permission: pull}
";

/// `POLICY` without alex, as the offboarding must write it.
const WITHOUT_ALEX: &str = "\
# Who may hold or approve access.
version: 1
owners: [group:security]
people:

  sam@example.com: {github: sam-gh}
  maria@example.com: {github: maria-gh}
  li@example.com: {github: li-gh}
groups:
  security: [maria@example.com, li@example.com]
  oncall:
    - sam@example.com
roles:
  deployer:
    description: Push to the payments repository
    # Leads approve deploys.
    approvers: [maria@example.com, li@example.com]
    github: {repository: octo/payments, permission: push}
  reader:
    approvers: [group:security]
    github: {repository: octo/payments, permission: pull}
";

const BRANCH: &str = "lapse/offboard-alex-example-com";

fn grant(subject: &str, role: &str, approver: &str) -> String {
    format!(
        "subject: {subject}\nrole: {role}\nreason: Work on the payments service\napprovers: [{approver}]\nexpires: 2026-12-20T00:00:00Z\n"
    )
}

/// main: the policy, two grants of alex's (one under an alias), one of
/// sam's that alex approved, and one of the on-call group alex is in.
fn fixture_with(extra: &[(&str, String)]) -> Fixture {
    let mut files = vec![
        ("lapse.yaml", POLICY.to_owned()),
        (
            "grants/payments/alex-deploy.yaml",
            grant("alex@example.com", "deployer", "maria@example.com"),
        ),
        (
            "grants/payments/alex-read.yaml",
            grant("alex@users.noreply.github.com", "reader", "li@example.com"),
        ),
        (
            "grants/payments/sam-deploy.yaml",
            grant("sam@example.com", "deployer", "alex@example.com"),
        ),
        (
            "grants/platform/oncall-read.yaml",
            grant("group:oncall", "reader", "maria@example.com"),
        ),
    ];
    files.extend(extra.iter().cloned());
    Fixture::of(&files)
}

fn fixture() -> Fixture {
    fixture_with(&[])
}

fn offboard(fixture: &Fixture, args: &[&str], env: &[(&str, String)]) -> Run {
    let mut all = vec!["offboard", "--now", NOW];
    all.extend_from_slice(args);
    fixture.lapse(&all, env)
}

#[test]
fn one_commit_takes_the_person_out_of_the_policy_and_removes_their_grants() {
    let fixture = fixture();
    // A dirty working tree on another branch: offboarding never touches it.
    git(&fixture.work, &["checkout", "-q", "-b", "feature"]);
    write(&fixture.work, "lapse.yaml", "edited, not committed\n");
    let status = git(&fixture.work, &["status", "--porcelain"]);
    let head = fixture.rev("HEAD");

    // Named by an alias.
    let output = offboard(&fixture, &["alex@users.noreply.github.com"], &[]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);

    assert_eq!(git(&fixture.work, &["status", "--porcelain"]), status);
    assert_eq!(fixture.rev("HEAD"), head);
    assert_eq!(
        std::fs::read_to_string(fixture.work.join("lapse.yaml")).unwrap(),
        "edited, not committed\n"
    );
    assert_eq!(fixture.rev(&format!("{BRANCH}^")), fixture.rev("main"));
    assert_eq!(
        git(&fixture.work, &["show", &format!("{BRANCH}:lapse.yaml")]),
        WITHOUT_ALEX
    );
    assert_eq!(
        fixture.files_at(BRANCH),
        [
            "grants/payments/sam-deploy.yaml",
            "grants/platform/oncall-read.yaml",
            "lapse.yaml"
        ]
    );
    let message = git(&fixture.work, &["log", "-1", "--format=%B", BRANCH]);
    assert!(
        message.starts_with("Offboard alex@example.com\n"),
        "{message}"
    );
    for line in [
        "- people: alex@example.com",
        "- groups.oncall",
        "- roles.deployer.approvers",
        "- owners",
        "- alex-read (grants/payments/alex-read.yaml)",
        "  was to end: 2026-12-20T00:00:00Z",
    ] {
        assert!(message.contains(line), "missing {line:?} in\n{message}");
    }
    let text = output.stdout;
    assert!(
        text.contains("Offboarding alex@example.com from origin/main"),
        "{text}"
    );
    assert!(text.contains("2 grants removed"), "{text}");
    assert!(text.contains(&format!("on branch {BRANCH}.")), "{text}");
}

/// Offboarding never waits: the change passes `lapse check --base`, the
/// grant alex approved included.
#[test]
fn the_branch_passes_check_against_its_base() {
    let fixture = fixture();
    assert_eq!(offboard(&fixture, &["alex@example.com"], &[]).code, Some(0));
    git(&fixture.work, &["checkout", "-q", BRANCH]);
    let check = fixture.lapse(&["check", "--base", "main", "--now", NOW], &[]);
    assert_eq!(check.code, Some(0), "{}{}", check.stdout, check.stderr);
}

#[test]
fn push_and_one_pull_request_and_a_rerun_changes_nothing() {
    let fixture = fixture();
    let forge = FakeForge::start(Flavour::GitHub);
    let args = ["alex@example.com", "--push", "origin", "--open-pr"];
    let output = offboard(&fixture, &args, &forge.github_env());
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_eq!(fixture.origin_rev(BRANCH), Some(fixture.rev(BRANCH)));
    let pulls = forge.pulls();
    assert_eq!(pulls.len(), 1);
    assert_eq!(pulls[0].head, BRANCH);
    assert_eq!(pulls[0].title, "Offboard alex@example.com");
    assert!(
        pulls[0]
            .body
            .contains("| alex-deploy | deployer | 2026-12-20T00:00:00Z | maria\\@example.com |"),
        "{}",
        pulls[0].body
    );
    let first = fixture.rev(BRANCH);
    forge.clear_requests();

    let again = offboard(&fixture, &args, &forge.github_env());
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_eq!(fixture.rev(BRANCH), first, "the rerun made a new commit");
    assert_eq!(forge.pulls().len(), 1);
    let calls: Vec<String> = forge
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(calls, ["GET /repos/octo/grants/pulls"]);
    assert!(
        again.stdout.contains("Pull request is up to date: #1"),
        "{}",
        again.stdout
    );
}

#[test]
fn gitlab_and_gitea_get_one_request_each() {
    for (flavour, env) in [
        (
            Flavour::GitLab,
            FakeForge::gitlab_env as fn(&FakeForge) -> _,
        ),
        (Flavour::Gitea, FakeForge::gitea_env),
    ] {
        let fixture = fixture();
        let forge = FakeForge::start(flavour);
        let args = ["alex@example.com", "--push", "origin", "--open-pr"];
        for _ in 0..2 {
            let output = offboard(&fixture, &args, &env(&forge));
            assert_eq!(output.code, Some(0), "{}", output.stderr);
        }
        let pulls = forge.pulls();
        assert_eq!(pulls.len(), 1);
        assert_eq!(pulls[0].head, BRANCH);
    }
}

#[test]
fn at_sets_the_contract_end_and_removes_nothing() {
    let fixture = fixture();
    let output = offboard(
        &fixture,
        &["alex@example.com", "--at", "2026-12-15T00:00:00+01:00"],
        &[],
    );
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let policy = git(&fixture.work, &["show", &format!("{BRANCH}:lapse.yaml")]);
    assert_eq!(
        policy,
        POLICY.replace(
            "  alex@example.com:   # contractor, leaves early\n",
            "  alex@example.com:   # contractor, leaves early\n    contract_ends: 2026-12-14T23:00:00Z\n"
        )
    );
    assert_eq!(fixture.files_at(BRANCH), fixture.files_at("main"));
    let text = output.stdout;
    assert!(
        text.contains("2 grants now end with the contract"),
        "{text}"
    );

    // Moving it earlier replaces the value; a later date changes nothing.
    let earlier = offboard(
        &fixture,
        &[
            "alex@example.com",
            "--at",
            "2026-12-12T00:00:00Z",
            "--base",
            BRANCH,
            "--branch",
            "earlier",
        ],
        &[],
    );
    assert_eq!(earlier.code, Some(0), "{}", earlier.stderr);
    let policy = git(&fixture.work, &["show", "earlier:lapse.yaml"]);
    assert!(
        policy.contains("    contract_ends: 2026-12-12T00:00:00Z\n"),
        "{policy}"
    );
    let later = offboard(
        &fixture,
        &[
            "alex@example.com",
            "--at",
            "2027-01-01T00:00:00Z",
            "--base",
            BRANCH,
            "--branch",
            "later",
        ],
        &[],
    );
    assert_eq!(later.code, Some(0), "{}", later.stderr);
    assert!(
        later.stdout.contains("nothing to change"),
        "{}",
        later.stdout
    );
    assert!(git(&fixture.work, &["branch", "--list", "later"]).is_empty());

    git(&fixture.work, &["checkout", "-q", BRANCH]);
    let check = fixture.lapse(
        &["check", "--base", "main", "--now", NOW, "--format", "json"],
        &[],
    );
    assert_eq!(check.code, Some(0), "{}", check.stdout);
    let report: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    let rules: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["outlives-contract", "outlives-contract"]);
}

#[test]
fn generated_is_refreshed_as_render_writes_it_after_the_merge() {
    let fixture = fixture_with(&[(
        "generated/alex-deploy.tf",
        "# generated by lapse render; do not edit\n".to_owned(),
    )]);
    let output = offboard(&fixture, &["alex@example.com"], &[]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let generated: Vec<String> = fixture
        .files_at(BRANCH)
        .into_iter()
        .filter(|path| path.starts_with("generated/"))
        .collect();
    assert_eq!(
        generated,
        [
            "generated/oncall-read.tf",
            "generated/sam-deploy.tf",
            "generated/versions.tf"
        ]
    );
    let oncall = git(
        &fixture.work,
        &["show", &format!("{BRANCH}:generated/oncall-read.tf")],
    );
    assert!(
        oncall.contains("sam-gh") && !oncall.contains("alex-gh"),
        "{oncall}"
    );
    git(&fixture.work, &["checkout", "-q", BRANCH]);
    let render = fixture.lapse(&["render", "--check", "--now", NOW], &[]);
    assert_eq!(render.code, Some(0), "{}{}", render.stdout, render.stderr);
}

#[test]
fn the_last_approver_of_a_role_is_not_removed_silently() {
    let policy = POLICY.replace(
        "    approvers: [group:security]\n",
        "    approvers: [alex@example.com]\n",
    );
    let fixture = fixture_with(&[
        ("lapse.yaml", policy),
        (
            "grants/payments/alex-read.yaml",
            grant("sam@example.com", "reader", "alex@example.com"),
        ),
    ]);
    let output = offboard(&fixture, &["alex@example.com"], &[]);
    assert_eq!(output.code, Some(2), "{}", output.stdout);
    let error = output.stderr;
    assert_eq!(error.lines().count(), 1, "{error}");
    for part in [
        "grants/payments/alex-read.yaml",
        "[unsatisfiable-approval]",
        "name another approver for those roles in lapse.yaml first",
        "lapse offboard alex@example.com --at <now>",
    ] {
        assert!(error.contains(part), "missing {part:?} in {error}");
    }
    assert!(git(&fixture.work, &["branch", "--list", BRANCH]).is_empty());
}

#[test]
fn unknown_people_groups_and_people_not_yet_merged_are_refused() {
    let fixture = fixture();
    let unknown = offboard(&fixture, &["mallory@example.com"], &[]);
    assert_eq!(unknown.code, Some(2));
    assert!(
        unknown
            .stderr
            .contains("`mallory@example.com` is not a person of lapse.yaml on origin/main"),
        "{}",
        unknown.stderr
    );
    let group = offboard(&fixture, &["group:oncall"], &[]);
    assert_eq!(group.code, Some(2));
    assert!(group.stderr.contains("is a group"), "{}", group.stderr);

    write(
        &fixture.work,
        "lapse.yaml",
        &POLICY.replace(
            "  li@example.com: {github: li-gh}\n",
            "  li@example.com: {github: li-gh}\n  kim@example.com: {}\n",
        ),
    );
    let new = offboard(&fixture, &["kim@example.com"], &[]);
    assert_eq!(new.code, Some(2));
    assert!(
        new.stderr
            .contains("is in the lapse.yaml of your working tree but not in origin/main"),
        "{}",
        new.stderr
    );
}

#[test]
fn a_layout_that_cannot_be_edited_in_place_is_refused_with_its_line() {
    let flow = POLICY.replace(
        "people:\n  alex@example.com:   # contractor, leaves early\n    aliases: [alex@users.noreply.github.com]\n    github: alex-gh\n\n",
        "people:\n  {alex@example.com: {aliases: [alex@users.noreply.github.com], github: alex-gh},\n",
    );
    let flow = flow.replace("  sam@example.com: {github: sam-gh}\n  maria@example.com: {github: maria-gh}\n  li@example.com: {github: li-gh}\n", "   sam@example.com: {github: sam-gh}, maria@example.com: {github: maria-gh}, li@example.com: {github: li-gh}}\n");
    let fixture = fixture_with(&[("lapse.yaml", flow)]);
    let output = offboard(&fixture, &["alex@example.com"], &[]);
    assert_eq!(output.code, Some(2), "{}", output.stdout);
    let error = output.stderr;
    assert!(error.starts_with("error: lapse.yaml:5: "), "{error}");
    assert!(error.contains("make this change by hand"), "{error}");
}

#[test]
fn dry_run_reports_in_json_and_writes_nothing() {
    let fixture = fixture();
    let output = offboard(
        &fixture,
        &["alex@example.com", "--dry-run", "--format", "json"],
        &[],
    );
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(report["person"], "alex@example.com");
    assert_eq!(report["branch"], BRANCH);
    assert_eq!(report["dry_run"], true);
    let removed: Vec<&str> = report["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(removed, ["alex-deploy", "alex-read"]);
    assert_eq!(
        report["policy_changes"],
        serde_json::json!([
            "people: alex@example.com",
            "groups.oncall",
            "roles.deployer.approvers",
            "owners"
        ])
    );
    assert_eq!(report["commit"], serde_json::Value::Null);
    assert!(git(&fixture.work, &["branch", "--list", BRANCH]).is_empty());
}
