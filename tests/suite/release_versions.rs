//! One version everywhere a grants repository pins lapse: the action's own
//! release, the reusable workflows' action refs, the examples `lapse init`
//! writes and the GitLab include's default, all equal to Cargo.toml's
//! version, so a release bump cannot leave one behind (release.yml checks
//! the tag against the same places).

use std::path::Path;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// Every `lapse-grants/lapse…@ref` in `text`, as the ref.
fn lapse_refs(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|line| line.split("lapse-grants/lapse").nth(1))
        .filter_map(|rest| rest.split_once('@'))
        .filter(|(path, _)| !path.contains(' '))
        .map(|(_, reference)| reference.split_whitespace().next().unwrap_or(""))
        .collect()
}

#[test]
fn the_action_workflows_examples_and_gitlab_include_name_this_version() {
    let tag = format!("v{VERSION}");
    assert!(read("action.yml").contains(&format!("OWN_RELEASE: \"{VERSION}\"")));
    let pinned = [
        ".github/workflows/lapse-check.yml",
        ".github/workflows/lapse-apply.yml",
        ".github/workflows/lapse-prune.yml",
        "examples/github/lapse-check.yml",
        "examples/github/lapse-apply.yml",
        "examples/github/lapse-prune.yml",
        "examples/gitea/lapse-check.yml",
        "examples/gitea/lapse-prune.yml",
    ];
    for path in pinned {
        let text = read(path);
        let refs = lapse_refs(&text);
        assert!(!refs.is_empty(), "{path} does not use lapse");
        assert!(
            refs.iter().all(|r| *r == tag),
            "{path}: {refs:?}, expected {tag}"
        );
    }
    let include = read("ci/gitlab/lapse.gitlab-ci.yml");
    assert!(
        include.contains(&format!("default: \"{VERSION}\"")),
        "ci/gitlab/lapse.gitlab-ci.yml"
    );
    assert!(read("examples/gitlab/.gitlab-ci.yml").contains(&format!("/lapse/{tag}/ci/gitlab/")));
}
