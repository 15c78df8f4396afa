//! `lapse check --base REV`, the pull-request step: only the grants the
//! branch changed are judged as a change, the history of the branch decides
//! approvals, and missing history is an error that says how to fetch it.

use crate::history_support;

use history_support::{POLICY, Repo, git_in, grant, lapse_in};
use tempfile::TempDir;

const EXPIRES: &str = "2026-11-14T17:00:00Z";

/// main: one grant that expired on the 9th (prune's job) and one approved
/// grant; the `request` branch then adds a third.
fn repo_with_request(author: &str, approvers: &[&str]) -> Repo {
    let repo = Repo::new();
    let old = grant("2026-11-09T00:00:00Z", &["li@example.com"]).replace("alex@", "sam@");
    repo.write("grants/ops/sam-old.yaml", &old);
    repo.commit("li@example.com", "2026-11-02T09:00:00Z", "Sam, briefly");
    repo.git(&["checkout", "-q", "-b", "request"]);
    repo.write("grants/team/alex-deploy.yaml", grant(EXPIRES, approvers));
    repo.commit(author, "2026-11-08T10:00:00Z", "Request deploy access");
    repo
}

#[test]
fn only_the_changed_grant_is_judged_as_a_change() {
    let repo = repo_with_request("alex@example.com", &["maria@example.com"]);
    let run = repo.lapse(&["check", "--base", "main", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let json = run.json();
    let diagnostics = json["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{}", run.stdout);
    assert_eq!(diagnostics[0]["rule"], "expired");
    assert_eq!(diagnostics[0]["severity"], "warning");
    assert_eq!(diagnostics[0]["file"], "grants/ops/sam-old.yaml");
}

#[test]
fn the_branch_history_decides_self_approval() {
    let repo = repo_with_request("maria@example.com", &["maria@example.com"]);
    let run = repo.lapse(&["check", "--base", "main", "--format", "json"]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.rules().contains(&"self-approval".to_owned()),
        "{}",
        run.stdout
    );
}

#[test]
fn changing_a_grant_from_the_base_branch_makes_its_approvals_stale() {
    let repo = Repo::new();
    repo.write(
        "grants/team/alex-deploy.yaml",
        grant(EXPIRES, &["li@example.com"]),
    );
    repo.commit("sam@example.com", "2026-11-02T09:00:00Z", "Alex deploys");
    repo.git(&["checkout", "-q", "-b", "extend"]);
    repo.write(
        "grants/team/alex-deploy.yaml",
        grant("2026-11-15T17:00:00Z", &["li@example.com"]),
    );
    repo.commit("alex@example.com", "2026-11-08T10:00:00Z", "One more day");
    let run = repo.lapse(&["check", "--base", "main", "--format", "json"]);
    assert_eq!(run.rules(), ["stale-approval"], "{}", run.stdout);
}

#[test]
fn a_base_that_is_not_in_the_repository_is_an_error() {
    let repo = repo_with_request("alex@example.com", &["maria@example.com"]);
    let run = repo.lapse(&["check", "--base", "origin/main"]);
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert!(
        run.stderr.starts_with("error: --base origin/main"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("git fetch"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

/// actions/checkout's default: one commit of the branch under review.
fn shallow_clone_of_request() -> (Repo, TempDir) {
    let repo = repo_with_request("alex@example.com", &["maria@example.com"]);
    let parent = TempDir::new().unwrap();
    let url = format!("file://{}", repo.path().display());
    git_in(
        parent.path(),
        &[
            "clone", "-q", "--depth", "1", "--branch", "request", &url, "clone",
        ],
        &[],
    );
    (repo, parent)
}

#[test]
fn a_shallow_clone_is_an_error_that_says_how_to_fetch() {
    let (_repo, parent) = shallow_clone_of_request();
    let clone = parent.path().join("clone");

    let run = lapse_in(&clone, &["check", "--base", "origin/main"]);
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("fetch-depth: 0"), "{}", run.stderr);
    assert!(
        run.stderr.contains("git fetch --unshallow"),
        "{}",
        run.stderr
    );

    let audit = lapse_in(&clone, &["check"]);
    assert_eq!(audit.code, Some(2), "{}{}", audit.stdout, audit.stderr);
    assert!(audit.stderr.contains("shallow clone"), "{}", audit.stderr);
}

/// A blobless clone (`filter: blob:none` on actions/checkout) has every
/// commit but not the old versions of the grants, and libgit2 cannot fetch
/// them as git does: the run must stop and say how to get them.
#[test]
fn a_partial_clone_without_old_versions_is_an_error_that_says_how_to_fetch() {
    let repo = Repo::new();
    let path = "grants/team/alex-deploy.yaml";
    repo.write(path, grant(EXPIRES, &["li@example.com"]));
    repo.commit("sam@example.com", "2026-11-02T09:00:00Z", "Alex deploys");
    repo.write(path, grant("2026-11-13T17:00:00Z", &["li@example.com"]));
    repo.commit("sam@example.com", "2026-11-03T09:00:00Z", "A day less");
    repo.git(&["config", "uploadpack.allowFilter", "true"]);
    let parent = TempDir::new().unwrap();
    let url = format!("file://{}", repo.path().display());
    git_in(
        parent.path(),
        &["clone", "-q", "--filter=blob:none", &url, "clone"],
        &[],
    );

    let run = lapse_in(&parent.path().join("clone"), &["check"]);
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("partial clone"), "{}", run.stderr);
    assert!(run.stderr.contains("git backfill"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

/// A checkout that belongs to another user (a container job on a runner's
/// checkout) is one git and libgit2 open only once it is trusted. Taking it
/// for "no repository" let the audit pass without its history rules.
#[test]
fn a_repository_of_another_user_is_an_error_that_says_how_to_trust_it() {
    let repo = repo_with_request("maria@example.com", &["maria@example.com"]);
    let chown = std::process::Command::new("chown")
        .args(["-R", "nobody"])
        .arg(repo.path())
        .output()
        .unwrap();
    if !chown.status.success() {
        eprintln!("skipped: handing the repository to another user needs root");
        return;
    }
    // A home without a git configuration, so no `safe.directory` applies.
    let home = TempDir::new().unwrap();
    for args in [&["check"][..], &["check", "--base", "main"], &["who"]] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_lapse"))
            .arg("--repo")
            .arg(repo.path())
            .args(["--now", history_support::NOW])
            .args(args)
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("git config --global --add safe.directory"),
            "{args:?}: {stderr}"
        );
    }
}

/// `core.worktree` can put a repository's work tree elsewhere. A grants
/// directory inside the repository but outside that work tree has no
/// history there, and must not be judged as if its history were clean.
#[test]
fn a_directory_outside_the_repositorys_work_tree_is_an_error() {
    let outer = TempDir::new().unwrap();
    let elsewhere = TempDir::new().unwrap();
    git_in(outer.path(), &["init", "-q"], &[]);
    let worktree = elsewhere.path().to_str().unwrap();
    git_in(outer.path(), &["config", "core.worktree", worktree], &[]);
    let grants_repo = outer.path().join("grants-repo");
    std::fs::create_dir(&grants_repo).unwrap();
    std::fs::write(grants_repo.join("lapse.yaml"), history_support::POLICY).unwrap();

    let run = lapse_in(&grants_repo, &["check"]);
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("run lapse in that work tree"),
        "{}",
        run.stderr
    );
}

#[test]
fn without_git_the_audit_judges_files_but_base_is_refused() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("lapse.yaml"), history_support::POLICY).unwrap();
    assert_eq!(lapse_in(dir.path(), &["check"]).code, Some(0));
    let run = lapse_in(dir.path(), &["check", "--base", "main"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("not inside a git repository"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_change_that_adds_an_expired_grant_is_an_error() {
    let repo = Repo::new();
    repo.write(
        "grants/ops/sam-old.yaml",
        grant(EXPIRES, &["li@example.com"]).replace("alex@", "sam@"),
    );
    repo.commit("li@example.com", "2026-11-02T09:00:00Z", "Sam deploys");
    repo.git(&["checkout", "-q", "-b", "late"]);
    let expired = grant("2026-11-09T00:00:00Z", &["maria@example.com"]);
    repo.write("grants/team/alex-deploy.yaml", &expired);
    repo.commit(
        "alex@example.com",
        "2026-11-08T10:00:00Z",
        "Request deploy access, too late",
    );
    let run = repo.lapse(&["check", "--base", "main", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    let json = run.json();
    let expired: Vec<_> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "expired")
        .collect();
    assert_eq!(expired.len(), 1, "{}", run.stdout);
    assert_eq!(expired[0]["severity"], "error");
    assert_eq!(expired[0]["file"], "grants/team/alex-deploy.yaml");
}

#[test]
fn a_change_that_duplicates_a_grant_on_the_base_branch_is_reported_on_the_change() {
    let repo = Repo::new();
    let sam = grant(EXPIRES, &["li@example.com"]).replace("alex@", "sam@");
    // Two overlapping grants already on main: prune's and the audit's
    // business, not this pull request's.
    repo.write("grants/ops/sam-deploy.yaml", &sam);
    repo.write("grants/ops/sam-deploy-again.yaml", &sam);
    repo.write(
        "grants/team/alex-deploy.yaml",
        grant(EXPIRES, &["li@example.com"]),
    );
    repo.commit("li@example.com", "2026-11-02T09:00:00Z", "Deploy access");
    repo.git(&["checkout", "-q", "-b", "again"]);
    repo.write(
        "grants/team/alex-deploy-2.yaml",
        grant("2026-11-12T17:00:00Z", &["maria@example.com"]),
    );
    repo.commit("alex@example.com", "2026-11-08T10:00:00Z", "Deploy, again");
    let run = repo.lapse(&["check", "--base", "main", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    let json = run.json();
    let duplicates: Vec<_> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "duplicate-grant")
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        duplicates,
        ["grants/team/alex-deploy-2.yaml"],
        "{}",
        run.stdout
    );
}

/// main: alex's approved grant and sam's expired one; the policy is then
/// edited so that alex's grant names a role that no longer exists, while
/// neither grant file changes.
fn repo_renaming_the_role() -> Repo {
    let repo = Repo::new();
    let old = grant("2026-11-09T00:00:00Z", &["li@example.com"]).replace("alex@", "sam@");
    repo.write("grants/ops/sam-old.yaml", &old);
    repo.write(
        "grants/team/alex-deploy.yaml",
        grant(EXPIRES, &["li@example.com"]),
    );
    repo.commit("sam@example.com", "2026-11-02T09:00:00Z", "Deploy access");
    repo.git(&["checkout", "-q", "-b", "policy"]);
    repo.write("lapse.yaml", POLICY.replace("  deployer:", "  shipper:"));
    repo
}

/// Untouched grants were judged against the base branch's policy. Edit
/// the policy and they must be judged again, or the pull request passes
/// and the next audit fails; an expired one stays prune's warning.
fn assert_every_grant_judged_against_the_new_policy(run: &history_support::Run) {
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    let json = run.json();
    let findings: Vec<_> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap(),
                d["severity"].as_str().unwrap(),
                d["file"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        findings.contains(&("unknown-role", "error", "grants/team/alex-deploy.yaml")),
        "{}",
        run.stdout
    );
    assert!(
        findings.contains(&("expired", "warning", "grants/ops/sam-old.yaml")),
        "{}",
        run.stdout
    );
}

#[test]
fn a_change_to_the_policy_judges_every_grant_against_it() {
    let repo = repo_renaming_the_role();
    repo.commit(
        "maria@example.com",
        "2026-11-08T10:00:00Z",
        "Rename the role",
    );
    let run = repo.lapse(&["check", "--base", "main", "--format", "json"]);
    assert_every_grant_judged_against_the_new_policy(&run);
}

#[test]
fn an_uncommitted_policy_edit_judges_every_grant_against_it() {
    let repo = repo_renaming_the_role();
    let run = repo.lapse(&["check", "--base", "main", "--format", "json"]);
    assert_every_grant_judged_against_the_new_policy(&run);
}
