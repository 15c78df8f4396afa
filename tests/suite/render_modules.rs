//! The Terraform modules under modules/: complete, parseable, and sharing
//! one declaration of the grant's variables.

use std::path::{Path, PathBuf};

use crate::render_fixture;

/// The module of every kind of grant: each target's, and GitHub's two.
const TARGETS: [&str; 7] = [
    "aws",
    "aws_sso",
    "gcp",
    "azure",
    "github",
    "github_team",
    "kubernetes",
];

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
    for target in ["github", "github_team", "kubernetes"] {
        let readme = read(&module(target).join("README.md"));
        assert!(
            readme.contains("no native expiry"),
            "modules/{target}/README.md"
        );
    }
}

/// `(local name, version constraint)` of every `required_providers` entry
/// of an HCL file.
fn provider_constraints(text: &str) -> Vec<(String, String)> {
    let body: hcl::Body = hcl::from_str(text).expect("versions.tf parses");
    let mut constraints = Vec::new();
    for terraform in body.blocks().filter(|b| b.identifier() == "terraform") {
        for required in terraform
            .body()
            .blocks()
            .filter(|b| b.identifier() == "required_providers")
        {
            for attribute in required.body().attributes() {
                let hcl::Expression::Object(object) = attribute.expr() else {
                    panic!("{} is not an object", attribute.key());
                };
                let version = object
                    .iter()
                    .find(|(key, _)| key.to_string().trim_matches('"') == "version")
                    .map(|(_, value)| value.to_string())
                    .expect("a version");
                constraints.push((attribute.key().to_owned(), version));
            }
        }
    }
    constraints
}

/// Terraform picks one release of each provider for a root module, so the
/// constraint lapse renders must be the very one each module states.
#[test]
fn rendered_provider_constraints_are_the_modules_own() {
    let fixture = render_fixture::Fixture::new();
    let output = fixture.render(&[]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let rendered = provider_constraints(&fixture.read("generated/versions.tf"));
    assert_eq!(rendered.len(), 5, "one per provider: {rendered:?}");
    for (local, constraint) in rendered {
        let module_constraints: Vec<_> = TARGETS
            .iter()
            .flat_map(|target| provider_constraints(&read(&module(target).join("versions.tf"))))
            .filter(|(name, _)| *name == local)
            .collect();
        assert!(!module_constraints.is_empty(), "no module uses {local}");
        for (_, module_constraint) in module_constraints {
            assert_eq!(constraint, module_constraint, "{local}");
        }
    }
}
