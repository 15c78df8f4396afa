//! The Terraform modules under modules/: complete, parseable, and sharing
//! one declaration of the grant's variables.

use std::path::{Path, PathBuf};

const TARGETS: [&str; 5] = ["aws", "gcp", "azure", "github", "kubernetes"];

fn module(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("modules")
        .join(name)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_target_module_has_its_files_and_needs_terraform_1_5() {
    for target in TARGETS {
        for file in [
            "main.tf",
            "variables.tf",
            "grant_variables.tf",
            "outputs.tf",
            "versions.tf",
            "README.md",
        ] {
            assert!(
                module(target).join(file).is_file(),
                "modules/{target}/{file}"
            );
        }
        let versions = read(&module(target).join("versions.tf"));
        assert!(
            versions.contains("required_version = \">= 1.5.0\""),
            "modules/{target} must require Terraform 1.5 for plantimestamp()"
        );
    }
}

#[test]
fn every_module_file_parses_as_hcl() {
    for name in TARGETS.iter().chain(&["window", "iam_policy"]) {
        for entry in std::fs::read_dir(module(name)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "tf") {
                hcl::parse(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
        }
    }
}

#[test]
fn the_grant_variables_are_the_same_in_every_module() {
    let first = read(&module(TARGETS[0]).join("grant_variables.tf"));
    for target in &TARGETS[1..] {
        assert_eq!(
            read(&module(target).join("grant_variables.tf")),
            first,
            "modules/{target}/grant_variables.tf differs from modules/aws/"
        );
    }
}

#[test]
fn every_target_module_drops_its_resources_once_expired() {
    for target in TARGETS {
        let main = read(&module(target).join("main.tf"));
        assert!(main.contains("source = \"../window\""), "modules/{target}");
        assert!(main.contains("module.window.active"), "modules/{target}");
    }
}

#[test]
fn targets_without_native_expiry_say_so() {
    for target in ["github", "kubernetes"] {
        let readme = read(&module(target).join("README.md"));
        assert!(
            readme.contains("no native expiry"),
            "modules/{target}/README.md"
        );
    }
}
