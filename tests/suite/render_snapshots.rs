//! What `lapse render` writes for each target, compared byte for byte with
//! reviewed files under tests/fixtures/render/. To change the output on
//! purpose, re-render the fixture and review the diff of those files.

use crate::render_fixture;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use render_fixture::{Fixture, stderr};

const EXPECTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/render");

/// Every file under `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let text = std::fs::read_to_string(&path).unwrap();
                files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), text);
            }
        }
    }
    files
}

fn assert_same_tree(actual: &Path, expected: &Path) {
    let actual = tree(actual);
    let expected = tree(expected);
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "rendered files differ from the reviewed ones"
    );
    for (path, text) in &expected {
        assert_eq!(&actual[path], text, "{} differs", path.display());
    }
}

#[test]
fn renders_one_reviewed_file_per_active_grant_and_the_shared_versions() {
    let fixture = Fixture::new();
    let output = fixture.render(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_same_tree(
        &fixture.path("generated"),
        &Path::new(EXPECTED).join("single"),
    );
}

#[test]
fn split_by_team_writes_one_root_module_per_first_directory() {
    let fixture = Fixture::new();
    let output = fixture.render(&["--split-by", "team", "--out", "tf"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_same_tree(
        &fixture.path("tf"),
        &Path::new(EXPECTED).join("split-by-team"),
    );
}

#[test]
fn same_input_renders_the_same_bytes() {
    let first = Fixture::new();
    let second = Fixture::new();
    assert!(first.render(&[]).status.success());
    assert!(second.render(&[]).status.success());
    assert_eq!(
        tree(&first.path("generated")),
        tree(&second.path("generated"))
    );
}

#[test]
fn module_source_from_the_policy_pins_the_modules_by_git_url() {
    let fixture = Fixture::new();
    let policy = render_fixture::POLICY.replace(
        "version: 1\n",
        "version: 1\nrender:\n  module_source: git::https://example.com/lapse.git//modules?ref=v0.1.0\n",
    );
    fixture.write("lapse.yaml", &policy);
    assert!(fixture.render(&[]).status.success());
    assert!(
        fixture
            .read("generated/leads-bq.tf")
            .contains("source = \"git::https://example.com/lapse.git//modules/gcp?ref=v0.1.0\"")
    );
}

#[test]
fn a_template_in_the_repository_overrides_the_built_in_one() {
    let fixture = Fixture::new();
    fixture.write(
        "templates/github.tf.j2",
        "{% extends \"grant.tf.j2\" %}\n{% block target %}\n  repository = {{ target.repository }}\n  permission = \"pull\"\n{% endblock %}\n",
    );
    assert!(fixture.render(&[]).status.success());
    assert!(
        fixture
            .read("generated/alex-push.tf")
            .contains("permission = \"pull\"")
    );
}

#[test]
fn a_misspelt_template_override_is_an_error_not_ignored() {
    let fixture = Fixture::new();
    fixture.write("templates/githb.tf.j2", "");
    let output = fixture.render(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("templates/githb.tf.j2"));
}

#[test]
fn a_template_that_renders_broken_hcl_fails_naming_the_template() {
    let fixture = Fixture::new();
    fixture.write(
        "templates/gcp.tf.j2",
        "module {{ module_name }} {\n  reason = \"{{ grant.reason }}\"\n}\n",
    );
    let output = fixture.render(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("template gcp.tf.j2 rendered invalid HCL"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_template_cannot_write_a_value_unescaped() {
    let fixture = Fixture::new();
    fixture.write(
        "templates/gcp.tf.j2",
        "module {{ module_name }} {\n  reason = {{ grant.reason | safe }}\n}\n",
    );
    let output = fixture.render(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("safe"), "{}", stderr(&output));
}

#[test]
fn a_person_without_an_identity_at_the_target_is_an_error() {
    let fixture = Fixture::new();
    // li has no AWS role; a grant to the group cannot bind li.
    fixture.write(
        "grants/payments/leads-deploy.yaml",
        "subject: group:payments-leads\nrole: payments-deployer\nreason: Deploy the payments service\napprovers: [sam@example.com]\nexpires: 2026-12-01T00:00:00Z\n",
    );
    let output = fixture.render(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("li@example.com has no `aws` identity"),
        "{}",
        stderr(&output)
    );
}

/// When Terraform is installed, its own formatter must find nothing to
/// change, including `=` alignment after names in other scripts.
#[test]
fn terraform_fmt_finds_nothing_to_change() {
    if std::process::Command::new("terraform")
        .arg("version")
        .output()
        .is_err()
    {
        eprintln!("terraform not installed; skipping");
        return;
    }
    let fixture = Fixture::new();
    let policy = render_fixture::POLICY
        .replace(
            "groups:\n",
            "  jörg@例え.jp:\n    gcp: user:jorg@example.jp\n  \"e\\u0301e\\u0301@example.com\":\n    gcp: user:ee@example.com\ngroups:\n",
        )
        .replace(
            "payments-leads: [maria@example.com, li@example.com]",
            "payments-leads: [maria@example.com, li@example.com, jörg@例え.jp, \"e\\u0301e\\u0301@example.com\"]",
        );
    fixture.write("lapse.yaml", &policy);
    for args in [&[][..], &["--split-by", "team", "--out", "tf"]] {
        let output = fixture.render(args);
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let fmt = std::process::Command::new("terraform")
        .args(["fmt", "-check", "-recursive", "-diff"])
        .current_dir(fixture.root())
        .output()
        .unwrap();
    assert!(
        fmt.status.success(),
        "terraform fmt would change:\n{}",
        String::from_utf8_lossy(&fmt.stdout)
    );
}
