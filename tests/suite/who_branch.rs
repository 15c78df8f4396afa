//! `lapse who` answers from the default branch (found as `lapse prune`
//! finds it), says which branch it read, and finds a person's access
//! through the groups they belonged to at the time.

use crate::history_support;

use history_support::{POLICY, Repo, git_in, grant};

fn who(repo: &Repo, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["who", "--format", "json"];
    all.extend_from_slice(args);
    let run = repo.lapse(&all);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.json()
}

fn ids(json: &serde_json::Value) -> Vec<String> {
    json["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|grant| grant["id"].as_str().unwrap().to_owned())
        .collect()
}

/// main holds alex's approved grant; the checked-out branch `wip` adds an
/// unmerged one for sam.
fn repo_on_a_feature_branch() -> Repo {
    let repo = Repo::new();
    repo.write(
        "grants/alex-deploy.yaml",
        grant("2026-11-20T17:00:00Z", &["maria@example.com"]),
    );
    repo.commit("alex@example.com", "2026-11-03T10:00:00Z", "Alex deploys");
    repo.git(&["checkout", "-q", "-b", "wip"]);
    repo.write(
        "grants/sam-deploy.yaml",
        grant("2026-11-20T17:00:00Z", &["maria@example.com"])
            .replace("subject: alex@", "subject: sam@"),
    );
    repo.commit("sam@example.com", "2026-11-04T10:00:00Z", "Sam wants in");
    repo
}

#[test]
fn who_reads_the_default_branch_not_the_one_checked_out() {
    let repo = repo_on_a_feature_branch();
    let main = repo.git(&["rev-parse", "main"]).trim().to_owned();
    let json = who(&repo, &["--at", "2026-11-05T12:00:00Z"]);
    assert_eq!(ids(&json), ["alex-deploy"], "{json}");
    assert_eq!(json["branch"]["name"], "main", "{json}");
    assert_eq!(json["branch"]["commit"], main.as_str(), "{json}");

    let human = repo.lapse(&["who", "--at", "2026-11-05T12:00:00Z"]);
    assert!(
        human.stdout.starts_with(&format!(
            "1 grant(s) active at 2026-11-05T12:00:00Z on main at {}",
            &main[..12]
        )),
        "{}",
        human.stdout
    );

    // --base reads another branch, and says so.
    let wip = who(&repo, &["--at", "2026-11-05T12:00:00Z", "--base", "wip"]);
    assert_eq!(ids(&wip), ["alex-deploy", "sam-deploy"], "{wip}");
    assert_eq!(wip["branch"]["name"], "wip", "{wip}");
    let none = repo.lapse(&["who", "--at", "2026-11-01T12:00:00Z"]);
    assert!(
        none.stdout
            .starts_with("no grant was active at 2026-11-01T12:00:00Z on main at "),
        "{}",
        none.stdout
    );
}

#[test]
fn who_prefers_the_remote_default_branch_to_a_stale_local_one() {
    let origin = repo_on_a_feature_branch();
    // The remote's main has sam's grant merged; the clone's local main
    // stays behind.
    let clone = tempfile::TempDir::new().unwrap();
    git_in(
        clone.path(),
        &["clone", "-q", origin.path().to_str().unwrap(), "."],
        &[],
    );
    origin.git(&["checkout", "-q", "main"]);
    origin.git_as(
        "maria@example.com",
        "2026-11-04T12:00:00Z",
        &["merge", "-q", "--no-ff", "-m", "Merge wip", "wip"],
    );
    git_in(clone.path(), &["fetch", "-q", "origin"], &[]);
    git_in(clone.path(), &["remote", "set-head", "origin", "main"], &[]);
    let run = history_support::lapse_in(
        clone.path(),
        &["who", "--format", "json", "--at", "2026-11-05T12:00:00Z"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    assert_eq!(ids(&json), ["alex-deploy", "sam-deploy"], "{json}");
    assert_eq!(json["branch"]["source"], "origin/main", "{json}");
}

/// A grant to `group:oncall` while alex was on call; on the 6th the policy
/// moves alex out of the group and sam in.
fn repo_with_a_group_grant() -> Repo {
    let repo = Repo::new();
    let with_group = |members: &str| {
        POLICY.replace(
            "  leads: [maria@example.com, li@example.com]\n",
            &format!("  leads: [maria@example.com, li@example.com]\n  oncall: [{members}]\n"),
        )
    };
    repo.write("lapse.yaml", with_group("alex@example.com"));
    repo.commit("sam@example.com", "2026-11-02T09:00:00Z", "On call: alex");
    repo.write(
        "grants/oncall-deploy.yaml",
        grant("2026-11-20T17:00:00Z", &["maria@example.com"])
            .replace("subject: alex@example.com", "subject: group:oncall"),
    );
    repo.commit("li@example.com", "2026-11-03T10:00:00Z", "On-call deploys");
    repo.write("lapse.yaml", with_group("sam@example.com"));
    repo.commit("sam@example.com", "2026-11-06T09:00:00Z", "On call: sam");
    repo
}

#[test]
fn who_subject_finds_grants_to_groups_the_person_was_in_at_the_time() {
    let repo = repo_with_a_group_grant();
    let found = |subject: &str, at: &str| ids(&who(&repo, &["--at", at, "--subject", subject]));
    assert_eq!(
        found("ALEX@example.com", "2026-11-04T12:00:00Z"),
        ["oncall-deploy"]
    );
    assert!(found("sam@example.com", "2026-11-04T12:00:00Z").is_empty());
    assert!(found("alex@example.com", "2026-11-07T12:00:00Z").is_empty());
    assert_eq!(
        found("sam@example.com", "2026-11-07T12:00:00Z"),
        ["oncall-deploy"]
    );
    assert_eq!(
        found("group:oncall", "2026-11-07T12:00:00Z"),
        ["oncall-deploy"]
    );
}

#[test]
fn audit_subject_finds_grants_through_the_groups_of_the_day() {
    let repo = repo_with_a_group_grant();
    let found = |subject: &str| {
        let run = repo.lapse(&["audit", "--format", "json", "--subject", subject]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        ids(&run.json())
    };
    assert_eq!(found("alex@example.com"), ["oncall-deploy"]);
    assert_eq!(found("sam@example.com"), ["oncall-deploy"]);
    assert!(found("li@example.com").is_empty());
    assert_eq!(found("group:oncall"), ["oncall-deploy"]);
}
