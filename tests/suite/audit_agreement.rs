//! `lapse who` and `lapse audit` agree: a grant is active at T in `who`
//! exactly when `audit` shows it in force at T (one of its `access` spans
//! holds T). Checked on generated histories (many grants, added, changed,
//! moved and removed on the default branch and on branches merged into it,
//! with conflicts, merges of the default branch into branches, policy
//! changes that move contract ends, remove a person and change groups, and
//! commit dates that sometimes go backwards), at instants around every
//! boundary, not only on hand-picked cases.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use chrono::DateTime;
use serde_json::Value;

use crate::common::Xorshift;
use crate::history_support::{Run, git_in};

/// 2026-11-01T00:00:00Z.
const START: i64 = 1_793_491_200;
const HOUR: i64 = 3600;
const DIRS: [&str; 3] = ["grants/a", "grants/b", "grants/c/deep"];
const SUBJECTS: [&str; 7] = [
    "p0@example.com",
    "p1@example.com",
    "p2@example.com",
    "p3@example.com",
    "p4@example.com",
    "group:g0",
    "group:g1",
];

fn timestamp(seconds: i64) -> String {
    DateTime::from_timestamp(seconds, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The policy as it stands on one line of history.
#[derive(Clone)]
struct Policy {
    /// Whether p4 is in `people`.
    p4: bool,
    p1_contract_ends: Option<i64>,
    groups: [Vec<usize>; 2],
}

impl Policy {
    fn text(&self) -> String {
        let mut text = String::from("version: 1\npeople:\n");
        for person in 0..5 {
            if person == 4 && !self.p4 {
                continue;
            }
            let _ = writeln!(text, "  p{person}@example.com:");
            match self.p1_contract_ends.filter(|_| person == 1) {
                Some(ends) => {
                    let _ = writeln!(text, "    contract_ends: {}", timestamp(ends));
                }
                None => text.push_str("    aliases: []\n"),
            }
        }
        text.push_str("  l0@example.com: {}\n  l1@example.com: {}\ngroups:\n  leads: [l0@example.com, l1@example.com]\n");
        for (index, members) in self.groups.iter().enumerate() {
            let members: Vec<String> = members
                .iter()
                .map(|m| format!("p{m}@example.com"))
                .collect();
            let _ = writeln!(text, "  g{index}: [{}]", members.join(", "));
        }
        text.push_str("roles:\n");
        for role in 0..2 {
            let _ = writeln!(
                text,
                "  r{role}:\n    max_duration: 30d\n    approvers: [group:leads]\n    github: {{repository: acme/r{role}, permission: push}}"
            );
        }
        text
    }
}

/// A line of history: the files of its tip, its policy and its last mark.
#[derive(Clone)]
struct Line {
    files: BTreeMap<String, String>,
    policy: Policy,
    mark: usize,
}

struct Branch {
    name: String,
    fork: BTreeMap<String, String>,
    line: Line,
}

struct History {
    rng: Xorshift,
    stream: String,
    marks: usize,
    time: i64,
    next_grant: usize,
    main: Line,
    branches: Vec<Branch>,
    /// Every instant worth asking about: commit times, starts and ends.
    instants: Vec<i64>,
}

impl History {
    fn new(seed: u64) -> Self {
        let policy = Policy {
            p4: true,
            p1_contract_ends: None,
            groups: [vec![0, 1], vec![2]],
        };
        let mut files = BTreeMap::new();
        files.insert("lapse.yaml".to_owned(), policy.text());
        let mut history = Self {
            rng: Xorshift(seed),
            stream: String::new(),
            marks: 0,
            time: START,
            next_grant: 0,
            main: Line {
                files,
                policy,
                mark: 0,
            },
            branches: Vec::new(),
            instants: Vec::new(),
        };
        let mut main = history.main.clone();
        history.commit("refs/heads/main", &mut main, None, "Policy");
        history.main = main;
        history
    }

    /// Commits `line`'s files on `reference`, after its last commit and
    /// `merge` when given. Dates mostly move forward by up to six hours, and
    /// now and then go back an hour.
    fn commit(&mut self, reference: &str, line: &mut Line, merge: Option<usize>, message: &str) {
        self.time += if self.rng.below(10) == 0 {
            -HOUR
        } else {
            HOUR * (1 + self.rng.below(6) as i64)
        };
        self.instants.push(self.time);
        self.marks += 1;
        let mark = self.marks;
        let author = format!("p{}@example.com", self.rng.below(4));
        let _ = write!(
            self.stream,
            "commit {reference}\nmark :{mark}\nauthor {author} <{author}> {time} +0000\ncommitter {author} <{author}> {time} +0000\ndata {}\n{message}\n",
            message.len(),
            time = self.time
        );
        if line.mark > 0 {
            let _ = writeln!(self.stream, "from :{}", line.mark);
        }
        if let Some(other) = merge {
            let _ = writeln!(self.stream, "merge :{other}");
        }
        self.stream.push_str("deleteall\n");
        for (path, text) in &line.files {
            let _ = write!(
                self.stream,
                "M 100644 inline {path}\ndata {}\n{text}\n",
                text.len()
            );
        }
        self.stream.push('\n');
        line.mark = mark;
    }

    fn grant_text(&mut self) -> String {
        let subject = SUBJECTS[self.rng.below(SUBJECTS.len())];
        let role = self.rng.below(2);
        let expires = self.time + HOUR * (self.rng.below(60) as i64 - 6);
        self.instants.push(expires);
        let mut text = format!(
            "subject: {subject}\nrole: r{role}\nreason: Generated access for a test\napprovers: [l{}@example.com]\n",
            self.rng.below(2)
        );
        if self.rng.below(3) == 0 {
            let starts = self.time + HOUR * (self.rng.below(24) as i64 - 4);
            self.instants.push(starts);
            let _ = writeln!(text, "starts: {}", timestamp(starts));
        }
        let _ = writeln!(text, "expires: {}", timestamp(expires));
        text
    }

    /// One random change to a line's files.
    fn change(&mut self, line: &mut Line) -> &'static str {
        let grants: Vec<String> = line
            .files
            .keys()
            .filter(|path| path.starts_with("grants/"))
            .cloned()
            .collect();
        let pick = |rng: &mut Xorshift| grants.get(rng.below(grants.len())).cloned();
        match self.rng.below(10) {
            0..=3 => {
                let id = format!("g{}", self.next_grant);
                self.next_grant += 1;
                let dir = DIRS[self.rng.below(DIRS.len())];
                let text = self.grant_text();
                line.files.insert(format!("{dir}/{id}.yaml"), text);
                "Add"
            }
            4 | 5 => {
                let Some(path) = pick(&mut self.rng) else {
                    return "Nothing";
                };
                let text = self.grant_text();
                line.files.insert(path, text);
                "Change"
            }
            6 => {
                let Some(path) = pick(&mut self.rng) else {
                    return "Nothing";
                };
                let text = line.files.remove(&path).unwrap_or_default();
                let name = path.rsplit('/').next().unwrap_or_default().to_owned();
                let dir = DIRS[self.rng.below(DIRS.len())];
                line.files.insert(format!("{dir}/{name}"), text);
                "Move"
            }
            7 => {
                if let Some(path) = pick(&mut self.rng) {
                    line.files.remove(&path);
                }
                "Remove"
            }
            _ => {
                match self.rng.below(3) {
                    0 => line.policy.p4 = !line.policy.p4,
                    1 => {
                        let ends = self.time + HOUR * (self.rng.below(40) as i64 - 10);
                        self.instants.push(ends);
                        line.policy.p1_contract_ends = (self.rng.below(4) != 0).then_some(ends);
                    }
                    _ => {
                        let group = self.rng.below(2);
                        line.policy.groups[group] =
                            (0..4).filter(|_| self.rng.below(2) == 0).collect();
                    }
                }
                line.files
                    .insert("lapse.yaml".to_owned(), line.policy.text());
                "Policy"
            }
        }
    }

    /// `ours` with what `theirs` changed since `fork`; where both changed a
    /// file, either side wins (a conflict resolved by hand).
    fn merged(&mut self, ours: &Line, theirs: &Line, fork: &BTreeMap<String, String>) -> Line {
        let mut result = ours.clone();
        let paths: Vec<String> = fork.keys().chain(theirs.files.keys()).cloned().collect();
        for path in paths {
            let (base, their) = (fork.get(&path), theirs.files.get(&path));
            if base == their {
                continue;
            }
            let ours_changed = ours.files.get(&path) != base;
            if ours_changed && self.rng.below(2) == 0 {
                continue;
            }
            match their {
                Some(text) => result.files.insert(path.clone(), text.clone()),
                None => result.files.remove(&path),
            };
        }
        // The policy follows the file that won.
        if result.files.get("lapse.yaml") == theirs.files.get("lapse.yaml") {
            result.policy = theirs.policy.clone();
        }
        result
    }

    fn step(&mut self) {
        let roll = self.rng.below(20);
        if roll < 3 || self.branches.is_empty() && roll < 6 {
            let name = format!("refs/heads/topic{}", self.marks);
            self.branches.push(Branch {
                name,
                fork: self.main.files.clone(),
                line: self.main.clone(),
            });
        } else if roll < 7 && !self.branches.is_empty() {
            let branch = self.branches.remove(self.rng.below(self.branches.len()));
            let mut result = self.merged(&self.main.clone(), &branch.line, &branch.fork);
            result.mark = self.main.mark;
            self.commit(
                "refs/heads/main",
                &mut result,
                Some(branch.line.mark),
                "Merge",
            );
            self.main = result;
        } else if roll < 8 && !self.branches.is_empty() {
            // The default branch merged into a topic branch.
            let index = self.rng.below(self.branches.len());
            let (fork, mut line, name) = {
                let branch = &self.branches[index];
                (
                    branch.fork.clone(),
                    branch.line.clone(),
                    branch.name.clone(),
                )
            };
            let main = self.main.clone();
            let mut result = self.merged(&line, &main, &fork);
            result.mark = line.mark;
            self.commit(&name, &mut result, Some(main.mark), "Update from main");
            line = result;
            let branch = &mut self.branches[index];
            branch.fork = main.files;
            branch.line = line;
        } else if roll < 14 || self.branches.is_empty() {
            let mut main = self.main.clone();
            let message = self.change(&mut main);
            self.commit("refs/heads/main", &mut main, None, message);
            self.main = main;
        } else {
            let index = self.rng.below(self.branches.len());
            let mut line = self.branches[index].line.clone();
            let name = self.branches[index].name.clone();
            let message = self.change(&mut line);
            self.commit(&name, &mut line, None, message);
            self.branches[index].line = line;
        }
    }
}

/// Builds a generated history in `dir` and returns the instants to ask
/// about.
fn generate(dir: &Path, seed: u64, steps: usize) -> Vec<i64> {
    let mut history = History::new(seed);
    for _ in 0..steps {
        history.step();
    }
    git_in(dir, &["init", "-q", "-b", "main"], &[]);
    let mut import = Command::new("git")
        .current_dir(dir)
        .args(["fast-import", "--quiet"])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import");
    import
        .stdin
        .take()
        .expect("stdin")
        .write_all(history.stream.as_bytes())
        .expect("fast-import input");
    assert!(import.wait().expect("fast-import").success());
    git_in(dir, &["checkout", "-q", "-f", "main"], &[]);
    let mut instants = history.instants;
    // Each boundary, a second before it, and a little after.
    let around: Vec<i64> = instants
        .iter()
        .flat_map(|at| [*at, at - 1, at + 7 * 60])
        .collect();
    instants = around;
    instants.sort_unstable();
    instants.dedup();
    instants
}

/// Judged after every generated commit.
const NOW: &str = "2027-01-01T00:00:00Z";

fn lapse(dir: &Path, args: &[&str]) -> Run {
    crate::common::run_in(dir, NOW, args, &[])
}

/// The ids `who --at T` lists.
fn who_at(dir: &Path, at: &str) -> Vec<String> {
    let run = lapse(dir, &["who", "--format", "json", "--at", at]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut ids: Vec<String> = run.json()["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|grant| grant["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort_unstable();
    ids
}

/// The ids whose `access` holds T in an audit.
fn in_force_at(audit: &Value, at: &str) -> Vec<String> {
    let mut ids: Vec<String> = audit["grants"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|grant| {
            grant["access"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|access| {
                    access["from"].as_str().unwrap() <= at && at < access["until"].as_str().unwrap()
                })
                .map(|_| grant["id"].as_str().unwrap().to_owned())
        })
        .collect();
    ids.sort_unstable();
    ids
}

#[test]
fn who_and_audit_agree_on_generated_histories() {
    let mut checked = 0;
    let mut active = 0;
    for seed in [0x5eed_0001_u64, 0x5eed_0002, 0x5eed_0003, 0x5eed_0004] {
        let dir = tempfile::TempDir::new().unwrap();
        let instants = generate(dir.path(), seed, 60);
        let run = lapse(dir.path(), &["audit", "--format", "json"]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let audit = run.json();
        // Every boundary would be too many runs of `who`: a sample of them,
        // spread over the whole history.
        let mut rng = Xorshift(seed);
        let sample: Vec<i64> = (0..30)
            .map(|_| instants[rng.below(instants.len())])
            .collect();
        for at in sample {
            let at = timestamp(at);
            let listed = who_at(dir.path(), &at);
            assert_eq!(
                listed,
                in_force_at(&audit, &at),
                "seed {seed:#x}, at {at}: who and audit disagree (history kept in {})",
                dir.keep().display()
            );
            checked += 1;
            active += listed.len();
        }
    }
    // The generator must make histories where grants are active at all.
    assert!(
        active > checked / 2,
        "{active} active over {checked} instants"
    );
}
