//! A person's lifecycle: access ends with the contract in every command,
//! offboarding never waits for CI, and render provisions only what passes.

use crate::history_support;

use history_support::{Repo, Run, grant};

const EXPIRES: &str = "2026-11-14T17:00:00Z";

/// The history kit's policy with a second role.
fn policy() -> String {
    format!(
        "{}  log-reader:\n    max_duration: 14d\n    approvers: [group:leads]\n    github: {{repository: acme/logs, permission: pull}}\n",
        history_support::POLICY
    )
}

/// A repository whose first commit holds `policy()`.
fn repo() -> Repo {
    let repo = Repo::new();
    repo.write("lapse.yaml", policy());
    repo.commit("sam@example.com", "2026-11-01T10:00:00Z", "Logins and logs");
    repo
}

/// main: alex holds two approved grants until the 14th.
fn repo_with_alex() -> Repo {
    let repo = repo();
    repo.write("grants/team/alex-deploy.yaml", grant(EXPIRES, &[]));
    let logs = grant(EXPIRES, &[]).replace("role: deployer", "role: log-reader");
    repo.write("grants/team/alex-logs.yaml", &logs);
    repo.commit("alex@example.com", "2026-11-08T09:00:00Z", "Request");
    repo.write(
        "grants/team/alex-deploy.yaml",
        grant(EXPIRES, &["maria@example.com"]),
    );
    repo.write(
        "grants/team/alex-logs.yaml",
        logs.replace("approvers: []", "approvers: [maria@example.com]"),
    );
    repo.commit("maria@example.com", "2026-11-08T10:00:00Z", "Approve");
    repo
}

fn pull_request(repo: &Repo) -> history_support::Run {
    repo.lapse(&["check", "--base", "main", "--format", "json"])
}

fn severities(run: &history_support::Run) -> Vec<(String, String)> {
    run.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_owned(),
                d["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

const ALEX: &str = "  alex@example.com: {github: alex-gh}\n";

fn with_alex_contract(ends: &str) -> String {
    let policy = policy();
    assert!(policy.contains(ALEX));
    policy.replace(
        ALEX,
        &format!("  alex@example.com:\n    github: alex-gh\n    contract_ends: {ends}\n"),
    )
}

/// The current branch: alex's contract is set to end on the 12th.
fn alex_leaves_on_the_12th(repo: &Repo) {
    repo.write("lapse.yaml", with_alex_contract("2026-11-12T00:00:00Z"));
    repo.commit(
        "sam@example.com",
        "2026-11-09T09:00:00Z",
        "Alex leaves on the 12th",
    );
}

fn without_alex() -> String {
    let policy = policy();
    assert!(policy.contains(ALEX));
    policy.replace(ALEX, "")
}

#[test]
fn a_change_that_ends_a_contract_early_passes_with_warnings() {
    let repo = repo_with_alex();
    repo.git(&["checkout", "-q", "-b", "offboard"]);
    alex_leaves_on_the_12th(&repo);
    let run = pull_request(&repo);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let warning = ("outlives-contract".to_owned(), "warning".to_owned());
    assert_eq!(severities(&run), [warning.clone(), warning]);
}

#[test]
fn a_change_that_removes_a_person_passes_with_orphaned_grants() {
    let repo = repo_with_alex();
    repo.git(&["checkout", "-q", "-b", "offboard"]);
    repo.write("lapse.yaml", without_alex());
    repo.commit("sam@example.com", "2026-11-09T09:00:00Z", "Alex left");
    let run = pull_request(&repo);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let warning = ("orphaned-grant".to_owned(), "warning".to_owned());
    assert_eq!(severities(&run), [warning.clone(), warning]);
}

#[test]
fn a_change_may_not_write_a_grant_past_the_contract_or_for_someone_unknown() {
    let repo = repo();
    repo.write("lapse.yaml", with_alex_contract("2026-11-12T00:00:00Z"));
    repo.commit("sam@example.com", "2026-11-02T09:00:00Z", "Alex's contract");
    repo.git(&["checkout", "-q", "-b", "request"]);
    repo.write("grants/team/alex-deploy.yaml", grant(EXPIRES, &[]));
    let mallory = grant(EXPIRES, &[]).replace("alex@", "mallory@");
    repo.write("grants/team/mallory-deploy.yaml", &mallory);
    repo.commit("alex@example.com", "2026-11-08T09:00:00Z", "Request");
    let run = pull_request(&repo);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    let rules = run.rules();
    assert!(rules.contains(&"outlives-contract".to_owned()), "{rules:?}");
    assert!(rules.contains(&"unknown-subject".to_owned()), "{rules:?}");
}

fn render(repo: &Repo, now: &str) -> Run {
    lapse_at(repo, now, &["render"])
}

/// lapse judging at `now` rather than the kit's instant.
fn lapse_at(repo: &Repo, now: &str, args: &[&str]) -> Run {
    crate::common::run_in(repo.path(), now, args, &[])
}

#[test]
fn render_enforces_the_contract_end_and_leaves_the_grant_out_after_it() {
    let repo = repo_with_alex();
    alex_leaves_on_the_12th(&repo);
    let before = render(&repo, "2026-11-10T12:00:00Z");
    assert!(before.code == Some(0), "{}", before.stderr);
    let rendered = std::fs::read_to_string(repo.path().join("generated/alex-deploy.tf")).unwrap();
    assert!(rendered.contains("2026-11-12T00:00:00Z"), "{rendered}");
    assert!(
        !rendered.contains("expires_at = \"2026-11-14"),
        "{rendered}"
    );
    let after = render(&repo, "2026-11-12T00:00:00Z");
    assert!(after.code == Some(0), "{}", after.stderr);
    assert!(!repo.path().join("generated/alex-deploy.tf").exists());
}

#[test]
fn an_orphaned_grant_is_left_out_and_never_stops_anyone_elses_render() {
    let repo = repo_with_alex();
    let sam = grant(EXPIRES, &["maria@example.com"]).replace("alex@", "sam@");
    repo.write("grants/team/sam-deploy.yaml", &sam);
    repo.commit("li@example.com", "2026-11-08T11:00:00Z", "Sam deploys");
    repo.write("lapse.yaml", without_alex());
    repo.commit("sam@example.com", "2026-11-09T09:00:00Z", "Alex left");
    let output = render(&repo, "2026-11-10T12:00:00Z");
    let stderr = output.stderr;
    assert_eq!(output.code, Some(0), "{stderr}");
    assert!(
        stderr.contains("left out grants/team/alex-deploy.yaml: orphaned-grant"),
        "{stderr}"
    );
    assert!(repo.path().join("generated/sam-deploy.tf").exists());
    assert!(!repo.path().join("generated/alex-deploy.tf").exists());
}

#[test]
fn render_leaves_out_unapproved_and_self_approved_grants_and_renders_the_rest() {
    let repo = repo_with_alex();
    // Straight onto main, past any review: sam without approval, li by herself.
    let sam = grant(EXPIRES, &[]).replace("alex@", "sam@");
    repo.write("grants/team/sam-deploy.yaml", &sam);
    let li = grant(EXPIRES, &["li@example.com"])
        .replace("subject: alex@", "subject: sam@")
        .replace("role: deployer", "role: log-reader");
    repo.write("grants/team/sam-logs.yaml", &li);
    repo.commit("li@example.com", "2026-11-09T09:00:00Z", "Direct push");
    let output = render(&repo, "2026-11-10T12:00:00Z");
    let stderr = output.stderr;
    assert_eq!(output.code, Some(1), "{stderr}");
    assert!(
        stderr.contains("left out grants/team/sam-deploy.yaml: insufficient-approvals"),
        "{stderr}"
    );
    assert!(
        stderr.contains("left out grants/team/sam-logs.yaml: self-approval"),
        "{stderr}"
    );
    assert!(repo.path().join("generated/alex-deploy.tf").exists());
    assert!(!repo.path().join("generated/sam-deploy.tf").exists());
    assert!(!repo.path().join("generated/sam-logs.tf").exists());
}

/// `who` says when each access ends and why: the contract end, where it
/// comes before `expires`, in the policy of that moment.
#[test]
fn who_shows_the_effective_end_and_why() {
    let repo = repo_with_alex();
    alex_leaves_on_the_12th(&repo);
    let json = repo.lapse(&["who", "--at", "2026-11-10T12:00:00Z", "--format", "json"]);
    assert_eq!(json.code, Some(0), "{}", json.stderr);
    let grants = json.json()["grants"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(grants.len(), 2, "{}", json.stdout);
    for grant in &grants {
        assert_eq!(grant["expires"], EXPIRES, "{grant}");
        assert_eq!(
            grant["ends"],
            serde_json::json!({"at": "2026-11-12T00:00:00Z", "reason": "contract-ends"}),
            "{grant}"
        );
    }
    let human = repo.lapse(&["who", "--at", "2026-11-10T12:00:00Z"]);
    assert!(
        human.stdout.contains(
            "  ends:      2026-11-12T00:00:00Z (the subject's contract_ends, before its expires)"
        ),
        "{}",
        human.stdout
    );

    // Before the contract was set, the same grants end at their expires.
    let earlier = repo.lapse(&["who", "--at", "2026-11-08T12:00:00Z", "--format", "json"]);
    assert_eq!(
        earlier.json()["grants"][0]["ends"],
        serde_json::json!({"at": EXPIRES, "reason": "expires"}),
        "{}",
        earlier.stdout
    );
}

/// A person's access ends with their contract through a group too: the
/// member gets a module block of their own that the cloud ends at the
/// contract end, and is left out once it has passed; the others keep the
/// grant's own end.
#[test]
fn a_group_members_access_ends_with_their_contract() {
    let repo = repo();
    let policy = with_alex_contract("2026-11-12T00:00:00Z").replace(
        "groups:\n",
        "groups:\n  team: [alex@example.com, sam@example.com]\n",
    );
    repo.write("lapse.yaml", &policy);
    repo.commit("sam@example.com", "2026-11-02T09:00:00Z", "The team");
    let team = grant(EXPIRES, &[]).replace("alex@example.com", "group:team");
    repo.write("grants/team/team-deploy.yaml", &team);
    repo.commit("sam@example.com", "2026-11-08T09:00:00Z", "Request");
    let approved = team.replace("approvers: []", "approvers: [maria@example.com]");
    repo.write("grants/team/team-deploy.yaml", &approved);
    repo.commit("maria@example.com", "2026-11-08T10:00:00Z", "Approve");
    let file = repo.path().join("generated/team-deploy.tf");

    let before = render(&repo, "2026-11-10T12:00:00Z");
    assert!(before.code == Some(0), "{}", before.stderr);
    let rendered = std::fs::read_to_string(&file).unwrap();
    let body = hcl::parse(&rendered).expect("the rendered file is HCL");
    let modules: Vec<(String, String, String)> = body
        .blocks()
        .map(|block| {
            let attribute = |name: &str| {
                block
                    .body()
                    .attributes()
                    .find(|attribute| attribute.key() == name)
                    .map(|attribute| attribute.expr().to_string())
                    .unwrap_or_default()
            };
            (
                block.labels()[0].as_str().to_owned(),
                attribute("expires_at"),
                attribute("principals"),
            )
        })
        .collect();
    assert_eq!(modules.len(), 2, "{rendered}");
    assert_eq!(modules[0].0, "grant_team-deploy", "{rendered}");
    assert_eq!(modules[0].1, format!("\"{EXPIRES}\""), "{rendered}");
    assert!(
        modules[0].2.contains("sam-gh") && !modules[0].2.contains("alex-gh"),
        "{rendered}"
    );
    assert_eq!(
        modules[1].0, "grant_team-deploy_until_20261112T000000Z",
        "{rendered}"
    );
    assert_eq!(modules[1].1, "\"2026-11-12T00:00:00Z\"", "{rendered}");
    assert!(
        modules[1].2.contains("alex-gh") && !modules[1].2.contains("sam-gh"),
        "{rendered}"
    );

    let after = render(&repo, "2026-11-12T00:00:00Z");
    assert!(after.code == Some(0), "{}", after.stderr);
    let rendered = std::fs::read_to_string(&file).unwrap();
    assert!(rendered.contains("sam-gh"), "{rendered}");
    assert!(!rendered.contains("alex-gh"), "{rendered}");
    assert!(!rendered.contains("_until_"), "{rendered}");

    // who agrees: through the group, alex had access until the 12th only.
    let who = |at: &str| {
        let run = repo.lapse(&[
            "who",
            "--at",
            at,
            "--subject",
            "alex@example.com",
            "--format",
            "json",
        ]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        run.json()["grants"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(who("2026-11-10T12:00:00Z"), 1);
    assert_eq!(who("2026-11-12T00:00:00Z"), 0);

    // The audit says when alex's access through the group ended.
    let audit = lapse_at(
        &repo,
        "2026-11-13T00:00:00Z",
        &["audit", "--format", "json"],
    );
    let report: serde_json::Value = serde_json::from_str(&audit.stdout).unwrap();
    let events = report["grants"][0]["events"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ended: Vec<&serde_json::Value> = events
        .iter()
        .filter(|event| event["event"] == "member-ended")
        .collect();
    assert_eq!(ended.len(), 1, "{report:#}");
    assert_eq!(ended[0]["member"], "alex@example.com");
    assert_eq!(ended[0]["time"], "2026-11-12T00:00:00Z");
}
