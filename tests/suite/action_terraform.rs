//! `action/terraform.sh`, which the apply workflow runs after `lapse
//! render`: every root is planned with its own state, `--split-by team`
//! roots each on their own, plans go to the job summary, and a root that
//! fails does not stop the others but fails the run at the end. Needs
//! Terraform on PATH (CI has it); without it the test says so and passes.

use std::path::Path;
use std::process::Command;

fn terraform_installed() -> bool {
    Command::new("terraform")
        .arg("version")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// A root module that needs no provider, so `init` works offline.
fn write_root(dir: &Path, value: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("main.tf"),
        format!("output \"grant\" {{\n  value = {value}\n}}\n"),
    )
    .unwrap();
}

fn plan(repo: &Path) -> std::process::Output {
    run(repo, "plan", &[])
}

fn run(repo: &Path, mode: &str, env: &[(&str, &str)]) -> std::process::Output {
    Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/action/terraform.sh"))
        .current_dir(repo)
        .envs(env.iter().copied())
        .env("LAPSE_TF", "terraform")
        .env("LAPSE_MODE", mode)
        .env("LAPSE_OUT", "generated")
        .env("GITHUB_STEP_SUMMARY", repo.join("summary.md"))
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .unwrap()
}

#[test]
fn every_team_root_is_planned_and_a_failing_root_fails_the_run_last() {
    if !terraform_installed() {
        eprintln!("terraform is not installed: skipping the terraform.sh test");
        return;
    }
    let repo = tempfile::tempdir().unwrap();
    let generated = repo.path().join("generated");
    write_root(&generated.join("ledger"), "\"ledger-grant\"");
    write_root(&generated.join("payments"), "\"payments-grant\"");
    let output = plan(repo.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let summary = std::fs::read_to_string(repo.path().join("summary.md")).unwrap();
    assert!(
        summary.contains("plan: <code>generated/ledger</code>"),
        "{summary}"
    );
    assert!(
        summary.contains("plan: <code>generated/payments</code>"),
        "{summary}"
    );
    assert!(
        summary.contains("ledger-grant") && summary.contains("payments-grant"),
        "{summary}"
    );

    // A broken root first in the order: the next one is still planned.
    std::fs::write(generated.join("ledger/main.tf"), "output \"grant\" {\n").unwrap();
    std::fs::remove_file(repo.path().join("summary.md")).unwrap();
    let output = plan(repo.path());
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(
            "::error title=lapse terraform plan::generated/ledger failed; the other roots went on"
        ),
        "{stdout}"
    );
    let summary = std::fs::read_to_string(repo.path().join("summary.md")).unwrap();
    assert!(summary.contains("payments-grant"), "{summary}");
    assert!(!summary.contains("generated/ledger"), "{summary}");
}

#[test]
fn no_rendered_code_is_an_error_not_an_empty_apply() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join("generated")).unwrap();
    let output = plan(repo.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no .tf files under generated"));
}

#[test]
fn each_root_is_applied_with_its_own_state_from_the_backend_file() {
    if !terraform_installed() {
        eprintln!("terraform is not installed: skipping the terraform.sh test");
        return;
    }
    let repo = tempfile::tempdir().unwrap();
    let generated = repo.path().join("generated");
    write_root(&generated, "\"ungrouped\"");
    write_root(&generated.join("payments"), "\"payments-grant\"");
    std::fs::write(
        repo.path().join("backend.tf"),
        "terraform {\n  backend \"local\" {}\n}\n",
    )
    .unwrap();
    let state = repo.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let key = format!("path={}/{{root}}.tfstate", state.display());
    let output = run(
        repo.path(),
        "apply",
        &[
            ("LAPSE_BACKEND_FILE", "backend.tf"),
            ("LAPSE_BACKEND_CONFIG", &key),
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let payments = std::fs::read_to_string(state.join("payments.tfstate")).unwrap();
    assert!(payments.contains("payments-grant"), "{payments}");
    let ungrouped = std::fs::read_to_string(state.join("_root.tfstate")).unwrap();
    assert!(ungrouped.contains("ungrouped") && !ungrouped.contains("payments-grant"));
}
