//! Names the commit lapse is built from, for `lapse --version`: the
//! `LAPSE_COMMIT` variable when the build sets it (the release workflow,
//! a build from a source archive), else `git rev-parse` when this is a git
//! checkout and git is installed, else "unknown". No dependency: a build
//! script's dependencies would slow every clean build.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-env-changed=LAPSE_COMMIT");
    let commit = std::env::var("LAPSE_COMMIT")
        .ok()
        .and_then(|text| sanitized(&text))
        .or_else(commit_from_git)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo::rustc-env=LAPSE_COMMIT={commit}");
}

/// The short commit id of HEAD, and the files whose change means a new
/// HEAD, so that the next build names the new commit.
fn commit_from_git() -> Option<String> {
    let git_dir = git(&["rev-parse", "--git-dir"])?;
    let git_dir = Path::new(&git_dir);
    println!("cargo::rerun-if-changed={}", git_dir.join("HEAD").display());
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        let common = git(&["rev-parse", "--git-common-dir"]).unwrap_or_default();
        let reference = Path::new(&common).join(&branch);
        if reference.exists() {
            println!("cargo::rerun-if-changed={}", reference.display());
        }
        println!(
            "cargo::rerun-if-changed={}",
            Path::new(&common).join("packed-refs").display()
        );
    }
    git(&["rev-parse", "--short=12", "HEAD"]).and_then(|text| sanitized(&text))
}

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8(output.stdout).ok()?.trim().to_owned())
}

/// A commit name goes into `--version` output: keep it to the characters
/// of a commit id or a tag, and short.
fn sanitized(text: &str) -> Option<String> {
    let text = text.trim();
    let fits = !text.is_empty()
        && text.len() <= 40
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    fits.then(|| text.to_owned())
}
