//! What users expect of a command-line tool: shell completions, a man
//! page, `--color` with NO_COLOR and CLICOLOR_FORCE, `-q`, and JSON
//! documents that name their format version.

use std::process::Command;

use crate::common::{GRANT, NOW, Repo, Run, lapse};

#[test]
fn completions_cover_every_subcommand_in_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef lapse"),
        ("fish", "complete -c lapse"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let run = lapse(&["completions", shell]);
        assert_eq!(run.code, Some(0), "{shell}: {run:?}");
        assert!(run.stdout.contains(marker), "{shell}: {}", run.stdout);
        for subcommand in ["check", "render", "prune", "codeowners", "init"] {
            assert!(
                run.stdout.contains(subcommand),
                "{shell} lacks {subcommand}"
            );
        }
    }
    let unknown = lapse(&["completions", "tcsh"]);
    assert_eq!(unknown.code, Some(2));
}

#[test]
fn the_man_page_is_roff_that_man_can_read() {
    let run = lapse(&["man"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &run.stdout[..80]
    );
    assert!(run.stdout.contains(".TH lapse 1"), "{}", run.stdout);
    assert!(run.stdout.contains("codeowners"));
    // Hidden from the help: it is for packagers.
    let help = lapse(&["--help"]).stdout;
    assert!(
        !help
            .lines()
            .any(|line| line.trim_start().starts_with("man ")),
        "{help}"
    );
    // When man(1) is installed, it renders the page.
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("lapse.1");
    std::fs::write(&page, &run.stdout).unwrap();
    let rendered = Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANWIDTH", "80")
        .output()
        .ok()
        .filter(|output| output.status.success());
    if let Some(output) = rendered {
        assert!(String::from_utf8_lossy(&output.stdout).contains("lapse"));
    }
}

fn too_long() -> Repo {
    Repo::with_grants(&[(
        "grants/payments/alex-deploy.yaml",
        &GRANT.replace("2026-12-06T09:00:00Z", "2026-12-06T17:00:00Z"),
    )])
}

/// `lapse check` on `repo` with the colour variables given (others removed).
fn check_with(repo: &Repo, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lapse"));
    command
        .args(["check", "--now", NOW, "--repo"])
        .arg(repo.path())
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn coloured(run: &Run) -> bool {
    run.stdout.contains('\x1b')
}

#[test]
fn colour_follows_the_flag_then_no_color_then_clicolor_force() {
    let repo = too_long();
    // Not a terminal: plain by default, coloured when forced.
    assert!(!coloured(&check_with(&repo, &[], &[])));
    assert!(coloured(&check_with(
        &repo,
        &[],
        &[("CLICOLOR_FORCE", "1")]
    )));
    assert!(!coloured(&check_with(
        &repo,
        &[],
        &[("CLICOLOR_FORCE", "0")]
    )));
    // NO_COLOR wins over CLICOLOR_FORCE, but only when it is not empty.
    assert!(!coloured(&check_with(
        &repo,
        &[],
        &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]
    )));
    assert!(coloured(&check_with(
        &repo,
        &[],
        &[("NO_COLOR", ""), ("CLICOLOR_FORCE", "1")]
    )));
    // The flag wins over both.
    assert!(coloured(&check_with(
        &repo,
        &["--color", "always"],
        &[("NO_COLOR", "1")]
    )));
    assert!(!coloured(&check_with(
        &repo,
        &["--color", "never"],
        &[("CLICOLOR_FORCE", "1")]
    )));
    let findings = check_with(&repo, &["--color", "always"], &[]);
    assert_eq!(findings.code, Some(1));
    assert!(findings.stdout.contains("duration-exceeds-max"));
}

#[test]
fn quiet_keeps_findings_and_drops_the_all_clear() {
    let clean = Repo::with_grants(&[("grants/payments/alex-deploy.yaml", GRANT)]);
    let loud = clean.check(&[]);
    assert_eq!(loud.stdout.trim(), "lapse: no problems found");
    let quiet = clean.check(&["-q"]);
    assert_eq!(
        (quiet.code, quiet.stdout.as_str()),
        (Some(0), ""),
        "{quiet:?}"
    );
    let findings = too_long().check(&["--quiet"]);
    assert_eq!(findings.code, Some(1));
    assert!(
        findings.stdout.contains("duration-exceeds-max"),
        "{findings:?}"
    );
}

/// `-q` on the commands a pipeline runs daily: a render that changes
/// nothing and a prune that removes nothing print nothing.
#[test]
fn quiet_render_and_prune_print_only_what_changed() {
    let repo = Repo::with_grants(&[("grants/payments/alex-deploy.yaml", GRANT)]);
    commit_all(&repo);
    let path = repo.path().to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["--repo", path, "--now", NOW];
        all.extend(args);
        lapse(&all)
    };
    let first = run(&["-q", "render"]);
    assert!(first.stdout.contains("created"), "{first:?}");
    assert!(!first.stdout.contains("files in"), "{first:?}");
    let loud = run(&["render", "--check"]);
    assert!(loud.stdout.contains("is up to date"), "{loud:?}");
    for args in [
        &["-q", "render"][..],
        &["-q", "render", "--check"],
        &["-q", "prune", "--dry-run", "--base", "HEAD"],
    ] {
        let quiet = run(args);
        assert_eq!(quiet.stdout, "", "{args:?}: {quiet:?}");
    }
    let prune = run(&["prune", "--dry-run", "--base", "HEAD"]);
    assert!(prune.stdout.starts_with("Nothing on"), "{prune:?}");
}

#[test]
fn every_json_document_names_its_version() {
    let repo = Repo::with_grants(&[("grants/payments/alex-deploy.yaml", GRANT)]);
    commit_all(&repo);
    let path = repo.path().to_str().unwrap();
    for args in [
        vec!["check", "--format", "json"],
        vec!["expiring", "--format", "json"],
        vec!["who", "--format", "json"],
        vec!["prune", "--dry-run", "--base", "HEAD", "--format", "json"],
    ] {
        let mut all = vec!["--repo", path, "--now", NOW];
        all.extend(args.iter().copied());
        let run = lapse(&all);
        let document: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|error| panic!("{args:?}: {error}: {run:?}"));
        assert_eq!(document["version"], 1, "{args:?}: {}", run.stdout);
        // The first field, so a reader sees it before deciding how to read on.
        assert!(run.stdout.starts_with("{\n  \"version\": 1,"), "{args:?}");
    }
}

/// Makes `repo` a git repository with its files in one commit.
fn commit_all(repo: &Repo) {
    for args in [
        &["init", "--quiet", "--initial-branch=main"][..],
        &["add", "--all"],
        &["commit", "--quiet", "--message", "grants"],
    ] {
        let status = Command::new("git")
            .args(args)
            .current_dir(repo.path())
            .env("GIT_AUTHOR_NAME", "Dana")
            .env("GIT_AUTHOR_EMAIL", "dana@example.com")
            .env("GIT_COMMITTER_NAME", "Dana")
            .env("GIT_COMMITTER_EMAIL", "dana@example.com")
            .env("GIT_AUTHOR_DATE", "2026-11-22T10:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-11-22T10:00:00Z")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }
}
