//! The grants tree that is loaded, rendered and judged is one tree: no
//! file name, tree-entry mode, duplicate id or submodule may put a grant on
//! disk that the history walk does not judge. And one history gets one
//! verdict, in pull-request mode and in the audit alike: merges, fork
//! points and reverted changes included.

use std::path::Path;

use crate::history_support;

use history_support::{Repo, git_in, grant};

const EXPIRES: &str = "2026-11-14T17:00:00Z";

fn audit(repo: &Repo) -> history_support::Run {
    repo.lapse(&["check", "--format", "json"])
}

fn pull_request(repo: &Repo) -> history_support::Run {
    repo.lapse(&["check", "--base", "main", "--format", "json"])
}

/// maria writes a decoy with the id of the grant she is about to write and
/// approve herself, then deletes the decoy: deleting it must not reset the
/// real grant's history.
fn decoy_history(repo: &Repo) {
    let decoy = grant(EXPIRES, &[]).replace("alex@", "sam@");
    repo.write("grants/a/alex-deploy.yaml", &decoy);
    repo.commit("maria@example.com", "2026-11-08T09:00:00Z", "Decoy");
    repo.write(
        "grants/b/alex-deploy.yaml",
        grant(EXPIRES, &["maria@example.com"]),
    );
    repo.commit("maria@example.com", "2026-11-08T10:00:00Z", "Real grant");
    repo.git(&["rm", "-q", "grants/a/alex-deploy.yaml"]);
    repo.commit("maria@example.com", "2026-11-08T11:00:00Z", "Drop decoy");
}

#[test]
fn deleting_a_decoy_with_the_same_id_does_not_reset_the_grants_history() {
    let repo = Repo::new();
    decoy_history(&repo);
    let run = audit(&repo);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(
        run.rules_and_files(),
        [(
            "self-approval".to_owned(),
            "grants/b/alex-deploy.yaml".to_owned()
        )]
    );
}

#[test]
fn deleting_a_decoy_in_a_pull_request_does_not_hide_the_self_approval() {
    let repo = Repo::new();
    repo.git(&["checkout", "-q", "-b", "request"]);
    decoy_history(&repo);
    let run = pull_request(&repo);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(run.rules(), ["self-approval"], "{}", run.stdout);
}

#[test]
fn a_directory_whose_name_is_not_utf8_is_refused_not_skipped() {
    use std::os::unix::ffi::OsStrExt;
    let repo = Repo::new();
    repo.git(&["checkout", "-q", "-b", "request"]);
    let dir = repo
        .path()
        .join("grants")
        .join(std::ffi::OsStr::from_bytes(b"team\xff"));
    std::fs::create_dir_all(&dir).unwrap();
    // 99 days, approved by its own author.
    std::fs::write(
        dir.join("alex-deploy.yaml"),
        grant("2027-02-15T17:00:00Z", &["maria@example.com"]),
    )
    .unwrap();
    repo.commit("maria@example.com", "2026-11-08T10:00:00Z", "Hidden grant");
    for run in [pull_request(&repo), audit(&repo)] {
        assert_eq!(run.code, Some(1), "{}", run.stdout);
        assert!(
            run.rules().contains(&"refused-file".to_owned()),
            "{}",
            run.stdout
        );
    }
}

/// Commits `grants/team/alex-deploy.yaml` with the given text in a tree
/// entry of mode `mode`, written byte by byte, as `author`.
fn commit_with_mode(repo: &Repo, text: &str, mode: &str, author: &str) {
    let git = |args: &[&str], input: Option<&[u8]>| -> String {
        use std::io::Write;
        let mut child = std::process::Command::new("git")
            .current_dir(repo.path())
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "x")
            .env("GIT_AUTHOR_EMAIL", author)
            .env("GIT_COMMITTER_NAME", "x")
            .env("GIT_COMMITTER_EMAIL", author)
            .env("GIT_AUTHOR_DATE", "2026-11-08T10:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-11-08T10:00:00Z")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.unwrap_or_default())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "git {args:?}");
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let hex_to_bytes = |hex: &str| -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    };
    let tree_of = |entries: &[(&str, &str, &str)]| -> String {
        let mut bytes = Vec::new();
        for (mode, name, id) in entries {
            bytes.extend_from_slice(format!("{mode} {name}\0").as_bytes());
            bytes.extend_from_slice(&hex_to_bytes(id));
        }
        git(
            &["hash-object", "-t", "tree", "-w", "--literally", "--stdin"],
            Some(&bytes),
        )
    };
    let blob = git(&["hash-object", "-w", "--stdin"], Some(text.as_bytes()));
    let policy = git(&["rev-parse", "HEAD:lapse.yaml"], None);
    let team = tree_of(&[(mode, "alex-deploy.yaml", &blob)]);
    let grants = tree_of(&[("40000", "team", &team)]);
    let root = tree_of(&[
        ("40000", "grants", &grants),
        ("100644", "lapse.yaml", &policy),
    ]);
    let commit = git(&["commit-tree", &root, "-p", "HEAD", "-m", "Grant"], None);
    git(&["reset", "-q", "--hard", &commit], None);
}

#[test]
fn a_grant_in_a_tree_entry_of_legacy_mode_100664_is_judged() {
    let repo = Repo::new();
    commit_with_mode(
        &repo,
        &grant(EXPIRES, &["maria@example.com"]),
        "100664",
        "maria@example.com",
    );
    let on_disk = std::fs::read_to_string(repo.path().join("grants/team/alex-deploy.yaml"));
    assert!(on_disk.is_ok(), "git checks out the file");
    let run = audit(&repo);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(run.rules(), ["self-approval"], "{}", run.stdout);
}

#[test]
fn grants_inside_a_submodule_are_refused() {
    let inner = tempfile::TempDir::new().unwrap();
    let inner_git = |args: &[&str]| git_in(inner.path(), args, &[]);
    inner_git(&["init", "-q", "-b", "main"]);
    std::fs::write(
        inner.path().join("alex-deploy.yaml"),
        grant(EXPIRES, &["maria@example.com"]),
    )
    .unwrap();
    inner_git(&["add", "-A"]);
    git_in(
        inner.path(),
        &["commit", "-q", "-m", "grant"],
        &[
            ("GIT_AUTHOR_NAME", "maria"),
            ("GIT_AUTHOR_EMAIL", "maria@example.com"),
            ("GIT_COMMITTER_NAME", "maria"),
            ("GIT_COMMITTER_EMAIL", "maria@example.com"),
        ],
    );
    let repo = Repo::new();
    repo.git(&[
        "submodule",
        "add",
        "-q",
        inner.path().to_str().unwrap(),
        "grants/vendor",
    ]);
    repo.commit("maria@example.com", "2026-11-08T10:00:00Z", "Submodule");
    assert!(
        Path::new(&repo.path().join("grants/vendor/alex-deploy.yaml")).exists(),
        "the submodule is checked out"
    );
    let run = audit(&repo);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(
        run.rules_and_files(),
        [("refused-file".to_owned(), "grants/vendor".to_owned())]
    );
}

#[test]
fn a_grant_the_history_does_not_hold_is_an_error_not_a_pass() {
    let repo = Repo::new();
    repo.write(
        "grants/team/alex-deploy.yaml",
        grant(EXPIRES, &["maria@example.com"]),
    );
    let run = audit(&repo);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(run.rules(), ["uncommitted-grant"], "{}", run.stdout);
}

/// request: alex asks; maria approves on a copy of the request; alex
/// meanwhile extends `expires`; alex pulls maria's approval in with an
/// honest merge. maria approved the old terms.
fn merged_old_approval(repo: &Repo) {
    let text = |expires: &str, approvers: &str| {
        format!(
            "subject: alex@example.com\nrole: deployer\napprovers: [{approvers}]\nreason: Deploy the app for the sprint\nticket: OPS-1\nexpires: {expires}\n"
        )
    };
    repo.git(&["checkout", "-q", "-b", "request"]);
    repo.write("grants/team/alex-deploy.yaml", text(EXPIRES, ""));
    repo.commit("alex@example.com", "2026-11-08T09:00:00Z", "Request");
    repo.git(&["checkout", "-q", "-b", "approval"]);
    repo.write(
        "grants/team/alex-deploy.yaml",
        text(EXPIRES, "maria@example.com"),
    );
    repo.commit("maria@example.com", "2026-11-08T10:00:00Z", "Approve");
    repo.git(&["checkout", "-q", "request"]);
    repo.write(
        "grants/team/alex-deploy.yaml",
        text("2026-11-15T17:00:00Z", ""),
    );
    repo.commit("alex@example.com", "2026-11-08T11:00:00Z", "One more day");
    repo.git_as(
        "alex@example.com",
        "2026-11-08T12:00:00Z",
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "Pull the approval",
            "approval",
        ],
    );
    let merged = std::fs::read_to_string(repo.path().join("grants/team/alex-deploy.yaml")).unwrap();
    assert!(
        merged.contains("2026-11-15") && merged.contains("maria@"),
        "{merged}"
    );
}

#[test]
fn an_approval_of_old_terms_merged_in_stays_stale_in_the_audit() {
    let repo = Repo::new();
    merged_old_approval(&repo);
    let run = audit(&repo);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(run.rules(), ["stale-approval"], "{}", run.stdout);
}

#[test]
fn an_approval_of_old_terms_merged_in_stays_stale_in_a_pull_request() {
    let repo = Repo::new();
    merged_old_approval(&repo);
    let run = pull_request(&repo);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(run.rules(), ["stale-approval"], "{}", run.stdout);
}

#[test]
fn the_author_of_the_fork_point_did_not_write_the_pull_request() {
    let repo = Repo::new();
    repo.write(
        "grants/team/alex-deploy.yaml",
        grant(EXPIRES, &["li@example.com"]),
    );
    repo.commit("sam@example.com", "2026-11-02T09:00:00Z", "Alex deploys");
    // maria makes the tip of main, unrelated to the grant.
    repo.write("README.md", "grants\n");
    repo.commit("maria@example.com", "2026-11-03T09:00:00Z", "Readme");
    repo.git(&["checkout", "-q", "-b", "extend"]);
    repo.write(
        "grants/team/alex-deploy.yaml",
        grant("2026-11-15T17:00:00Z", &[]),
    );
    repo.commit("alex@example.com", "2026-11-08T10:00:00Z", "One more day");
    repo.write(
        "grants/team/alex-deploy.yaml",
        grant("2026-11-15T17:00:00Z", &["maria@example.com"]),
    );
    repo.commit("maria@example.com", "2026-11-08T11:00:00Z", "Approve");
    let run = pull_request(&repo);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.rules(), Vec::<String>::new(), "{}", run.stdout);
}

#[test]
fn a_change_reverted_within_the_pull_request_gets_one_verdict() {
    let repo = Repo::new();
    repo.write(
        "grants/team/alex-deploy.yaml",
        grant(EXPIRES, &["li@example.com"]),
    );
    repo.commit("sam@example.com", "2026-11-02T09:00:00Z", "Alex deploys");
    repo.git(&["checkout", "-q", "-b", "tries"]);
    repo.write(
        "grants/team/alex-deploy.yaml",
        grant("2026-11-15T17:00:00Z", &["li@example.com"]),
    );
    repo.commit("alex@example.com", "2026-11-08T10:00:00Z", "One more day");
    repo.write(
        "grants/team/alex-deploy.yaml",
        grant(EXPIRES, &["li@example.com"]),
    );
    repo.commit("alex@example.com", "2026-11-08T11:00:00Z", "Not needed");
    let before_merge = pull_request(&repo);
    repo.git(&["checkout", "-q", "main"]);
    repo.git_as(
        "sam@example.com",
        "2026-11-08T12:00:00Z",
        &["merge", "-q", "--no-ff", "-m", "Merge tries", "tries"],
    );
    let after_merge = audit(&repo);
    assert_eq!(before_merge.rules(), after_merge.rules());
    assert_eq!(after_merge.code, Some(0), "{}", after_merge.stdout);
}

/// Writes `bytes` as a loose object of `kind` with `git hash-object
/// --literally`, returning its id.
fn write_object(repo: &Repo, kind: &str, bytes: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("git")
        .current_dir(repo.path())
        .args(["hash-object", "-t", kind, "-w", "--literally", "--stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let output = child.wait_with_output().unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

fn tree_entries(entries: &[(String, &str, &str)]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (name, mode, id) in entries {
        bytes.extend_from_slice(format!("{mode} {name}\0").as_bytes());
        bytes.extend(
            (0..id.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&id[i..i + 2], 16).unwrap()),
        );
    }
    bytes
}

#[test]
fn a_crafted_tree_that_repeats_one_subtree_is_refused_not_walked_for_ever() {
    let repo = Repo::new();
    let blob = write_object(&repo, "blob", grant(EXPIRES, &[]).as_bytes());
    let mut level = write_object(
        &repo,
        "tree",
        &tree_entries(&[("alex-deploy.yaml".to_owned(), "100644", &blob)]),
    );
    // 300 names for the same subtree, five levels deep: 2.4e12 paths in a
    // few hundred kilobytes of objects.
    for _ in 0..5 {
        let entries: Vec<(String, &str, &str)> = (0..300)
            .map(|n| (format!("d{n:03}"), "40000", level.as_str()))
            .collect();
        level = write_object(&repo, "tree", &tree_entries(&entries));
    }
    let policy = repo.git(&["rev-parse", "HEAD:lapse.yaml"]);
    let root = write_object(
        &repo,
        "tree",
        &tree_entries(&[
            ("grants".to_owned(), "40000", &level),
            ("lapse.yaml".to_owned(), "100644", policy.trim()),
        ]),
    );
    let when = "2026-11-08T10:00:00Z";
    let bomb = repo.git_as(
        "sam@example.com",
        when,
        &["commit-tree", &root, "-p", "HEAD", "-m", "Bomb"],
    );
    // The branch moves on, so the checkout never holds the bomb.
    let clean = repo.git_as(
        "sam@example.com",
        when,
        &[
            "commit-tree",
            "HEAD^{tree}",
            "-p",
            bomb.trim(),
            "-m",
            "Clean",
        ],
    );
    repo.git(&["reset", "-q", "--hard", clean.trim()]);

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lapse"))
        .arg("--repo")
        .arg(repo.path())
        .args(["--now", history_support::NOW, "check"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(120) {
            child.kill().unwrap();
            panic!("lapse check is still walking the crafted tree after two minutes");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("refuses to judge it"), "{stderr}");
}
