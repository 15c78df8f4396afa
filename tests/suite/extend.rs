//! `lapse extend GRANT --for DUR | --until T`: a request file next to the
//! grant, starting when the grant's access ends, with no approvers; the
//! approved grant untouched, so the extension is approved like any request
//! and access runs on without a gap or a stale approval.

use crate::history_support;

use history_support::{POLICY, Repo, grant};

const GRANT: &str = "grants/team/alex-deploy.yaml";
const EXTENSION: &str = "grants/team/alex-deploy-ext.yaml";
const EXPIRES: &str = "2026-11-14T17:00:00Z";

/// main: alex's deployer grant until the 14th, approved by maria, with a
/// ticket; the policy as given.
fn repo_with(policy: &str, expires: &str) -> Repo {
    let repo = Repo::new();
    repo.write("lapse.yaml", policy);
    let with_ticket = |approvers: &[&str]| {
        grant(expires, approvers).replace("approvers:", "ticket: OPS-7\napprovers:")
    };
    repo.write(GRANT, with_ticket(&[]));
    repo.commit("alex@example.com", "2026-11-08T09:00:00Z", "Request");
    repo.write(GRANT, with_ticket(&["maria@example.com"]));
    repo.commit("maria@example.com", "2026-11-08T10:00:00Z", "Approve");
    repo
}

fn repo() -> Repo {
    repo_with(POLICY, EXPIRES)
}

fn read(repo: &Repo, path: &str) -> String {
    std::fs::read_to_string(repo.path().join(path)).unwrap()
}

fn rules(run: &history_support::Run) -> Vec<String> {
    run.rules()
}

#[test]
fn an_extension_starts_when_the_grant_ends_and_only_lacks_approvals() {
    let repo = repo();
    let approved = read(&repo, GRANT);
    let run = repo.lapse(&["extend", "alex-deploy", "--for", "7d"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "wrote {EXTENSION} (starts 2026-11-14T17:00:00Z, when `alex-deploy` ends; expires 2026-11-21T17:00:00Z)"
        )),
        "{}",
        run.stdout
    );
    assert_eq!(read(&repo, GRANT), approved, "the approved grant changed");
    let text = read(&repo, EXTENSION);
    for line in [
        "# Written by `lapse extend`: extends grant `alex-deploy` from when it ends.",
        "subject: alex@example.com\n",
        "role: deployer\n",
        "reason: Deploy the app for the sprint\n",
        "ticket: OPS-7\n",
        "approvers: []\n",
        "starts: \"2026-11-14T17:00:00Z\"\n",
        "expires: \"2026-11-21T17:00:00Z\"\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }

    // As a pull request: only the missing approval, no `duplicate-grant`
    // for the window that starts where the grant's ends.
    repo.git(&["checkout", "-q", "-b", "extend"]);
    repo.commit("alex@example.com", "2026-11-10T09:00:00Z", "Extend");
    let run = repo.lapse(&["check", "--base", "main", "--format", "json"]);
    assert_eq!(rules(&run), ["insufficient-approvals"], "{}", run.stdout);

    // Approved like any request, the grant before it untouched.
    let approved_extension = text.replace("approvers: []", "approvers: [maria@example.com]");
    repo.write(EXTENSION, &approved_extension);
    repo.commit("maria@example.com", "2026-11-10T10:00:00Z", "Approve");
    let run = repo.lapse(&["check", "--base", "main", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(rules(&run).is_empty(), "{}", run.stdout);
}

#[test]
fn until_and_reason_and_the_next_link_of_the_chain() {
    let repo = repo();
    let run = repo.lapse(&[
        "extend",
        GRANT,
        "--until",
        "2026-11-20T12:00:00+01:00",
        "--reason",
        "The rollout slipped by a week",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let text = read(&repo, EXTENSION);
    assert!(
        text.contains("expires: \"2026-11-20T11:00:00Z\"\n"),
        "{text}"
    );
    assert!(
        text.contains("reason: The rollout slipped by a week\n"),
        "{text}"
    );

    // Extending the grant again would overlap the extension: extend that.
    let again = repo.lapse(&["extend", "alex-deploy", "--for", "1d"]);
    assert_eq!(again.code, Some(2));
    assert!(
        again
            .stderr
            .contains("grant `alex-deploy` is already extended by `alex-deploy-ext` (until 2026-11-20T11:00:00Z); extend `alex-deploy-ext` instead"),
        "{}",
        again.stderr
    );
    let next = repo.lapse(&["extend", "alex-deploy-ext", "--for", "1d"]);
    assert_eq!(next.code, Some(0), "{}", next.stderr);
    let text = read(&repo, "grants/team/alex-deploy-ext-2.yaml");
    assert!(
        text.contains("starts: \"2026-11-20T11:00:00Z\"\n"),
        "{text}"
    );
    assert!(
        text.contains("expires: \"2026-11-21T11:00:00Z\"\n"),
        "{text}"
    );
}

#[test]
fn refused_beyond_the_roles_maximum_and_past_the_contract() {
    let repo = repo();
    let long = repo.lapse(&["extend", "alex-deploy", "--for", "15d"]);
    assert_eq!(long.code, Some(2));
    assert!(
        long.stderr.contains(
            "the extension would last 15d from 2026-11-14T17:00:00Z, longer than the 14d that role `deployer` allows"
        ),
        "{}",
        long.stderr
    );

    let contract = POLICY.replace(
        "  alex@example.com: {github: alex-gh}",
        "  alex@example.com: {github: alex-gh, contract_ends: 2026-11-18T00:00:00Z}",
    );
    let repo = repo_with(&contract, EXPIRES);
    let past = repo.lapse(&["extend", "alex-deploy", "--for", "7d"]);
    assert_eq!(past.code, Some(2));
    assert!(
        past.stderr.contains(
            "the contract of alex@example.com ends at 2026-11-18T00:00:00Z: the extension may last until then at most (--until 2026-11-18T00:00:00Z)"
        ),
        "{}",
        past.stderr
    );
    assert!(!repo.path().join(EXTENSION).exists());
    let within = repo.lapse(&["extend", "alex-deploy", "--until", "2026-11-18T00:00:00Z"]);
    assert_eq!(within.code, Some(0), "{}", within.stderr);

    let ended = POLICY.replace(
        "  alex@example.com: {github: alex-gh}",
        "  alex@example.com: {github: alex-gh, contract_ends: 2026-11-12T00:00:00Z}",
    );
    let repo = repo_with(&ended, EXPIRES);
    let run = repo.lapse(&["extend", "alex-deploy", "--for", "1d"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains(
            "grant `alex-deploy` already ends with the contract of alex@example.com at 2026-11-12T00:00:00Z"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unknown_grant_is_named() {
    let repo = repo();
    let run = repo.lapse(&["extend", "bob-deploy", "--for", "1d"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("there is no grant `bob-deploy`"),
        "{}",
        run.stderr
    );
    let both = repo.lapse(&["extend", "alex-deploy"]);
    assert_eq!(both.code, Some(2), "{}", both.stderr);
}

/// lapse writes and renders instants in whole seconds, so a grant whose
/// `expires` has a fraction ends, in the cloud, at the whole second, where
/// its extension starts: back to back, not `duplicate-grant`.
#[test]
fn back_to_back_windows_are_not_a_duplicate_grant() {
    let repo = repo_with(POLICY, "2026-11-14T17:00:00.500Z");
    let run = repo.lapse(&["extend", "alex-deploy", "--for", "7d"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let text = read(&repo, EXTENSION);
    assert!(
        text.contains("starts: \"2026-11-14T17:00:00Z\"\n"),
        "{text}"
    );
    repo.commit("alex@example.com", "2026-11-10T09:00:00Z", "Extend");
    let check = repo.lapse(&["check", "--format", "json"]);
    assert!(
        !rules(&check).contains(&"duplicate-grant".to_owned()),
        "{}",
        check.stdout
    );

    // One second of overlap is one.
    let overlapping = text.replace("2026-11-14T17:00:00Z", "2026-11-14T16:59:59Z");
    repo.write(EXTENSION, &overlapping);
    repo.commit("alex@example.com", "2026-11-10T09:30:00Z", "Overlap");
    let check = repo.lapse(&["check", "--format", "json"]);
    assert!(
        rules(&check).contains(&"duplicate-grant".to_owned()),
        "{}",
        check.stdout
    );
}
