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
//! It does so twice: with the default evidence (`commit-author`), and with
//! `approvals.evidence: signed-commit`, where every approval commit carries
//! an SSH signature (git's `gpg.format ssh`) by the approver's key, made by
//! `ssh-keygen` and listed in their `signing_keys`. `git commit -S` would
//! take minutes for 10,000 commits (one `ssh-keygen` process each), so the
//! bench rewrites the fast-imported history instead: the same trees, each
//! approval commit signed in process with the `ssh-key` crate (sshsig over
//! the commit without its `gpgsig` header, namespace `git`, as git signs),
//! and checks that `git verify-commit` accepts one and that `lapse audit`
//! counts every approval as signed before it measures anything.
//!
//! Run with `cargo bench --bench history`. Set `LAPSE_BENCH_KEEP=DIR` to
//! keep the generated repositories in `DIR/commit-author` and
//! `DIR/signed-commit` for profiling.
//!
//! Sizes and layout (the scaling table of the README is these runs):
//! `LAPSE_BENCH_GRANTS` (10000) and `LAPSE_BENCH_COMMITS` (20000); grants
//! the one-at-a-time commits do not reach are imported first, in bulk
//! commits of one requester's grants, each approved in bulk by a lead, and
//! with more commits than that the grants are renewed in turn.
//! `LAPSE_BENCH_PACK=loose` (the default) measures the repository as
//! `git fast-import` leaves it (one pack, each object a delta of the path's
//! previous version at most; the signed variant as `git repack -a -d`
//! leaves it after signing), `packed` after `git repack -adf` (what a
//! fresh clone, as CI has, reads). `LAPSE_BENCH_RUNS` (5) rounds.
//! `LAPSE_BENCH_LAPSE=PATH` measures another lapse binary (an older build,
//! for a before-and-after table). `LAPSE_BENCH_SIGNED=0` skips the signed
//! variant.

mod measure;
mod synthetic;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::LazyLock;
use std::time::Instant;

use measure::{Measure, run};
use ssh_key::{HashAlg, LineEnding, PrivateKey};
use synthetic::{FastImport, git, timestamp};

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
/// The message of every approval commit, the ones signed.
const APPROVE: &str = "Approve";
/// Set for the child process that signs (`sign_in_child`): the repository
/// and the directory of the keys.
const SIGN_REPO: &str = "LAPSE_BENCH_SIGN_REPO";
const SIGN_KEYS: &str = "LAPSE_BENCH_SIGN_KEYS";
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
    if let (Some(repo), Some(keys)) = (std::env::var_os(SIGN_REPO), std::env::var_os(SIGN_KEYS)) {
        let signers = Signers::load(Path::new(&keys));
        println!("{}", sign_approvals(Path::new(&repo), &signers));
        return;
    }
    let keep = std::env::var_os("LAPSE_BENCH_KEEP");
    let temp = tempfile::TempDir::new().expect("temporary directory");
    let root = keep.as_deref().map(Path::new).unwrap_or(temp.path());
    let plain = variant_dir(root, "commit-author");
    let started = Instant::now();
    let commits = generate(&plain, &policy(None));
    let packing = pack(&plain);
    eprintln!("generated the repository in {:.1?}", started.elapsed());
    let [plain_log, plain_check, _, _, _, plain_audit] = measure(
        &plain,
        &format!("commit-author evidence (the default), {commits} commits, {packing}"),
    );
    if std::env::var("LAPSE_BENCH_SIGNED").as_deref() == Ok("0") {
        return;
    }

    let signed = variant_dir(root, "signed-commit");
    let started = Instant::now();
    let keys = root.join("keys");
    let signers = Signers::make(&keys);
    let commits = generate(&signed, &policy(Some(&signers)));
    let count = sign_in_child(&signed, &keys);
    let packing = pack(&signed);
    eprintln!(
        "generated the signed repository ({count} signed approvals) in {:.1?}",
        started.elapsed()
    );
    assert_git_verifies(&signed, &signers);
    assert_lapse_counts_signed(&signed, count);
    let [signed_log, signed_check, _, _, _, signed_audit] = measure(
        &signed,
        &format!(
            "signed-commit evidence, {count} signed approval commits, {commits} commits, {packing}"
        ),
    );
    // What verifying the signatures costs, each against its own git log
    // so that a change of load between the two variants cancels out.
    let relative = |a: &Measure, b: &Measure| a.wall.as_secs_f64() / b.wall.as_secs_f64();
    println!(
        "\nsigned against commit-author, each over its git log: (b) {:.2}, (f) {:.2}",
        relative(&signed_check, &signed_log) / relative(&plain_check, &plain_log),
        relative(&signed_audit, &signed_log) / relative(&plain_audit, &plain_log),
    );
}

fn variant_dir(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).expect("repository directory");
    dir
}

/// Measures (a) to (f) on `repo`, prints their table under `title`, and
/// returns the best of each.
fn measure(repo: &Path, title: &str) -> [Measure; 6] {
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
            m.peak_rss_mb()
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
            "c/e = {:.2}, {:.2} (<= 1.2)",
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
        "\n{title}: {} grants, {} authors; best of {} runs\n",
        *GRANTS,
        REQUESTERS + LEADS,
        *RUNS
    );
    print!("{table}");
    println!(
        "\npeak RSS of (b): {:.1} MB, of (f): {:.1} MB (goal <= 200 MB each); b/a = {:.2}, d/a = {:.2} (<= 1.5)",
        check.peak_rss_mb(),
        audit.peak_rss_mb(),
        check.peak_rss_mb() / git_log.peak_rss_mb(),
        who.peak_rss_mb() / git_log.peak_rss_mb()
    );
    println!(
        "time against (a): b/a = {:.2}, d/a = {:.2} (<= 1.2 at 50,000 grants and at 200,000 commits)",
        ratio(&check, &git_log),
        ratio(&who, &git_log)
    );
    [git_log, check, base, who, read_grants, audit]
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

/// The policy; with `signers`, under `signed-commit` evidence, each lead
/// listing their key in `signing_keys`.
fn policy(signers: Option<&Signers>) -> String {
    let mut text = String::from("version: 1\ndefaults:\n  max_duration: 52w\n");
    if signers.is_some() {
        text.push_str("approvals:\n  evidence: signed-commit\n");
    }
    text.push_str("people:\n");
    // GitHub's numbered noreply form (`ID+login@`) is one identity with
    // `login@` (`model::identity`), so each person's alias has its own login.
    for index in 0..REQUESTERS + LEADS {
        let _ = writeln!(
            text,
            "  {}:\n    aliases: [{index}+user{index}@users.noreply.github.com]\n    github: user{index}",
            person(index)
        );
        if let Some(signers) = signers.filter(|_| index >= REQUESTERS) {
            let _ = writeln!(
                text,
                "    signing_keys: [\"{}\"]",
                signers.public[index - REQUESTERS]
            );
        }
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
fn generate(dir: &Path, policy: &str) -> usize {
    let mut import = FastImport::start(dir);
    let (grants, commits) = (*GRANTS, *COMMITS);
    let end = EPOCH + commits as i64 * STEP;
    let expires = end + 30 * 86_400;
    let time = |n: usize| EPOCH + n as i64 * STEP;
    import.commit(
        time(0),
        &person(REQUESTERS),
        "Policy",
        &[("lapse.yaml".into(), policy.to_owned())],
    );
    let imported = bulk_import(&mut import, grants, commits / 2, expires);
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
            import.commit(
                time(n),
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
            import.commit(time(n), &subject, "Shorten", &[(grant_path(earlier), text)]);
        } else {
            let lead = REQUESTERS + n % LEADS;
            approvers[grant % grants] = Some(lead);
            let text = grant_text(grant, starts_of(grant), expires, Some(lead));
            import.commit(
                time(n),
                &person(lead),
                APPROVE,
                &[(grant_path(grant), text)],
            );
        }
    }
    import.finish(dir);
    commits + imported
}

/// Grants `first..grants`, which the one-grant commits do not reach: each
/// requester adds theirs in one commit, and a lead approves them in the
/// next. Returns the number of commits made.
fn bulk_import(import: &mut FastImport, grants: usize, first: usize, expires: i64) -> usize {
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
            (lead, APPROVE, Some(lead)),
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
            import.commit(EPOCH, &person(author), message, &files);
            made += 1;
        }
    }
    made
}

/// Each lead's ed25519 key, made by `ssh-keygen` as a person would.
struct Signers {
    private: Vec<PrivateKey>,
    /// The public keys as `signing_keys` lists them (`ssh-ed25519 AAAA...`).
    public: Vec<String>,
}

impl Signers {
    /// New keys in `dir`, replacing any a kept run left there.
    fn make(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).expect("key directory");
        for lead in 0..LEADS {
            let file = Self::file(dir, lead);
            let _ = std::fs::remove_file(&file);
            let _ = std::fs::remove_file(file.with_extension("pub"));
            let status = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C"])
                .arg(person(REQUESTERS + lead))
                .arg("-f")
                .arg(&file)
                .status()
                .expect("ssh-keygen runs");
            assert!(status.success(), "ssh-keygen failed");
        }
        Self::load(dir)
    }

    fn load(dir: &Path) -> Self {
        let (mut private, mut public) = (Vec::new(), Vec::new());
        for lead in 0..LEADS {
            let file = Self::file(dir, lead);
            private.push(PrivateKey::read_openssh_file(&file).expect("private key"));
            let line = std::fs::read_to_string(file.with_extension("pub")).expect("public key");
            public.push(line.trim().to_owned());
        }
        Self { private, public }
    }

    fn file(dir: &Path, lead: usize) -> PathBuf {
        dir.join(format!("lead{lead}"))
    }
}

/// Signs in a child process of this bench: libgit2's pack maps and caches
/// would raise the bench's own peak RSS, and every measured child's peak
/// (wait4's `ru_maxrss`) starts from its parent's, which it shares until it
/// execs.
fn sign_in_child(repo: &Path, keys: &Path) -> usize {
    let output = Command::new(std::env::current_exe().expect("this bench"))
        .env(SIGN_REPO, repo)
        .env(SIGN_KEYS, keys)
        .stderr(Stdio::inherit())
        .output()
        .expect("the signing process runs");
    assert!(output.status.success(), "signing failed");
    let count = String::from_utf8(output.stdout).expect("a count");
    count.trim().parse().expect("a count")
}

/// Rewrites main with the same trees, authors and times, signing each
/// approval commit with its author's key as `git commit -S` would under
/// `gpg.format ssh`: an sshsig in namespace `git` over the commit object,
/// in its `gpgsig` header. Returns how many commits it signed.
fn sign_approvals(dir: &Path, signers: &Signers) -> usize {
    let repo = git2::Repository::open(dir).expect("open the repository");
    let mut walk = repo.revwalk().expect("revwalk");
    walk.push_ref("refs/heads/main").expect("main");
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
        .expect("sorting");
    let odb = repo.odb().expect("object database");
    let mut parent: Option<git2::Oid> = None;
    let mut signed = 0;
    for id in walk {
        let old = repo.find_commit(id.expect("commit id")).expect("commit");
        let parents: Vec<git2::Commit> = parent
            .iter()
            .map(|id| repo.find_commit(*id).expect("parent"))
            .collect();
        let message = old.message_raw().expect("UTF-8 message");
        let buffer = repo
            .commit_create_buffer(
                &old.author(),
                &old.committer(),
                message,
                &old.tree().expect("tree"),
                &parents.iter().collect::<Vec<_>>(),
            )
            .expect("commit buffer");
        let id = if message == APPROVE {
            let email = old.author().email().expect("email").to_owned();
            let lead: usize = email
                .strip_prefix("lead")
                .and_then(|rest| rest.strip_suffix("@example.com"))
                .and_then(|n| n.parse().ok())
                .expect("approvals are by leads");
            let signature = signers.private[lead]
                .sign("git", HashAlg::Sha512, &buffer)
                .expect("sign")
                .to_pem(LineEnding::LF)
                .expect("armor");
            signed += 1;
            repo.commit_signed(buffer.as_str().expect("UTF-8 commit"), &signature, None)
                .expect("write the signed commit")
        } else {
            odb.write(git2::ObjectType::Commit, &buffer)
                .expect("write the commit")
        };
        parent = Some(id);
    }
    repo.reference("refs/heads/main", parent.expect("a commit"), true, "sign")
        .expect("move main");
    // The unsigned commits go; the new ones join the trees in one pack, as
    // fast-import left the unsigned history.
    git(dir, &["reflog", "expire", "--expire=now", "--all"]);
    git(dir, &["repack", "-a", "-d", "-q"]);
    git(dir, &["checkout", "-q", "-f", "main"]);
    signed
}

/// git itself accepts the last approval's signature as its lead's.
fn assert_git_verifies(dir: &Path, signers: &Signers) {
    let allowed = dir.join(".git/allowed_signers");
    let lines: String = (0..LEADS)
        .map(|lead| format!("{} {}\n", person(REQUESTERS + lead), signers.public[lead]))
        .collect();
    std::fs::write(&allowed, lines).expect("allowed signers");
    let approval = Command::new("git")
        .current_dir(dir)
        .args(["log", "-1", "--format=%H", "--grep", APPROVE, "main"])
        .output()
        .expect("git log");
    let approval = String::from_utf8(approval.stdout).expect("commit id");
    let allowed = format!("gpg.ssh.allowedSignersFile={}", allowed.display());
    git(dir, &["-c", &allowed, "verify-commit", approval.trim()]);
}

/// `lapse audit` reads every approval as signed by a lead's key; otherwise
/// the signed variant would measure nothing. The report is read as it
/// streams, into the few fields asked, so that the bench's own memory stays
/// small: a child's peak RSS (wait4) starts from its parent's.
fn assert_lapse_counts_signed(dir: &Path, signed: usize) {
    #[derive(serde::Deserialize)]
    struct Report {
        grants: Vec<Grant>,
    }
    #[derive(serde::Deserialize)]
    struct Grant {
        events: Vec<Event>,
    }
    #[derive(serde::Deserialize)]
    struct Event {
        event: String,
        approver: Option<String>,
        evidence: Option<Evidence>,
    }
    #[derive(serde::Deserialize)]
    struct Evidence {
        kind: String,
        key: Option<String>,
        signer: Option<String>,
    }
    let end = timestamp(EPOCH + *COMMITS as i64 * STEP);
    let mut audit = Command::new(env!("CARGO_BIN_EXE_lapse"))
        .args(["--repo", dir.to_str().expect("UTF-8 path"), "--now", &end])
        .args(["audit", "--format", "json"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("lapse audit runs");
    let stdout = std::io::BufReader::new(audit.stdout.take().expect("stdout"));
    let report: Report = serde_json::from_reader(stdout).expect("audit JSON");
    assert!(
        audit
            .wait()
            .expect("lapse audit")
            .code()
            .is_some_and(|code| code <= 1)
    );
    let approvals: Vec<&Event> = report
        .grants
        .iter()
        .flat_map(|grant| &grant.events)
        .filter(|event| event.event == "approved")
        .collect();
    let by_key = approvals
        .iter()
        .filter(|event| {
            event.evidence.as_ref().is_some_and(|evidence| {
                evidence.kind == "signed-commit"
                    && evidence.key.is_some()
                    && evidence.signer.is_some()
                    && evidence.signer == event.approver
            })
        })
        .count();
    // A bulk approval commit (`bulk_import`) approves many grants at once.
    assert!(approvals.len() >= signed, "{} approvals", approvals.len());
    assert_eq!(
        by_key,
        approvals.len(),
        "lapse audit should read every approval as signed by its approver's key"
    );
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
