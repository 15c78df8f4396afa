//! What `lapse render` writes for each target, compared byte for byte with
//! reviewed files under tests/fixtures/render/. To change the output on
//! purpose, re-render the fixture and review the diff of those files.

use crate::render_fixture;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use render_fixture::Fixture;

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
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_same_tree(
        &fixture.path("generated"),
        &Path::new(EXPECTED).join("single"),
    );
}

#[test]
fn split_by_team_writes_one_root_module_per_first_directory() {
    let fixture = Fixture::new();
    let output = fixture.render(&["--split-by", "team", "--out", "tf"]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_same_tree(
        &fixture.path("tf"),
        &Path::new(EXPECTED).join("split-by-team"),
    );
}

/// One root per target, so the roots of the targets that only an apply
/// revokes (GitHub, Kubernetes) can be applied hourly, each planning one
/// provider's grants.
#[test]
fn split_by_target_writes_one_root_module_per_target() {
    let fixture = Fixture::new();
    let output = fixture.render(&["--split-by", "target", "--out", "tf"]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert_same_tree(
        &fixture.path("tf"),
        &Path::new(EXPECTED).join("split-by-target"),
    );
}

#[test]
fn split_by_target_can_be_the_policys_layout() {
    let fixture = Fixture::new();
    let policy =
        render_fixture::POLICY.replace("version: 1\n", "version: 1\nrender:\n  split_by: target\n");
    fixture.write("lapse.yaml", &policy);
    let output = fixture.render(&[]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    assert!(fixture.path("generated/github/alex-push.tf").is_file());
    assert!(fixture.path("generated/kubernetes/versions.tf").is_file());
}

/// The worst-case lag after expiry of each target the policy uses: none
/// where the cloud expires the access, one apply interval where only an
/// apply revokes it.
#[test]
fn render_reports_the_worst_case_revocation_lag_of_each_target() {
    let fixture = Fixture::new();
    let output = fixture.render(&[]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let stdout = output.stdout;
    let report: Vec<&str> = stdout
        .lines()
        .skip_while(|line| !line.starts_with("worst-case revocation lag"))
        .skip(1)
        .collect();
    let lag_of = |target: &str| {
        report
            .iter()
            .find(|line| line.split_whitespace().next() == Some(target))
            .map(|line| {
                line.split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_else(|| panic!("no line for {target} in:\n{stdout}"))
    };
    for target in ["aws", "aws_sso", "gcp", "azure"] {
        assert_eq!(lag_of(target), "none:", "{stdout}");
    }
    for target in ["github", "kubernetes"] {
        assert_eq!(lag_of(target), "up", "{stdout}");
    }
    assert!(
        stdout.contains("  github      up to 1h plus the apply's run time"),
        "{stdout}"
    );

    let policy = render_fixture::POLICY.replace(
        "version: 1\n",
        "version: 1\nrender:\n  apply_interval: 15m\n",
    );
    fixture.write("lapse.yaml", &policy);
    let stdout = fixture.render(&[]).stdout;
    assert!(
        stdout.contains("  kubernetes  up to 15m plus the apply's run time"),
        "{stdout}"
    );
}

#[test]
fn same_input_renders_the_same_bytes() {
    let first = Fixture::new();
    let second = Fixture::new();
    assert_eq!(first.render(&[]).code, Some(0));
    assert_eq!(second.render(&[]).code, Some(0));
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
    assert_eq!(fixture.render(&[]).code, Some(0));
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
    assert_eq!(fixture.render(&[]).code, Some(0));
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
    assert_eq!(output.code, Some(2));
    assert!(output.stderr.contains("templates/githb.tf.j2"));
}

#[test]
fn a_template_that_renders_broken_hcl_fails_naming_the_template() {
    let fixture = Fixture::new();
    fixture.write(
        "templates/gcp.tf.j2",
        "module {{ module_name }} {\n  reason = \"{{ grant.reason }}\"\n}\n",
    );
    let output = fixture.render(&[]);
    assert_eq!(output.code, Some(2));
    assert!(
        output
            .stderr
            .contains("template gcp.tf.j2 rendered invalid HCL"),
        "{}",
        output.stderr
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
    assert_eq!(output.code, Some(2));
    assert!(output.stderr.contains("safe"), "{}", output.stderr);
}

#[test]
fn a_person_without_an_identity_at_the_target_is_left_out_and_the_rest_rendered() {
    let fixture = Fixture::new();
    // li has no AWS role; a grant to the group cannot bind li.
    fixture.write(
        "grants/payments/leads-deploy.yaml",
        "subject: group:payments-leads\nrole: payments-deployer\nreason: Deploy the payments service\napprovers: [sam@example.com]\nexpires: 2026-12-01T00:00:00Z\n",
    );
    let output = fixture.render(&[]);
    assert_eq!(output.code, Some(1), "{}", output.stderr);
    assert!(
        output
            .stderr
            .contains("left out grants/payments/leads-deploy.yaml: missing-identity"),
        "{}",
        output.stderr
    );
    assert!(!fixture.path("generated/leads-deploy.tf").exists());
    assert!(fixture.path("generated/alex-deploy.tf").exists());
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
    for args in [
        &[][..],
        &["--split-by", "team", "--out", "tf"],
        &["--split-by", "target", "--out", "tt"],
    ] {
        let output = fixture.render(args);
        assert_eq!(output.code, Some(0), "{}", output.stderr);
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

/// A template decides what Terraform runs, so one reached through a link
/// (to a file or a folder outside the repository) is refused, not read.
#[test]
fn a_template_or_templates_folder_that_is_a_link_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    let evil = "{% extends \"grant.tf.j2\" %}{% block target %}EVIL-MARKER{% endblock %}";
    std::fs::write(outside.path().join("github.tf.j2"), evil).unwrap();

    let linked_file = Fixture::new();
    std::fs::create_dir_all(linked_file.path("templates")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("github.tf.j2"),
        linked_file.path("templates/github.tf.j2"),
    )
    .unwrap();
    let linked_folder = Fixture::new();
    std::os::unix::fs::symlink(outside.path(), linked_folder.path("templates")).unwrap();

    for (fixture, named) in [(linked_file, "github.tf.j2"), (linked_folder, "templates")] {
        let output = fixture.render(&[]);
        assert_eq!(output.code, Some(2), "{}", output.stderr);
        let message = output.stderr;
        assert!(message.contains(named), "{message}");
        assert!(message.contains("symbolic link"), "{message}");
        assert!(!fixture.path("generated").exists(), "rendered anyway");
    }
}

/// Template files are read relative to the folder opened, so a folder
/// swapped for a link after it was opened is never read through.
#[test]
fn an_opened_templates_folder_swapped_for_a_link_is_not_read_through() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("github.tf.j2"), "EVIL-MARKER").unwrap();
    let fixture = Fixture::new();
    fixture.write("templates/github.tf.j2", "{% extends \"grant.tf.j2\" %}");

    let opened = lapse::load::tree::OpenDirectory::open(&fixture.path("templates")).unwrap();
    std::fs::rename(fixture.path("templates"), fixture.path("moved-away")).unwrap();
    std::os::unix::fs::symlink(outside.path(), fixture.path("templates")).unwrap();

    let read = opened.read_file(std::ffi::OsStr::new("github.tf.j2"));
    assert_eq!(read.as_deref(), Ok("{% extends \"grant.tf.j2\" %}"));
}
