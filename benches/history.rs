//! How fast lapse reads history, against git itself on the same repository.
//!
//! Generates a grants repository of 10,000 grants and 20,000 commits by 200
//! authors with `git fast-import`, then measures in the same run:
//! (a) `git log --format=%ae --name-only`, (b) `lapse check` (audit mode,
//! the whole history), (c) `lapse check --base` with one changed grant and
//! (d) `lapse who --at`, (f) `lapse audit` (every event of every grant,
//! the whole history of main), and prints a table with the ratios the
//! project aims for and the peak memory of (b) and (f). (e) `grep -rc
//! expires grants` is the floor under (c): `check --base` still validates
//! every grant, so it reads every grant file once, as grep does.
//!
//! Run with `cargo bench --bench history`. Set `LAPSE_BENCH_KEEP=DIR` to
//! keep the generated repository in DIR for profiling.
//!
//! Sizes and layout (the scaling table of the README is these runs):
//! `LAPSE_BENCH_GRANTS` (10000) and `LAPSE_BENCH_COMMITS` (20000); grants
//! the one-at-a-time commits do not reach are imported first, in bulk
//! commits of one requester's grants, each approved in bulk by a lead, and
//! with more commits than that the grants are renewed in turn.
//! `LAPSE_BENCH_PACK=loose` (the default) measures the repository as
//! `git fast-import` leaves it (one pack, each object a delta of the path's
//! previous version at most), `packed` after `git repack -adf` (what a
//! fresh clone, as CI has, reads). `LAPSE_BENCH_RUNS` (5) rounds.
//! `LAPSE_BENCH_LAPSE=PATH` measures another lapse binary (an older build,
//! for a before-and-after table).

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

static GRANTS: LazyLock<usize> = LazyLock::new(|| size("LAPSE_BENCH_GRANTS", 10_000));
static COMMITS: LazyLock<usize> = LazyLock::new(|| size("LAPSE_BENCH_COMMITS", 20_000));
const REQUESTERS: usize = 180;
const LEADS: usize = 20;
/// Enough roles that no two grants give one person the same role (the
/// `duplicate-grant` error), at least 50.
static ROLES: LazyLock<usize> = LazyLock::new(|| GRANTS.div_ceil(REQUESTERS).max(50));
const TEAMS: usize = 20;
/// Commits are ten minutes apart from this instant (2026-01-01T00:00:00Z).
const EPOCH: i64 = 1_767_225_600;
const STEP: i64 = 600;
static RUNS: LazyLock<usize> = LazyLock::new(|| size("LAPSE_BENCH_RUNS", 5));

fn size(variable: &str, default: usize) -> usize {
    std::env::var(variable).map_or(default, |value| {
        value
            .parse()
            .unwrap_or_else(|_| panic!("{variable}={value}: not a number"))
    })
}

/// How the repository is packed when measured, said in the output.
fn pack(dir: &Path) -> &'static str {
    match std::env::var("LAPSE_BENCH_PACK").as_deref() {
        Ok("loose") | Err(_) => "loose (as git fast-import leaves it)",
        Ok("packed") => {
            git(dir, &["repack", "-adfq"]);
            "packed (git repack -adf, as a fresh clone)"
        }
        Ok(other) => panic!("LAPSE_BENCH_PACK={other}: packed or loose"),
    }
}

fn main() {
    let keep = std::env::var_os("LAPSE_BENCH_KEEP");
    let temp = tempfile::TempDir::new().expect("temporary directory");
    let repo = keep.as_deref().map(Path::new).unwrap_or(temp.path());
    let started = Instant::now();
    let commits = generate(repo);
    let packing = pack(repo);
    eprintln!("generated the repository in {:.1?}", started.elapsed());

    let built = env!("CARGO_BIN_EXE_lapse").to_owned();
    let lapse = &std::env::var("LAPSE_BENCH_LAPSE").unwrap_or(built);
    let end = EPOCH + *COMMITS as i64 * STEP;
    let now = timestamp(end);
    let middle = timestamp(EPOCH + *COMMITS as i64 * STEP / 2);
    let repo_arg = repo.to_str().expect("UTF-8 path");

    // The pull request is made first, so that every measure sees the same
    // repository, and the measures take turns, so that a busy moment of a
    // shared machine falls on all of them rather than on one.
    change_one_grant(repo, end);
    let git_log = || {
        let format = "--format=%H%x00%ae";
        run(repo, "git", &["log", format, "--name-only"])
    };
    let check = || run(repo, lapse, &["--repo", repo_arg, "--now", &now, "check"]);
    let base = || {
        run(
            repo,
            lapse,
            &["--repo", repo_arg, "--now", &now, "check", "--base", "main"],
        )
    };
    let who = || {
        run(
            repo,
            lapse,
            &["--repo", repo_arg, "--now", &now, "who", "--at", &middle],
        )
    };
    let read_grants = || run(repo, "grep", &["-rc", "expires", "grants"]);
    let audit = || {
        run(
            repo,
            lapse,
            &[
                "--repo", repo_arg, "--now", &now, "audit", "--format", "json",
            ],
        )
    };
    let mut rounds = Vec::new();
    for _ in 0..*RUNS {
        rounds.push([git_log(), check(), base(), who(), read_grants(), audit()]);
    }
    let best = |measure: usize| {
        rounds
            .iter()
            .map(|round| round[measure])
            .min_by_key(|m| m.wall)
            .expect("at least one run")
    };
    let (git_log, check, base, who) = (best(0), best(1), best(2), best(3));
    let read_grants = best(4);
    let audit = best(5);

    let mut table = String::new();
    let row = |table: &mut String, name: &str, m: &Measure, ratio: String| {
        let _ = writeln!(
            table,
            "| {name:<36} | {:>8.3} s | {:>8.3} s | {:>7.1} MB | {ratio:<38} |",
            m.wall.as_secs_f64(),
            m.cpu.as_secs_f64(),
            m.peak_rss_kb as f64 / 1024.0
        );
    };
    let ratio = |a: &Measure, b: &Measure| a.wall.as_secs_f64() / b.wall.as_secs_f64();
    let cpu_ratio = |a: &Measure, b: &Measure| a.cpu.as_secs_f64() / b.cpu.as_secs_f64();
    let _ = writeln!(
        table,
        "| {:<36} | {:>10} | {:>10} | {:>10} | {:<38} |",
        "measure", "wall", "CPU", "peak RSS", "wall ratio, CPU ratio (goal)"
    );
    let _ = writeln!(
        table,
        "|{:-<38}|{:-<12}|{:-<12}|{:-<12}|{:-<40}|",
        "", "", "", "", ""
    );
    row(
        &mut table,
        "(a) git log --format=%H%x00%ae -n...",
        &git_log,
        String::new(),
    );
    row(
        &mut table,
        "(b) lapse check",
        &check,
        format!(
            "b/a = {:.2}, {:.2} (<= 1.5)",
            ratio(&check, &git_log),
            cpu_ratio(&check, &git_log)
        ),
    );
    row(
        &mut table,
        "(c) lapse check --base (1 grant)",
        &base,
        format!(
            "c/b = {:.1}%, {:.1}% (<= 5%)",
            100.0 * ratio(&base, &check),
            100.0 * cpu_ratio(&base, &check)
        ),
    );
    row(
        &mut table,
        "(d) lapse who --at",
        &who,
        format!(
            "d/b = {:.2}, {:.2} (<= 1)",
            ratio(&who, &check),
            cpu_ratio(&who, &check)
        ),
    );
    row(
        &mut table,
        "(e) grep -rc expires grants",
        &read_grants,
        format!(
            "c/e = {:.2}, {:.2} (the floor under c)",
            ratio(&base, &read_grants),
            cpu_ratio(&base, &read_grants)
        ),
    );
    row(
        &mut table,
        "(f) lapse audit --format json",
        &audit,
        format!(
            "f/b = {:.2}, {:.2} (<= 1.2)",
            ratio(&audit, &check),
            cpu_ratio(&audit, &check)
        ),
    );
    println!(
        "{} grants, {commits} commits, {} authors, {packing}; best of {} runs\n",
        *GRANTS,
        REQUESTERS + LEADS,
        *RUNS
    );
    print!("{table}");
    println!(
        "\npeak RSS of (b): {:.1} MB, of (f): {:.1} MB (goal <= 200 MB each); b/a = {:.2}, d/a = {:.2} (<= 1.5)",
        check.peak_rss_kb as f64 / 1024.0,
        audit.peak_rss_kb as f64 / 1024.0,
        check.peak_rss_kb as f64 / git_log.peak_rss_kb as f64,
        who.peak_rss_kb as f64 / git_log.peak_rss_kb as f64
    );
}

#[derive(Clone, Copy)]
struct Measure {
    wall: Duration,
    /// User plus system time: on a busy machine the wall time depends on
    /// the neighbours, the CPU time much less.
    cpu: Duration,
    peak_rss_kb: i64,
}

/// Runs a command with its output discarded (as a CI log would not be the
/// bottleneck), timing it and reading its own peak RSS with wait4.
fn run(dir: &Path, program: &str, args: &[&str]) -> Measure {
    let started = Instant::now();
    let child = Command::new(program)
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("{program}: {error}"));
    let pid = i32::try_from(child.id()).expect("pid");
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in, and
    // the child is ours and not yet waited for.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    // wait4 reaped the child; `Child` has nothing left to wait for.
    std::mem::forget(child);
    let wall = started.elapsed();
    assert_eq!(waited, pid, "wait4 failed");
    let code = libc::WEXITSTATUS(status);
    assert!(code <= 1, "{program} {args:?} exited with {code}");
    let seconds = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Measure {
        wall,
        cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        peak_rss_kb: usage.ru_maxrss,
    }
}

fn timestamp(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .expect("in range")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn git(dir: &Path, args: &[&str]) {
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

fn person(index: usize) -> String {
    if index < REQUESTERS {
        format!("dev{index}@example.com")
    } else {
        format!("lead{}@example.com", index - REQUESTERS)
    }
}

fn grant_path(grant: usize) -> String {
    format!("grants/team{}/g{grant:05}.yaml", grant % TEAMS)
}

fn grant_text(grant: usize, starts: i64, expires: i64, approver: Option<usize>) -> String {
    let approvers = approver.map(person).unwrap_or_default();
    format!(
        "subject: {}\nrole: role{}\nreason: Work on ticket {grant} of the team\napprovers: [{approvers}]\nstarts: {}\nexpires: {}\n",
        person(grant % REQUESTERS),
        grant / REQUESTERS % *ROLES,
        timestamp(starts),
        timestamp(expires)
    )
}

fn policy() -> String {
    let mut text = String::from("version: 1\ndefaults:\n  max_duration: 52w\npeople:\n");
    // GitHub's numbered noreply form (`ID+login@`) is one identity with
    // `login@` (`model::identity`), so each person's alias has its own login.
    for index in 0..REQUESTERS + LEADS {
        let _ = writeln!(
            text,
            "  {}:\n    aliases: [{index}+user{index}@users.noreply.github.com]\n    github: user{index}",
            person(index)
        );
    }
    text.push_str("groups:\n  leads:\n");
    for lead in 0..LEADS {
        let _ = writeln!(text, "    - {}", person(REQUESTERS + lead));
    }
    text.push_str("roles:\n");
    for role in 0..*ROLES {
        let _ = writeln!(
            text,
            "  role{role}:\n    approvers: [group:leads]\n    github: {{repository: acme/repo{role}, permission: push}}"
        );
    }
    text
}

/// A deterministic mix: every grant is added by its subject, then most are
/// approved by a lead and some extended by the subject, interleaved the way
/// a busy repository interleaves unrelated pull requests. Returns the
/// number of commits made.
fn generate(dir: &Path) -> usize {
    git(dir, &["init", "-q", "-b", "main"]);
    let mut import = Command::new("git")
        .current_dir(dir)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import");
    let mut stream = std::io::BufWriter::new(import.stdin.take().expect("stdin"));
    let (grants, commits) = (*GRANTS, *COMMITS);
    let end = EPOCH + commits as i64 * STEP;
    let expires = end + 30 * 86_400;
    let commit = |stream: &mut dyn std::io::Write,
                  n: usize,
                  author: &str,
                  message: &str,
                  files: &[(String, String)]| {
        let time = EPOCH + n as i64 * STEP;
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
        stream
            .write_all(text.as_bytes())
            .expect("fast-import input");
    };
    commit(
        &mut stream,
        0,
        &person(REQUESTERS),
        "Policy",
        &[("lapse.yaml".into(), policy())],
    );
    let imported = bulk_import(&mut stream, &commit, grants, commits / 2, expires);
    // Odd commits add grant n/2 (renew it, past the last grant); even ones
    // approve the grant added just before, except every 100th, where the
    // subject shortens an approved grant instead (which makes that approval
    // stale, a finding).
    let mut approvers = vec![None; grants];
    let starts_of = |request: usize| EPOCH + (2 * request as i64 + 1) * STEP;
    let grant_text = |request: usize, starts, expires, approver| {
        grant_text(request % grants, starts, expires, approver)
    };
    let grant_path = |request: usize| grant_path(request % grants);
    for n in 1..commits {
        let grant = (n - 1) / 2;
        let subject = person(grant % REQUESTERS);
        if n % 2 == 1 {
            let text = grant_text(grant, starts_of(grant), expires, None);
            commit(
                &mut stream,
                n,
                &subject,
                "Request access",
                &[(grant_path(grant), text)],
            );
        } else if n % 200 == 0 && grant >= 2 {
            let earlier = grant - 2;
            let text = grant_text(
                earlier,
                starts_of(earlier),
                expires - STEP,
                approvers[earlier % grants],
            );
            let subject = person(earlier % REQUESTERS);
            commit(
                &mut stream,
                n,
                &subject,
                "Shorten",
                &[(grant_path(earlier), text)],
            );
        } else {
            let lead = REQUESTERS + n % LEADS;
            approvers[grant % grants] = Some(lead);
            let text = grant_text(grant, starts_of(grant), expires, Some(lead));
            commit(
                &mut stream,
                n,
                &person(lead),
                "Approve",
                &[(grant_path(grant), text)],
            );
        }
    }
    drop(stream);
    assert!(import.wait().expect("fast-import").success());
    git(dir, &["checkout", "-q", "-f", "main"]);
    commits + imported
}

/// Writes commit number `n` by `author` with `message`, changing the files.
type Commit = dyn Fn(&mut dyn std::io::Write, usize, &str, &str, &[(String, String)]);

/// Grants `first..grants`, which the one-grant commits do not reach: each
/// requester adds theirs in one commit, and a lead approves them in the
/// next. Returns the number of commits made.
fn bulk_import(
    stream: &mut dyn std::io::Write,
    commit: &Commit,
    grants: usize,
    first: usize,
    expires: i64,
) -> usize {
    let mut made = 0;
    for requester in 0..REQUESTERS {
        let theirs: Vec<usize> = (first..grants)
            .filter(|grant| grant % REQUESTERS == requester)
            .collect();
        if theirs.is_empty() {
            continue;
        }
        let lead = REQUESTERS + requester % LEADS;
        for (author, message, approver) in [
            (requester, "Import access", None),
            (lead, "Approve imported access", Some(lead)),
        ] {
            let files: Vec<(String, String)> = theirs
                .iter()
                .map(|grant| {
                    (
                        grant_path(*grant),
                        grant_text(*grant, EPOCH, expires, approver),
                    )
                })
                .collect();
            commit(stream, 0, &person(author), message, &files);
            made += 1;
        }
    }
    made
}

/// A pull request: one commit on a branch that extends one grant.
fn change_one_grant(dir: &Path, end: i64) {
    git(dir, &["checkout", "-q", "-b", "extend"]);
    let text = grant_text(7, end, end + 40 * 86_400, None);
    std::fs::write(dir.join(grant_path(7)), text).expect("write grant");
    git(dir, &["add", "-A"]);
    // Dated after the history, not by the clock: 200,000 commits ten
    // minutes apart end in 2029, and a commit dated before its parent makes
    // libgit2's date-ordered merge base and walk read the whole history.
    let date = format!("@{} +0000", end + STEP);
    let status = Command::new("git")
        .current_dir(dir)
        .args(["-c", "commit.gpgsign=false", "-c", "user.name=dev7"])
        .args([
            "-c",
            "user.email=dev7@example.com",
            "commit",
            "-q",
            "-m",
            "Extend",
        ])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .stdout(Stdio::null())
        .status()
        .expect("git runs");
    assert!(status.success(), "git commit failed");
}
