//! `lapse audit`: every event of every grant the default branch held, from
//! its history alone, in JSON, CSV and markdown.

use crate::history_support;

use history_support::{Repo, git_in};
use serde_json::Value;

const NOW: &str = "2026-11-10T12:00:00Z";

const POLICY: &str = "version: 1
people:
  alex@example.com: {}
  maria@example.com:
    aliases: [maria@users.noreply.github.com]
  li@example.com: {}
  sam@example.com:
    contract_ends: 2026-11-08T00:00:00Z
groups:
  leads: [maria@example.com, li@example.com]
roles:
  deployer:
    max_duration: 14d
    approvers: [group:leads]
    github: {repository: acme/app, permission: push}
";

fn grant(subject: &str, approvers: &[&str], expires: &str) -> String {
    format!(
        "subject: {subject}\nrole: deployer\nreason: Deploy the app for the sprint\napprovers: [{}]\nexpires: {expires}\n",
        approvers.join(", ")
    )
}

/// The commits of the story, by what they did.
struct Story {
    repo: Repo,
    asked: String,
    approved: String,
    merged: String,
    both: String,
    extended: String,
    moved: String,
    removed: String,
}

/// alex asks on a branch, maria approves there, li merges; maria commits
/// grants to sam (approved by li; sam's contract ends on the 8th) and to
/// li (expires on the 6th); alex extends his; sam moves it; li removes it.
fn story() -> Story {
    let repo = Repo::new();
    repo.write("lapse.yaml", POLICY);
    repo.commit("sam@example.com", "2026-11-01T09:30:00Z", "Policy");
    let head = |repo: &Repo| repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    repo.git(&["checkout", "-q", "-b", "pr1"]);
    let alex = "grants/team/alex-deploy.yaml";
    repo.write(alex, grant("alex@example.com", &[], "2026-11-12T17:00:00Z"));
    repo.commit("alex@example.com", "2026-11-02T10:00:00Z", "Alex asks");
    let asked = head(&repo);
    repo.write(
        alex,
        grant(
            "alex@example.com",
            &["maria@example.com"],
            "2026-11-12T17:00:00Z",
        ),
    );
    repo.commit(
        "maria@example.com",
        "2026-11-02T11:00:00Z",
        "Maria approves",
    );
    let approved = head(&repo);
    repo.git(&["checkout", "-q", "main"]);
    repo.git_as(
        "li@example.com",
        "2026-11-03T09:00:00Z",
        &["merge", "-q", "--no-ff", "-m", "Merge pr1", "pr1"],
    );
    let merged = head(&repo);
    repo.write(
        "grants/sam-deploy.yaml",
        grant(
            "sam@example.com",
            &["li@example.com"],
            "2026-11-14T17:00:00Z",
        ),
    );
    repo.write(
        "grants/li-deploy.yaml",
        grant(
            "li@example.com",
            &["sam@example.com"],
            "2026-11-06T00:00:00Z",
        ),
    );
    repo.commit("maria@example.com", "2026-11-04T09:00:00Z", "Sam and Li");
    let both = head(&repo);
    repo.write(
        alex,
        grant(
            "alex@example.com",
            &["maria@example.com"],
            "2026-11-13T17:00:00Z",
        ),
    );
    repo.commit("alex@example.com", "2026-11-05T09:00:00Z", "Alex extends");
    let extended = head(&repo);
    std::fs::create_dir_all(repo.path().join("grants/ops")).unwrap();
    repo.git(&["mv", alex, "grants/ops/alex-deploy.yaml"]);
    repo.commit("sam@example.com", "2026-11-06T09:00:00Z", "Move");
    let moved = head(&repo);
    repo.git(&["rm", "-q", "grants/ops/alex-deploy.yaml"]);
    repo.commit("li@example.com", "2026-11-07T09:00:00Z", "Remove");
    let removed = head(&repo);
    Story {
        repo,
        asked,
        approved,
        merged,
        both,
        extended,
        moved,
        removed,
    }
}

fn audit(repo: &Repo, args: &[&str]) -> Value {
    let run = audit_run(repo, args, "json");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.json()
}

fn audit_run(repo: &Repo, args: &[&str], format: &str) -> history_support::Run {
    let all = [&["audit", "--format", format], args].concat();
    crate::common::run_in(repo.path(), NOW, &all, &[])
}

fn grant_of<'a>(json: &'a Value, id: &str) -> &'a Value {
    json["grants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|grant| grant["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {json:#}"))
}

fn ids(json: &Value) -> Vec<&str> {
    let mut ids: Vec<&str> = json["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|grant| grant["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

/// `(event, commit)` of each event of a grant, in the report's order.
fn events(grant: &Value) -> Vec<(String, String)> {
    grant["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| {
            (
                event["event"].as_str().unwrap().to_owned(),
                event["commit"]["id"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_grant_life_from_request_to_removal_with_its_merge_change_and_move() {
    let story = story();
    let run = audit_run(&story.repo, &[], "json");
    assert!(
        run.stdout.starts_with("{\n  \"version\": 1,"),
        "{}",
        run.stdout
    );
    let json = run.json();
    assert_eq!(json["branch"]["name"], "main");
    let alex = grant_of(&json, "alex-deploy");
    let expected: Vec<(String, String)> = [
        ("requested", &story.asked),
        ("approved", &story.approved),
        ("in-force", &story.merged),
        ("changed", &story.extended),
        ("in-force", &story.extended),
        ("moved", &story.moved),
        ("ended", &story.removed),
    ]
    .iter()
    .map(|(kind, commit)| (kind.to_string(), commit.to_string()))
    .collect();
    assert_eq!(events(alex), expected, "{alex:#}");
    let at = |index: usize| &alex["events"][index];
    assert_eq!(at(0)["commit"]["author"], "alex@example.com");
    assert_eq!(at(1)["approver"], "maria@example.com");
    assert_eq!(at(1)["evidence"]["kind"], "commit-author");
    assert_eq!(at(1)["evidence"]["recorded_by"], "maria@example.com");
    assert_eq!(at(1)["counted"], true);
    // The approval took effect when the merge brought it to main.
    assert_eq!(at(1)["effective"], "2026-11-03T09:00:00Z");
    assert_eq!(at(2)["time"], "2026-11-03T09:00:00Z");
    assert_eq!(at(2)["commit"]["author"], "li@example.com");
    assert_eq!(
        at(2)["approved_by"],
        serde_json::json!(["maria@example.com"])
    );
    // Extended by the subject: the new terms are in force without an
    // approval that covers them.
    assert_eq!(at(4)["terms"]["expires"], "2026-11-13T17:00:00Z");
    assert_eq!(at(4)["approved_by"], serde_json::json!([]));
    assert_eq!(at(5)["from"], "grants/team/alex-deploy.yaml");
    assert_eq!(at(5)["to"], "grants/ops/alex-deploy.yaml");
    assert_eq!(at(6)["reason"], "removed");
    assert_eq!(at(6)["time"], "2026-11-07T09:00:00Z");
    assert_eq!(
        alex["access"],
        serde_json::json!([{"from": "2026-11-03T09:00:00Z", "until": "2026-11-07T09:00:00Z"}])
    );
    // Every event names the policy in force and the role as it defined it.
    let blob = story.repo.git(&["rev-parse", "HEAD:lapse.yaml"]);
    assert!(
        alex["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["policy"] == blob.trim())
    );
    let role = &json["roles"][0];
    assert_eq!(role["policy"], blob.trim());
    assert_eq!(
        role["definition"]["approvers"],
        serde_json::json!(["group:leads"])
    );
    assert_eq!(role["definition"]["grants"]["repository"], "acme/app");
    // The grant is gone from HEAD, and still audited.
    assert!(
        !story
            .repo
            .path()
            .join("grants/ops/alex-deploy.yaml")
            .exists()
    );
}

#[test]
fn access_ends_at_expiry_and_at_the_contract_end() {
    let story = story();
    let json = audit(&story.repo, &[]);
    let li = grant_of(&json, "li-deploy");
    let ended = li["events"].as_array().unwrap().last().unwrap();
    assert_eq!(
        (ended["event"].as_str(), ended["reason"].as_str()),
        (Some("ended"), Some("expires"))
    );
    assert_eq!(ended["time"], "2026-11-06T00:00:00Z");
    assert!(ended["commit"].is_null());
    let sam = grant_of(&json, "sam-deploy");
    let ended = sam["events"].as_array().unwrap().last().unwrap();
    assert_eq!(ended["reason"], "contract-ends");
    assert_eq!(ended["time"], "2026-11-08T00:00:00Z");
    assert_eq!(sam["events"][0]["commit"]["id"], story.both.as_str());
    // An approval written by whoever commits the grant is theirs to prove;
    // one by the committer for their own access counts for nothing.
    assert_eq!(sam["events"][1]["approver"], "li@example.com");
    assert_eq!(
        sam["events"][1]["evidence"]["recorded_by"],
        "maria@example.com"
    );
}

#[test]
fn the_period_keeps_the_grants_that_overlapped_it() {
    let story = story();
    let between = |since: &str, until: &str| {
        let json = audit(&story.repo, &["--since", since, "--until", until]);
        ids(&json)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    // The 6th at noon: li's grant had expired at midnight.
    assert_eq!(
        between("2026-11-06T12:00:00Z", "2026-11-06T13:00:00Z"),
        ["alex-deploy", "sam-deploy"]
    );
    // Before any merge, only alex's request and approval had happened.
    assert_eq!(
        between("2026-11-01T00:00:00Z", "2026-11-02T12:00:00Z"),
        ["alex-deploy"]
    );
    assert!(between("2026-11-09T00:00:00Z", "2026-11-09T12:00:00Z").is_empty());
    let bad = audit_run(
        &story.repo,
        &[
            "--since",
            "2026-11-09T00:00:00Z",
            "--until",
            "2026-11-08T00:00:00Z",
        ],
        "json",
    );
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(
        bad.stderr.contains("--since is later than --until"),
        "{}",
        bad.stderr
    );
}

#[test]
fn subject_and_role_select_grants() {
    let story = story();
    assert_eq!(
        ids(&audit(&story.repo, &["--subject", "ALEX@example.com"])),
        ["alex-deploy"]
    );
    assert_eq!(ids(&audit(&story.repo, &["--role", "deployer"])).len(), 3);
    assert!(ids(&audit(&story.repo, &["--role", "admin"])).is_empty());
}

#[test]
fn the_audit_reads_the_default_branch_not_the_one_checked_out() {
    let story = story();
    story.repo.git(&["checkout", "-q", "-b", "wip"]);
    story.repo.write(
        "grants/wip-deploy.yaml",
        grant(
            "alex@example.com",
            &["li@example.com"],
            "2026-11-12T17:00:00Z",
        ),
    );
    story
        .repo
        .commit("alex@example.com", "2026-11-08T09:00:00Z", "Not merged");
    let json = audit(&story.repo, &[]);
    assert_eq!(ids(&json), ["alex-deploy", "li-deploy", "sam-deploy"]);
    assert_eq!(json["branch"]["commit"], story.removed.as_str());
    let markdown = audit_run(&story.repo, &[], "markdown");
    assert!(
        markdown.stdout.starts_with(&format!(
            "# Access audit of main at {}",
            &story.removed[..12]
        )),
        "{}",
        markdown.stdout
    );
}

/// A grant whose values and commit author are written to break a
/// spreadsheet or a markdown table.
fn hostile() -> Repo {
    let repo = Repo::new();
    repo.write("lapse.yaml", POLICY);
    repo.commit("sam@example.com", "2026-11-01T09:30:00Z", "Policy");
    repo.write(
        "grants/x.yaml",
        "subject: \"-2+3 | x\\n| forged | row | @org/admins\"\nrole: deployer\nreason: Deploy the app for the sprint\napprovers: [\"=HYPERLINK(\\\"http://evil.example\\\")\"]\nexpires: 2026-11-12T17:00:00Z\n",
    );
    repo.commit("+SUM(1+1)@evil.example", "2026-11-02T10:00:00Z", "Hostile");
    repo
}

#[test]
fn csv_has_the_documented_columns_and_defuses_formulas() {
    let story = story();
    let run = audit_run(&story.repo, &[], "csv");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
            "time",
            "event",
            "grant",
            "path",
            "subject",
            "role",
            "starts",
            "expires",
            "commit",
            "author",
            "approver",
            "evidence",
            "signing_key",
            "counted",
            "detail",
            "policy",
            "role_definition"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let json = audit(&story.repo, &[]);
    let total: usize = json["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|grant| grant["events"].as_array().unwrap().len())
        .sum();
    assert_eq!(rows.len(), total);
    let times: Vec<&str> = rows.iter().map(|row| &row[0]).collect();
    assert!(times.windows(2).all(|pair| pair[0] <= pair[1]), "{times:?}");
    let approval = rows
        .iter()
        .find(|row| &row[1] == "approved" && &row[2] == "alex-deploy")
        .unwrap();
    assert_eq!(
        (&approval[10], &approval[11], &approval[13]),
        ("maria@example.com", "commit-author", "yes")
    );
    assert!(
        approval[16].contains("approvers: group:leads"),
        "{approval:?}"
    );

    let hostile = hostile();
    let run = audit_run(&hostile, &[], "csv");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2, "{}", run.stdout);
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "{cell:?} in {row:?}"
            );
        }
    }
    assert_eq!(&rows[0][4], "'-2+3 | x\n| forged | row | @org/admins");
    assert_eq!(&rows[0][9], "'+SUM(1+1)@evil.example");
    assert_eq!(&rows[1][10], "'=hyperlink(\"http://evil.example\")");
}

#[test]
fn markdown_is_one_table_per_role_sorted_by_time_with_cells_escaped() {
    let story = story();
    let run = audit_run(&story.repo, &[], "markdown");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout.matches("\n## Role ").count(),
        1,
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("## Role deployer"), "{}", run.stdout);
    let rows: Vec<&str> = run
        .stdout
        .lines()
        .filter(|line| line.starts_with("| 2026-"))
        .collect();
    assert_eq!(rows.len(), 15, "{}", run.stdout);
    assert!(rows.windows(2).all(|pair| pair[0][..22] <= pair[1][..22]));
    assert!(
        rows.iter()
            .any(|row| row.contains("| ended |") && row.contains("| contract-ends |"))
    );

    let hostile = hostile();
    let run = audit_run(&hostile, &[], "markdown");
    let rows: Vec<&str> = run
        .stdout
        .lines()
        .filter(|line| line.starts_with('|'))
        .collect();
    // Header, separator, and the two events: no forged row.
    assert_eq!(rows.len(), 4, "{}", run.stdout);
    assert!(
        rows.iter().all(|row| !row.contains(" @org")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(r"-2+3 \| x \| forged \| row \| \@org/admins"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_audit_outside_a_repository_or_of_an_unknown_branch_is_exit_2() {
    let dir = tempfile::TempDir::new().unwrap();
    std::fs::write(dir.path().join("lapse.yaml"), POLICY).unwrap();
    let run = history_support::lapse_in(dir.path(), &["audit"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("not inside a git repository"),
        "{}",
        run.stderr
    );
    let story = story();
    git_in(
        story.repo.path(),
        &["branch", "-q", "-m", "main", "trunk"],
        &[],
    );
    let run = audit_run(&story.repo, &[], "json");
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot tell the default branch"),
        "{}",
        run.stderr
    );
    assert_eq!(ids(&audit(&story.repo, &["--base", "trunk"])).len(), 3);
}
