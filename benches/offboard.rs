//! `lapse offboard` on a 10,000-grant repository with a long history and a
//! committed `generated/`: how long it takes from "HR says so" to a branch
//! that revokes the access (and its peak memory), next to `lapse render`
//! and `lapse check` on the same repository, measured in the same run.
//!
//! The repository: 200 people (180 requesters, 20 leads in one approver
//! group), 60 roles, 10,000 grants, each added by its subject and approved
//! by a lead in a commit of their own (20,001 commits, by `git
//! fast-import`), then `generated/` rendered and committed. The person
//! offboarded holds 56 grants and is in the approver group of every role.
//!
//! Run with `cargo bench --bench offboard`. Set `LAPSE_BENCH_KEEP=DIR` to
//! keep the generated repository in DIR (an empty directory) for profiling.

mod measure;
mod synthetic;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use measure::{Measure, run};
use synthetic::{FastImport, git, timestamp};

const GRANTS: usize = 10_000;
const REQUESTERS: usize = 180;
const LEADS: usize = 20;
/// Enough roles that no two grants share a subject and a role (which
/// would be `duplicate-grant`): grant `g` is of role `g / REQUESTERS`.
const ROLES: usize = 60;
const RUNS: usize = 5;
/// 2026-01-01T00:00:00Z; commits are ten minutes apart from it.
const EPOCH: i64 = 1_767_225_600;
const STEP: i64 = 600;
/// The instant every command judges at: after the last commit.
const NOW: &str = "2026-05-20T00:00:00Z";
/// A requester with grants, and a lead who approves.
const LEAVER: &str = "dev7@example.com";
const LEAVING_LEAD: &str = "lead3@example.com";

fn main() {
    let keep = std::env::var_os("LAPSE_BENCH_KEEP");
    let temp = tempfile::TempDir::new().expect("temporary directory");
    let repo = keep.as_deref().map(Path::new).unwrap_or(temp.path());
    let started = Instant::now();
    generate(repo);
    eprintln!("generated the repository in {:.1?}", started.elapsed());
    let repo_arg = repo.to_str().expect("UTF-8 path");
    let lapse = |args: &[&str]| {
        let mut all = vec!["--repo", repo_arg, "--now", NOW];
        all.extend_from_slice(args);
        run(repo, env!("CARGO_BIN_EXE_lapse"), &all)
    };
    let measures: [(&str, &[&str]); 6] = [
        (
            "offboard --dry-run (plan only)",
            &["offboard", LEAVER, "--dry-run"],
        ),
        (
            "offboard (commit, generated/ refreshed)",
            &["offboard", LEAVER],
        ),
        (
            "offboard of a lead (in every role's approvers)",
            &["offboard", LEAVING_LEAD, "--branch", "lead"],
        ),
        (
            "offboard --at (contract end)",
            &["offboard", LEAVER, "--at", NOW, "--branch", "at"],
        ),
        ("render --check (reference)", &["render", "--check"]),
        ("check, audit (reference)", &["check"]),
    ];
    // The measures take turns, so that a busy moment of a shared machine
    // falls on all of them rather than on one; the first round warms up.
    let mut times = vec![Vec::new(); measures.len()];
    for round in 0..=RUNS {
        for (index, (_, args)) in measures.iter().enumerate() {
            let measure = lapse(args);
            if round > 0 {
                times[index].push(measure);
            }
        }
    }
    println!("lapse on {GRANTS} grants, 20,001 commits, generated/ committed; {RUNS} rounds:");
    for ((name, _), times) in measures.iter().zip(&times) {
        println!("  {name:<48} {}", summary(times));
    }
    let reference = median(&times[4]).wall.as_secs_f64();
    println!(
        "  offboard / render --check: {:.2}x",
        median(&times[1]).wall.as_secs_f64() / reference
    );
}

/// The run of median wall time.
fn median(times: &[Measure]) -> Measure {
    let mut sorted = times.to_vec();
    sorted.sort_by_key(|measure| measure.wall);
    sorted[sorted.len() / 2]
}

fn summary(times: &[Measure]) -> String {
    let wall = |measure: &Measure| measure.wall.as_secs_f64() * 1e3;
    let min = times.iter().map(wall).fold(f64::INFINITY, f64::min);
    let max = times.iter().map(wall).fold(0.0, f64::max);
    let peak = times.iter().map(Measure::peak_rss_mb).fold(0.0, f64::max);
    let median = median(times);
    format!(
        "median {:>7.1} ms  (min {min:.1}, max {max:.1}), CPU {:.1} ms, peak RSS {peak:.1} MB",
        wall(&median),
        median.cpu.as_secs_f64() * 1e3
    )
}

fn person(index: usize) -> String {
    if index < REQUESTERS {
        format!("dev{index}@example.com")
    } else {
        format!("lead{}@example.com", index - REQUESTERS)
    }
}

fn policy() -> String {
    let mut text =
        String::from("# Bench policy.\nversion: 1\ndefaults:\n  max_duration: 52w\npeople:\n");
    for index in 0..REQUESTERS + LEADS {
        let _ = writeln!(text, "  {}:\n    github: p{index}-gh", person(index));
    }
    text.push_str("groups:\n  leads:\n");
    for lead in 0..LEADS {
        let _ = writeln!(text, "    - {}", person(REQUESTERS + lead));
    }
    text.push_str("roles:\n");
    for role in 0..ROLES {
        let _ = writeln!(
            text,
            "  role{role}:\n    approvers: [group:leads]\n    github: {{repository: acme/repo{role}, permission: push}}"
        );
    }
    text
}

/// The grant file as its subject requests it, and as a lead approves it.
fn grant_text(grant: usize, approver: Option<&str>) -> String {
    let expires = timestamp(EPOCH + 200 * 86_400 + (grant as i64 % 97) * 3_600);
    format!(
        "subject: {}\nrole: role{}\nreason: Work on ticket {grant} of the team\napprovers: [{}]\nexpires: {expires}\n",
        person(grant % REQUESTERS),
        grant / REQUESTERS % ROLES,
        approver.unwrap_or_default(),
    )
}

/// The history by `git fast-import`, checked out; then `generated/`
/// rendered by lapse and committed, as a repository that commits it has.
fn generate(dir: &Path) {
    let mut import = FastImport::start(dir);
    let mut n = 0;
    let mut commit = |author: &str, message: &str, path: &str, content: String| {
        import.commit(
            EPOCH + n * STEP,
            author,
            message,
            &[(path.to_owned(), content)],
        );
        n += 1;
    };
    commit(&person(REQUESTERS), "Policy", "lapse.yaml", policy());
    for grant in 0..GRANTS {
        let path = format!("grants/team{}/g{grant:05}.yaml", grant % 20);
        let lead = person(REQUESTERS + grant % LEADS);
        commit(
            &person(grant % REQUESTERS),
            "Request",
            &path,
            grant_text(grant, None),
        );
        commit(&lead, "Approve", &path, grant_text(grant, Some(&lead)));
    }
    import.finish(dir);
    let rendered = Command::new(env!("CARGO_BIN_EXE_lapse"))
        .args(["--now", NOW, "render"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .expect("lapse render");
    assert!(rendered.success(), "lapse render failed");
    git(dir, &["add", "generated"]);
    git(
        dir,
        &[
            "-c",
            "user.name=ci",
            "-c",
            "user.email=ci@example.com",
            "commit",
            "-q",
            "-m",
            "Render",
        ],
    );
}
