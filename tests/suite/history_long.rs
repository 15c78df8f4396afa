//! A history long enough that `lapse check` walks it in pieces on several
//! threads, each reading objects through its own view of the object
//! directory. The findings must be the same whether the repository is read
//! directly, through a linked worktree (objects in the main repository's
//! git directory) or through a `--shared` clone (objects in alternates).

use crate::history_support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use history_support::{POLICY, Run, git_in, lapse_in};
use tempfile::TempDir;

/// Enough commits for several pieces of the walk (at least 64 commits each).
const COMMITS: usize = 400;
/// 2026-11-01T09:00:00Z; commits are a minute apart.
const START: i64 = 1_793_523_600;
/// The commit that removes li's grant, added in commit 3.
const REMOVED_AT: usize = 300;

/// The repository: the policy, then a grant to alex approved by li and one
/// to li approved by maria early on, then unrelated commits, li's grant
/// removed in commit 300, and near the end maria both writing and approving
/// a grant to sam, so that finding it needs the last pieces.
fn long_history(dir: &Path) {
    git_in(dir, &["init", "-q", "-b", "main"], &[]);
    let mut import = Command::new("git")
        .current_dir(dir)
        .args(["fast-import", "--quiet"])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import");
    let mut stream = import.stdin.take().expect("stdin");
    for n in 0..COMMITS {
        let (author, path, text) = match n {
            0 => ("sam", "lapse.yaml", POLICY.to_owned()),
            1 => ("alex", "grants/team/alex-deploy.yaml", grant("alex", &[])),
            2 => ("li", "grants/team/alex-deploy.yaml", grant("alex", &["li"])),
            _ if n == COMMITS - 2 => (
                "maria",
                "grants/team/sam-deploy.yaml",
                grant("sam", &["maria"]),
            ),
            3 => ("li", "grants/team/li-deploy.yaml", grant("li", &["maria"])),
            REMOVED_AT => ("sam", "grants/team/li-deploy.yaml", String::new()),
            _ => ("sam", "notes.txt", format!("note {n}\n")),
        };
        // An empty text stands for deleting the file.
        let change = if text.is_empty() {
            format!("D {path}\n")
        } else {
            format!("M 100644 inline {path}\ndata {}\n{text}\n", text.len())
        };
        let time = START + 60 * n as i64;
        let message = format!("Change {n}");
        write!(
            stream,
            "commit refs/heads/main\nauthor {author} <{author}@example.com> {time} +0000\ncommitter {author} <{author}@example.com> {time} +0000\ndata {}\n{message}\n{change}",
            message.len(),
        )
        .expect("fast-import input");
    }
    drop(stream);
    assert!(import.wait().expect("fast-import").success());
    git_in(dir, &["checkout", "-q", "-f", "main"], &[]);
}

fn grant(subject: &str, approvers: &[&str]) -> String {
    let approvers: Vec<String> = approvers
        .iter()
        .map(|name| format!("{name}@example.com"))
        .collect();
    format!(
        "subject: {subject}@example.com\nrole: deployer\nreason: Deploy the app for the sprint\napprovers: [{}]\nexpires: 2026-11-14T17:00:00Z\n",
        approvers.join(", ")
    )
}

fn self_approvals(run: &Run) -> Vec<String> {
    run.json()["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "self-approval")
        .map(|d| d["file"].as_str().unwrap().to_owned())
        .collect()
}

fn assert_reads_the_whole_history(dir: &Path) {
    let run = lapse_in(dir, &["check", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        self_approvals(&run),
        ["grants/team/sam-deploy.yaml"],
        "{}",
        run.stdout
    );
}

#[test]
fn a_long_history_is_judged_to_its_last_commit() {
    let repo = TempDir::new().unwrap();
    long_history(repo.path());
    assert_reads_the_whole_history(repo.path());
}

/// lapse reads packs itself (deltas against other versions, in chains):
/// after `git repack` the same history, now in deep delta chains rather
/// than fast-import's, must be judged the same.
#[test]
fn a_repacked_history_is_judged_the_same() {
    let repo = TempDir::new().unwrap();
    long_history(repo.path());
    git_in(
        repo.path(),
        &["repack", "-adfq", "--depth=50", "--window=50"],
        &[],
    );
    assert_reads_the_whole_history(repo.path());
}

/// The long history in one directory, and a second checkout of it at a
/// path of its own, made by `git <command...> <path>` run in the first.
fn second_checkout(command: &[&str]) -> (TempDir, TempDir, PathBuf) {
    let repo = TempDir::new().unwrap();
    long_history(repo.path());
    let elsewhere = TempDir::new().unwrap();
    let path = elsewhere.path().join("checkout");
    let mut args = command.to_vec();
    args.push(path.to_str().unwrap());
    git_in(repo.path(), &args, &[]);
    (repo, elsewhere, path)
}

#[test]
fn a_linked_worktree_reads_the_objects_of_its_main_repository() {
    let (_repo, _elsewhere, worktree) = second_checkout(&["worktree", "add", "-q", "--detach"]);
    assert_reads_the_whole_history(&worktree);
}

#[test]
fn a_shared_clone_reads_the_objects_of_its_alternates() {
    let (_repo, _elsewhere, clone) = second_checkout(&["clone", "-q", "--shared", "."]);
    let own_packs = std::fs::read_dir(clone.join(".git/objects/pack")).map_or(0, Iterator::count);
    assert_eq!(own_packs, 0, "the clone should hold no objects of its own");
    assert_reads_the_whole_history(&clone);
}

#[test]
fn who_follows_a_long_history_to_the_removal() {
    let repo = TempDir::new().unwrap();
    long_history(repo.path());
    let commit_200 = git_in(repo.path(), &["rev-parse", "HEAD~199"], &[]);
    let removal = git_in(
        repo.path(),
        &["rev-parse", &format!("HEAD~{}", COMMITS - 1 - REMOVED_AT)],
        &[],
    );
    let at = git_in(
        repo.path(),
        &["log", "-1", "--format=%cI", commit_200.trim()],
        &[],
    );
    let run = lapse_in(repo.path(), &["who", "--at", at.trim(), "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    let grants = json["grants"].as_array().expect("grants");
    let ids: Vec<_> = grants.iter().map(|g| g["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["alex-deploy", "li-deploy"], "{}", run.stdout);
    assert_eq!(grants[0]["removed"], serde_json::Value::Null);
    assert_eq!(grants[1]["removed"]["commit"], removal.trim());
}
