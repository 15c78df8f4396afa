//! `lapse init`: a new grants repository on which check, render and prune
//! work at once, with CI files that call this release.

use std::path::Path;
use std::process::Command;

use crate::common::{NOW, Run, lapse};

const VERSION_TAG: &str = concat!("v", env!("CARGO_PKG_VERSION"));

/// An empty git repository on branch `main`.
fn empty_repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "--quiet", "--initial-branch=main"]);
    dir
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Dana")
        .env("GIT_AUTHOR_EMAIL", "dana@example.com")
        .env("GIT_COMMITTER_NAME", "Dana")
        .env("GIT_COMMITTER_EMAIL", "dana@example.com")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

fn run(dir: &Path, now: &str, args: &[&str]) -> Run {
    let repo = dir.to_str().unwrap();
    let mut all = vec!["--repo", repo, "--now", now];
    all.extend_from_slice(args);
    lapse(&all)
}

fn read(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn an_initialised_repository_passes_check_render_and_prune() {
    let dir = empty_repository();
    let init = run(dir.path(), NOW, &["init"]);
    assert_eq!(init.code, Some(0), "{init:?}");

    let check = run(dir.path(), NOW, &["check"]);
    assert_eq!(
        (check.code, check.stdout.trim()),
        (Some(0), "lapse: no problems found"),
        "{check:?}"
    );

    git(dir.path(), &["add", "--all"]);
    git(
        dir.path(),
        &["commit", "--quiet", "--message", "lapse init"],
    );
    let audit = run(dir.path(), NOW, &["check", "--format", "json"]);
    assert_eq!(audit.code, Some(0), "{audit:?}");

    let render = run(dir.path(), NOW, &["render"]);
    assert_eq!(render.code, Some(0), "{render:?}");
    let rendered = read(dir.path(), "generated/alex-example-reader.tf");
    assert!(
        rendered.contains(&format!("lapse.git//modules/aws?ref={VERSION_TAG}")),
        "{rendered}"
    );

    let prune = run(dir.path(), NOW, &["prune", "--dry-run"]);
    assert_eq!(prune.code, Some(0), "{prune:?}");
    assert!(!prune.stdout.contains("alex-example-reader"), "{prune:?}");
    // The example grant lasts a week from --now; after that prune removes it.
    let later = run(dir.path(), "2026-12-01T12:00:00Z", &["prune", "--dry-run"]);
    assert_eq!(later.code, Some(0), "{later:?}");
    assert!(later.stdout.contains("alex-example-reader"), "{later:?}");

    let codeowners = run(dir.path(), NOW, &["codeowners", "--check"]);
    assert_eq!(codeowners.code, Some(0), "{codeowners:?}");
}

#[test]
fn github_scaffolding_pins_this_release_and_wires_the_schemas() {
    let dir = empty_repository();
    assert_eq!(
        run(dir.path(), NOW, &["init", "--forge", "github"]).code,
        Some(0)
    );
    for workflow in ["lapse-check", "lapse-apply", "lapse-prune"] {
        let text = read(dir.path(), &format!(".github/workflows/{workflow}.yml"));
        let call =
            format!("uses: lapse-grants/lapse/.github/workflows/{workflow}.yml@{VERSION_TAG}");
        assert!(text.contains(&call), "{workflow}: {text}");
    }
    assert!(read(dir.path(), "terraform/backend.tf").contains("backend \"s3\""));
    let grant = read(dir.path(), "grants/example/alex-example-reader.yaml");
    assert!(grant.starts_with("# yaml-language-server: $schema=../../.lapse/grant.schema.json\n"));
    assert!(
        grant.contains("starts: 2026-11-23T12:00:00Z\nexpires: 2026-11-30T12:00:00Z\n"),
        "{grant}"
    );
    assert!(
        read(dir.path(), "lapse.yaml")
            .starts_with("# yaml-language-server: $schema=.lapse/policy.schema.json\n")
    );
    let schema: serde_json::Value =
        serde_json::from_str(&read(dir.path(), ".lapse/grant.schema.json")).unwrap();
    assert_eq!(schema["$id"], "urn:lapse:schema:grant:1");
    let settings: serde_json::Value =
        serde_json::from_str(&read(dir.path(), ".vscode/settings.json")).unwrap();
    assert_eq!(
        settings["yaml.schemas"][".lapse/grant.schema.json"],
        "grants/**/*.yaml"
    );
    assert!(read(dir.path(), ".github/CODEOWNERS").contains("/grants/example/ @maria-example\n"));
}

#[test]
fn gitlab_and_gitea_scaffolds_pass_check_with_their_own_ci_and_owners() {
    for (forge, ci_file, owners_file) in [
        ("gitlab", ".gitlab-ci.yml", ".gitlab/CODEOWNERS"),
        (
            "gitea",
            ".gitea/workflows/lapse-check.yml",
            ".gitea/CODEOWNERS",
        ),
    ] {
        let dir = empty_repository();
        let init = run(dir.path(), NOW, &["init", "--forge", forge]);
        assert_eq!(init.code, Some(0), "{forge}: {init:?}");
        let check = run(dir.path(), NOW, &["check"]);
        assert_eq!(check.code, Some(0), "{forge}: {check:?}");
        assert!(read(dir.path(), ci_file).contains(VERSION_TAG), "{forge}");
        assert!(read(dir.path(), "lapse.yaml").contains(&format!("{forge}: maria-example")));
        assert!(
            read(dir.path(), owners_file).contains("@maria-example"),
            "{forge}"
        );
        assert!(!dir.path().join(".github").exists(), "{forge}");
    }
}

#[test]
fn init_overwrites_nothing_and_writes_nothing_when_a_file_exists() {
    let dir = empty_repository();
    std::fs::write(dir.path().join("lapse.yaml"), "version: 1\n").unwrap();
    let init = run(dir.path(), NOW, &["init"]);
    assert_eq!(init.code, Some(2), "{init:?}");
    assert!(
        init.stderr.contains("lapse.yaml: already exists"),
        "{init:?}"
    );
    assert_eq!(read(dir.path(), "lapse.yaml"), "version: 1\n");
    assert!(!dir.path().join("grants").exists());
    assert!(!dir.path().join(".github").exists());
}

#[test]
fn init_does_not_write_through_a_linked_folder() {
    let dir = empty_repository();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join(".github")).unwrap();
    let init = run(dir.path(), NOW, &["init"]);
    assert_eq!(init.code, Some(2), "{init:?}");
    assert!(init.stderr.contains("symbolic link"), "{init:?}");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    assert!(!dir.path().join("lapse.yaml").exists());
}
