//! Building the synthetic grants repositories the history benches measure
//! (`history`, `offboard`): git run without the user's configuration, and
//! a history written in one stream through `git fast-import`, which makes
//! tens of thousands of commits in seconds.

use std::fmt::Write as _;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

/// `seconds` since the epoch as lapse writes an instant.
pub fn timestamp(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .expect("in range")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Runs git in `dir` without the user's or the system's configuration and
/// without signing; fails the bench when git fails.
pub fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(dir)
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdout(Stdio::null())
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?} failed");
}

/// A new repository in `dir` whose `main` is written commit by commit.
pub struct FastImport {
    child: Child,
    stream: BufWriter<ChildStdin>,
}

impl FastImport {
    pub fn start(dir: &Path) -> Self {
        git(dir, &["init", "-q", "-b", "main"]);
        let mut child = Command::new("git")
            .current_dir(dir)
            .args(["fast-import", "--quiet"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("git fast-import");
        let stream = BufWriter::new(child.stdin.take().expect("stdin"));
        Self { child, stream }
    }

    /// A commit on `main` by `author` (author and committer) at `time`,
    /// writing each `(path, content)`.
    pub fn commit(&mut self, time: i64, author: &str, message: &str, files: &[(String, String)]) {
        let mut text = format!(
            "commit refs/heads/main\nauthor {author} <{author}> {time} +0000\ncommitter {author} <{author}> {time} +0000\ndata {}\n{message}\n",
            message.len()
        );
        for (path, content) in files {
            let _ = write!(
                text,
                "M 100644 inline {path}\ndata {}\n{content}\n",
                content.len()
            );
        }
        self.stream
            .write_all(text.as_bytes())
            .expect("fast-import input");
    }

    /// Ends the import and checks `main` out in `dir`.
    pub fn finish(self, dir: &Path) {
        let Self { mut child, stream } = self;
        drop(stream);
        assert!(child.wait().expect("fast-import").success());
        git(dir, &["checkout", "-q", "-f", "main"]);
    }
}
