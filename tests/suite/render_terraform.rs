//! What the modules make of what `lapse render` writes, computed by real
//! Terraform: the parts of the modules that need no cloud provider (the
//! time-bound IAM policy document), fed with the values the binary
//! rendered. Needs `terraform` on PATH; without it each test prints a
//! notice and passes, unless LAPSE_REQUIRE_TERRAFORM=1 (CI sets it).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::render_fixture::Fixture;

fn project_module(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("modules")
        .join(name)
}

/// A `terraform` command, or `None` when there is none and it is not required.
fn terraform() -> Option<Command> {
    let found = Command::new("terraform")
        .arg("version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        assert!(
            std::env::var_os("LAPSE_REQUIRE_TERRAFORM").is_none(),
            "LAPSE_REQUIRE_TERRAFORM is set but `terraform` is not on PATH"
        );
        eprintln!("terraform not installed; skipping");
        return None;
    }
    let mut command = Command::new("terraform");
    command
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_CLI_CONFIG_FILE");
    Some(command)
}

/// Applies the root module in `dir` (it has no resources, so nothing but
/// its outputs is computed) and returns output `name`.
fn output_of(dir: &Path, name: &str) -> Option<String> {
    for args in [
        &["init", "-backend=false", "-input=false", "-no-color"][..],
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    ] {
        let output = terraform()?.args(args).current_dir(dir).output().unwrap();
        assert!(
            output.status.success(),
            "terraform {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let output = terraform()?
        .args(["output", "-raw", name])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    Some(String::from_utf8(output.stdout).unwrap())
}

/// The arguments of the one module block of a rendered grant file, as
/// HCL text by name.
fn rendered_arguments(text: &str) -> Vec<(String, String)> {
    let body: hcl::Body = hcl::from_str(text).expect("rendered HCL parses");
    let block = body.blocks().next().expect("a module block");
    block
        .body()
        .attributes()
        .map(|attribute| {
            let expression = hcl::format::to_string(attribute.expr()).expect("formats");
            (attribute.key().to_owned(), expression)
        })
        .collect()
}

/// The IAM policy document the `aws` module gives IAM for a rendered AWS
/// grant file: the rendered statements and window, through iam_policy.
fn policy_for(fixture: &Fixture, grant_file: &str) -> Option<serde_json::Value> {
    let arguments = rendered_arguments(&fixture.read(grant_file));
    let argument = |name: &str| {
        arguments
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_else(|| panic!("{grant_file} has no `{name}`"))
    };
    let root = fixture.path("policy-root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("main.tf"),
        format!(
            "module \"policy\" {{\n  source     = \"{}\"\n  statements = {}\n  starts_at  = {}\n  expires_at = {}\n}}\n\noutput \"json\" {{\n  value = module.policy.json\n}}\n",
            project_module("iam_policy").display(),
            argument("statements"),
            argument("starts_at"),
            argument("expires_at"),
        ),
    )
    .unwrap();
    let json = output_of(&root, "json")?;
    Some(serde_json::from_str(&json).expect("the policy is JSON"))
}

/// The Identity Center target's inline policy is the same document.
#[test]
fn an_identity_center_grant_is_bounded_by_the_same_window() {
    let fixture = Fixture::new();
    let output = fixture.render(&[]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let Some(policy) = policy_for(&fixture, "generated/alex-sso.tf") else {
        return;
    };
    assert_eq!(
        policy["Statement"][0]["Condition"],
        serde_json::json!({
            "DateGreaterThan": {"aws:CurrentTime": "2026-11-22T09:00:00Z"},
            "DateLessThan": {"aws:CurrentTime": "2026-12-06T17:00:00Z"},
        }),
        "{policy:#}"
    );
}

/// IAM judges the grant's window: after `starts` (`DateGreaterThan`, the
/// operator the provider-schema validation requires) and before `expires`.
#[test]
fn iam_judges_the_window_from_starts_to_expires_excluded() {
    let fixture = Fixture::new();
    let output = fixture.render(&[]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let Some(policy) = policy_for(&fixture, "generated/alex-deploy.tf") else {
        return;
    };
    let statements = policy["Statement"].as_array().expect("statements");
    assert!(!statements.is_empty());
    for statement in statements {
        assert_eq!(
            statement["Condition"],
            serde_json::json!({
                "DateGreaterThan": {"aws:CurrentTime": "2026-11-22T09:00:00Z"},
                "DateLessThan": {"aws:CurrentTime": "2026-12-06T17:00:00Z"},
            }),
            "{policy:#}"
        );
        assert_eq!(
            statement["Action"],
            serde_json::json!(["ecs:UpdateService", "ecs:DescribeServices"])
        );
    }
}
