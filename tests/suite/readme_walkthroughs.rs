//! The README's walkthroughs "When someone leaves" and "Extending access"
//! work as written: each `sh` block is run, line by line, in a copy of this
//! project's example repository (`lapse.yaml`, `grants/`, committed on
//! `main`), and the `text` block after it must be what the lines print,
//! stdout and stderr in order. In the expected text `…` stands for any
//! characters within a line (commit ids, the base's name).

use std::path::Path;
use std::process::Command;

const SECTIONS: [&str; 2] = ["## When someone leaves", "## Extending access"];

#[test]
fn the_lifecycle_walkthroughs_work_as_written() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let repo = example_repository();
    for heading in SECTIONS {
        let blocks = fenced_blocks(section(&readme, heading));
        assert!(!blocks.is_empty(), "no examples under {heading}");
        let mut ran = 0;
        for pair in blocks.windows(2) {
            let [(info, commands), (next_info, expected)] = pair else {
                continue;
            };
            if info != "sh" || next_info != "text" {
                continue;
            }
            let printed: String = commands
                .lines()
                .filter(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
                .map(|line| run(repo.path(), line))
                .collect();
            assert_matches(heading, commands, &printed, expected);
            ran += 1;
        }
        assert!(
            ran > 0,
            "no sh block followed by its output under {heading}"
        );
    }
}

/// The text of the README from `heading` to the next heading of its level.
fn section<'r>(readme: &'r str, heading: &str) -> &'r str {
    let start = readme
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README.md has no section {heading:?}"));
    let rest = &readme[start + heading.len() + 2..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    &rest[..end]
}

/// `(info string, content)` of each fenced block, in order.
fn fenced_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let content: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        blocks.push((info.trim().to_owned(), content.join("\n") + "\n"));
    }
    blocks
}

/// Runs one line with `sh` in `dir`, `lapse` first on the PATH, output
/// and errors together.
fn run(dir: &Path, line: &str) -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_lapse")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("{line} 2>&1"))
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Alex")
        .env("GIT_AUTHOR_EMAIL", "alex@contractor.example")
        .env("GIT_COMMITTER_NAME", "Alex")
        .env("GIT_COMMITTER_EMAIL", "alex@contractor.example")
        .output()
        .expect("sh runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn assert_matches(heading: &str, commands: &str, printed: &str, expected: &str) {
    let printed: Vec<&str> = printed.lines().collect();
    let expected: Vec<&str> = expected.lines().collect();
    let same = printed.len() == expected.len()
        && printed
            .iter()
            .zip(&expected)
            .all(|(line, pattern)| line_matches(line, pattern));
    assert!(
        same,
        "under {heading}, the README shows\n{}\nbut\n{commands}printed\n{}",
        expected.join("\n"),
        printed.join("\n")
    );
}

/// Whether `line` is `pattern`, where each `…` in the pattern stands for
/// any characters.
fn line_matches(line: &str, pattern: &str) -> bool {
    let mut parts = pattern.split('…');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (index, part) in parts.iter().enumerate() {
        if index + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// This project's `lapse.yaml` and `grants/`, committed on `main` of a new
/// repository.
fn example_repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy(&root.join("lapse.yaml"), &dir.path().join("lapse.yaml"));
    copy(&root.join("grants"), &dir.path().join("grants"));
    for line in [
        "git init -q -b main",
        "git add -A",
        "git commit -q -m 'The example repository'",
    ] {
        run(dir.path(), line);
    }
    dir
}

fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            copy(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap();
    }
}
