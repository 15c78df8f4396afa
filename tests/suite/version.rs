//! `lapse --version` names the release and the commit it was built from,
//! so that a bug report or an audit names the exact build.

use std::process::Command;

use crate::common::lapse;

#[test]
fn version_names_the_release_and_the_commit() {
    let run = lapse(&["--version"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    // A build with LAPSE_COMMIT set (the release workflow) names that.
    let expected_commit = std::env::var("LAPSE_COMMIT")
        .ok()
        .or_else(head_commit)
        .unwrap_or_else(|| "unknown".to_owned());
    assert_eq!(
        run.stdout.trim_end(),
        format!("lapse {} ({expected_commit})", env!("CARGO_PKG_VERSION"))
    );
}

/// The commit of this source tree, as `build.rs` reads it.
fn head_commit() -> Option<String> {
    let output = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
