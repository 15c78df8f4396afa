//! `Co-authored-by:` trailers read as git reads them: whoever git (and so
//! GitHub) would credit as a co-author of a commit that wrote a grant is
//! one of its writers, and cannot approve it.

use crate::common::Xorshift;
use crate::history_support::{self, Repo, grant};

const GRANT: &str = "grants/team/alex-deploy.yaml";
const EXPIRES: &str = "2026-11-14T17:00:00Z";
/// Line of `approvers:` in `grant()`.
const APPROVERS_LINE: u64 = 4;

/// Alex writes a grant that Maria approves, in a commit with `message`.
fn check_grant_committed_with(message: &str) -> history_support::Run {
    let repo = Repo::new();
    repo.write(GRANT, grant(EXPIRES, &["maria@example.com"]));
    repo.commit("alex@example.com", "2026-11-08T10:00:00Z", message);
    repo.lapse(&["check", "--format", "json"])
}

#[test]
fn spaces_before_the_colon_still_credit_the_co_author() {
    let run = check_grant_committed_with(
        "Grant alex deploy\n\nCo-authored-by\t : Maria <maria@example.com>",
    );
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(
        run.findings(),
        [("self-approval".to_owned(), APPROVERS_LINE)]
    );
    assert!(run.stdout.contains("co-authored commit"), "{}", run.stdout);
}

#[test]
fn an_address_folded_onto_the_next_line_still_credits_the_co_author() {
    let run = check_grant_committed_with(
        "Grant alex deploy\n\nCo-authored-by: Maria Gonzalez\n  <maria@users.noreply.github.com>",
    );
    assert_eq!(
        run.findings(),
        [("self-approval".to_owned(), APPROVERS_LINE)]
    );
}

#[test]
fn a_second_address_on_one_trailer_line_is_credited_too() {
    let run = check_grant_committed_with(
        "Grant alex deploy\n\nCo-authored-by: Li <li@example.com>, Maria <maria@example.com>",
    );
    assert_eq!(
        run.findings(),
        [("self-approval".to_owned(), APPROVERS_LINE)]
    );
}

/// The addresses of the `Co-authored-by` trailers that
/// `git interpret-trailers --parse` finds in `message`.
fn git_co_authors(message: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("message");
    std::fs::write(&file, message).expect("write message");
    let path = file.to_str().expect("UTF-8 temp path");
    let parsed = history_support::git_in(dir.path(), &["interpret-trailers", "--parse", path], &[]);
    parsed
        .lines()
        .filter_map(|line| line.split_once(": "))
        .filter(|(key, _)| key.eq_ignore_ascii_case("co-authored-by"))
        .flat_map(|(_, value)| {
            let value = value.trim();
            match value.find('<') {
                Some(_) => value
                    .split('<')
                    .skip(1)
                    .filter_map(|part| part.split_once('>'))
                    .map(|(address, _)| address.trim().to_owned())
                    .collect::<Vec<_>>(),
                None => vec![value.to_owned()],
            }
        })
        .filter(|address| !address.is_empty())
        .collect()
}

/// Differential against git itself over generated messages: every address
/// git credits, lapse credits (lapse may credit more: it also reads
/// trailers above the last paragraph).
#[test]
fn lapse_credits_every_co_author_git_interpret_trailers_finds() {
    const KEYS: &[&str] = &[
        "Co-authored-by",
        "co-authored-by",
        "CO-AUTHORED-BY",
        "Co-Authored-By",
    ];
    const GAPS: &[&str] = &["", " ", "\t", "  \t "];
    const VALUES: &[&str] = &[
        " Maria <maria@example.com>",
        "<li@example.com>",
        " sam@example.com",
        " Maria\n <maria@example.com>",
        " Li\n\t<li@example.com>\n  (pairing)",
        " A <a@example.com>, B <b@example.com>",
    ];
    const AROUND: &[(&str, &str)] = &[
        ("Title\n\n", "\n"),
        ("Title\n\nBody text.\n\n", ""),
        ("Title\n\nSigned-off-by: X <x@example.com>\n", "\n"),
        ("Title\n\n", "\nSigned-off-by: X <x@example.com>\n"),
        ("Title\r\n\r\n", "\r\n"),
    ];
    let mut random = Xorshift(0x5eed_c0de);
    let mut compared = 0;
    for _ in 0..150 {
        let (before, after) = AROUND[random.below(AROUND.len())];
        let mut trailers = String::new();
        for n in 0..=random.below(2) {
            if n > 0 {
                trailers.push('\n');
            }
            trailers.push_str(KEYS[random.below(KEYS.len())]);
            trailers.push_str(GAPS[random.below(GAPS.len())]);
            trailers.push(':');
            trailers.push_str(VALUES[random.below(VALUES.len())]);
        }
        let message = format!("{before}{trailers}{after}");
        let from_git = git_co_authors(&message);
        let from_lapse = lapse::history::commit::co_authors(&message);
        for address in &from_git {
            assert!(
                from_lapse.contains(address),
                "git credits {address:?}, lapse {from_lapse:?}, in {message:?}"
            );
        }
        compared += from_git.len();
    }
    assert!(compared > 100, "git found only {compared} co-authors");
}
