//! `lapse check` on 10,000 grant files, the audit path CI runs on every
//! push. Times the release binary against reading the same files with
//! `cat`, measured in the same run on the same machine, so the ratio says
//! how much lapse adds to the unavoidable cost of reading the tree.
//!
//! Run with `cargo bench --bench check`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const GRANTS: usize = 10_000;
const PEOPLE: usize = 200;
const TEAMS: usize = 20;
const ROLES_PER_TEAM: usize = 5;
const RUNS: usize = 7;
const NOW: &str = "2026-11-23T12:00:00Z";

fn main() {
    let repo = tempfile::tempdir().expect("temporary directory");
    write_repository(repo.path());
    let lapse = [
        env!("CARGO_BIN_EXE_lapse"),
        "check",
        "--now",
        NOW,
        "--format",
        "json",
        "--repo",
        repo.path().to_str().expect("UTF-8 temp path"),
    ];
    let cat = [
        "sh",
        "-c",
        "find grants -name '*.yaml' -print0 | xargs -0 cat lapse.yaml",
    ];
    let lapse_times = time(&lapse, repo.path());
    let cat_times = time(&cat, repo.path());
    let (lapse_median, cat_median) = (median(&lapse_times), median(&cat_times));
    println!("lapse check, {GRANTS} grants, {RUNS} runs after one warm-up:");
    println!("  lapse check --format json  {}", summary(&lapse_times));
    println!("  find | xargs cat           {}", summary(&cat_times));
    println!(
        "  ratio of medians: {:.1}x, {:.1} µs per grant",
        lapse_median.as_secs_f64() / cat_median.as_secs_f64(),
        lapse_median.as_secs_f64() * 1e6 / GRANTS as f64
    );
}

/// Runs `command` once to warm the page cache, then `RUNS` times.
fn time(command: &[&str], dir: &Path) -> Vec<Duration> {
    (0..=RUNS)
        .map(|_| {
            let started = Instant::now();
            let status = Command::new(command[0])
                .args(&command[1..])
                .current_dir(dir)
                .stdout(Stdio::null())
                .status()
                .expect("run the command");
            let elapsed = started.elapsed();
            // lapse exits 1 on findings; the generated repository has a few
            // expired grants (warnings) and must have no errors.
            assert_eq!(status.code(), Some(0), "{command:?} failed");
            elapsed
        })
        .skip(1)
        .collect()
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn summary(times: &[Duration]) -> String {
    let min = times.iter().min().copied().unwrap_or_default();
    let max = times.iter().max().copied().unwrap_or_default();
    format!(
        "median {:>7.1} ms  (min {:.1}, max {:.1})",
        median(times).as_secs_f64() * 1e3,
        min.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    )
}

fn person(index: usize) -> String {
    format!("person{index:03}@example.com")
}

fn role_name(team: usize, index: usize) -> String {
    format!("team{team:02}-role{index}")
}

/// A policy of the size a large organisation would have: 200 people, a
/// lead group per team, and five roles per team over every target kind.
fn write_repository(root: &Path) {
    let mut policy = String::from(
        "version: 1\ndefaults:\n  max_duration: 30d\n  warn_before: 7d\n  require_ticket: true\n  min_reason_length: 10\npeople:\n",
    );
    for index in 0..PEOPLE {
        let name = person(index);
        let _ = writeln!(
            policy,
            "  {name}:\n    aliases: [p{index}@users.noreply.github.com]\n    github: p{index}-gh\n    gcp: user:{name}"
        );
    }
    policy.push_str("groups:\n");
    for team in 0..TEAMS {
        let _ = writeln!(
            policy,
            "  team{team:02}-leads: [{}, {}]",
            person(team * 2),
            person(team * 2 + 1)
        );
    }
    policy.push_str("roles:\n");
    for team in 0..TEAMS {
        for index in 0..ROLES_PER_TEAM {
            let _ = write!(
                policy,
                "  {}:\n    description: Role {index} of team {team}\n    max_duration: 14d\n    approvers: [group:team{team:02}-leads]\n{}",
                role_name(team, index),
                target(team, index)
            );
        }
    }
    std::fs::write(root.join("lapse.yaml"), policy).expect("write the policy");

    for grant in 0..GRANTS {
        let team = grant % TEAMS;
        let role = role_name(team, (grant / TEAMS) % ROLES_PER_TEAM);
        // Distinct (subject, role) pairs, so no grant duplicates another;
        // leads are never subjects, so no grant is self-approved.
        let subject = person(2 * TEAMS + grant / (TEAMS * ROLES_PER_TEAM));
        // Every 50th grant has expired: a warning, as in a real repository
        // between two prune runs.
        let (starts, expires) = if grant % 50 == 0 {
            ("2026-11-01T09:00:00Z", "2026-11-10T09:00:00Z")
        } else {
            ("2026-11-20T09:00:00Z", "2026-12-03T17:00:00Z")
        };
        let text = format!(
            "# Requested in PR #{grant}\nsubject: {subject}\nrole: {role}\nreason: Work on ticket OPS-{grant} for team {team}\nticket: OPS-{grant}\napprovers: [{}]\nstarts: {starts}\nexpires: {expires}\n",
            person(team * 2)
        );
        let dir = root.join(format!("grants/team{team:02}"));
        std::fs::create_dir_all(&dir).expect("create the grants tree");
        std::fs::write(dir.join(format!("grant-{grant:05}.yaml")), text).expect("write a grant");
    }
}

/// A target block of each kind, none of them owner-level or wildcard, so the
/// catalog itself is clean.
fn target(team: usize, index: usize) -> String {
    match index {
        0 => format!(
            "    aws:\n      account: \"1234567890{team:02}\"\n      statements:\n        - actions: [ecs:UpdateService, ecs:DescribeServices]\n          resources: [\"arn:aws:ecs:eu-west-1:1234567890{team:02}:service/team{team}/*\"]\n"
        ),
        1 => format!("    gcp:\n      project: team{team}-prod\n      role: roles/run.developer\n"),
        2 => format!(
            "    azure:\n      scope: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/team{team}\n      role: Reader\n"
        ),
        3 => format!(
            "    github:\n      repository: org/team{team}-service\n      permission: push\n"
        ),
        _ => format!("    kubernetes:\n      namespace: team{team}\n      cluster_role: edit\n"),
    }
}
