//! `approvals.evidence: forge-review`: in pull-request mode an approval
//! counts only when the forge shows an approving review of the pull
//! request's head commit by the approver's account. The forge is a fake
//! GitHub on 127.0.0.1 that pages its reviews as GitHub does.

use crate::history_support::{self, NOW, POLICY, Repo, grant};
use crate::prune_support::forge::{FakeForge, Flavour, REVIEWED_PULL};

const GRANT: &str = "grants/team/alex-deploy.yaml";

fn reviewed_repo() -> Repo {
    let repo = Repo::new();
    let policy = POLICY
        .replace(
            "version: 1\n",
            "version: 1\napprovals:\n  evidence: forge-review\n",
        )
        .replace("  li@example.com: {}", "  li@example.com: {github: li-gh}");
    repo.write("lapse.yaml", &policy);
    repo.commit("sam@example.com", "2026-11-02T09:00:00Z", "Forge reviews");
    repo.git(&["checkout", "-q", "-b", "request"]);
    repo.write(GRANT, grant("2026-11-14T17:00:00Z", &["maria@example.com"]));
    repo.commit("alex@example.com", "2026-11-08T10:00:00Z", "Request");
    repo
}

fn head(repo: &Repo) -> String {
    repo.git(&["rev-parse", "HEAD"]).trim().to_owned()
}

fn check(repo: &Repo, forge: &FakeForge) -> history_support::Run {
    let pull = REVIEWED_PULL.to_string();
    let args = ["check", "--base", "main", "--format", "json", "--pr", &pull];
    crate::common::run_in(repo.path(), NOW, &args, &forge.github_env())
}

/// A first page of a bot's comments, as a busy pull request has.
fn comments(forge: &FakeForge, sha: &str) {
    for _ in 0..110 {
        forge.add_review("ci-bot", "COMMENTED", sha);
    }
}

#[test]
fn an_approving_review_of_the_head_by_the_approver_counts_across_pages() {
    let repo = reviewed_repo();
    let forge = FakeForge::start(Flavour::GitHub);
    forge.set_head(&head(&repo));
    comments(&forge, &head(&repo));
    forge.add_review("maria-gh", "APPROVED", &head(&repo));
    let run = check(&repo, &forge);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
}

#[test]
fn a_review_by_someone_else_does_not_count() {
    let repo = reviewed_repo();
    let forge = FakeForge::start(Flavour::GitHub);
    forge.set_head(&head(&repo));
    forge.add_review("li-gh", "APPROVED", &head(&repo));
    let run = check(&repo, &forge);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.rules(),
        ["insufficient-approvals", "unverified-approval"],
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("maria-gh has not approved"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_review_of_an_older_commit_is_stale() {
    let repo = reviewed_repo();
    let older = head(&repo);
    repo.write(GRANT, grant("2026-11-15T17:00:00Z", &["maria@example.com"]));
    repo.commit("alex@example.com", "2026-11-08T11:00:00Z", "One more day");
    let forge = FakeForge::start(Flavour::GitHub);
    forge.set_head(&head(&repo));
    forge.add_review("maria-gh", "APPROVED", &older);
    let run = check(&repo, &forge);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("not the head commit"), "{}", run.stdout);
}

#[test]
fn a_forge_that_fails_is_an_error_with_the_fix_never_a_pass() {
    let repo = reviewed_repo();
    let forge = FakeForge::start(Flavour::GitHub);
    forge.set_head(&head(&repo));
    forge.add_review("maria-gh", "APPROVED", &head(&repo));
    forge.fail_next("GET", 500);
    let run = check(&repo, &forge);
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("500"), "{}", run.stderr);
}

#[test]
fn reviews_of_another_commit_than_the_checkout_are_refused() {
    let repo = reviewed_repo();
    let forge = FakeForge::start(Flavour::GitHub);
    forge.add_review(
        "maria-gh",
        "APPROVED",
        "5ee5ee5ee5ee5ee5ee5ee5ee5ee5ee5ee5ee5ee5",
    );
    let run = check(&repo, &forge);
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("check out the pull request's head"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_review_by_the_subject_is_self_approval() {
    let repo = reviewed_repo();
    repo.write(GRANT, grant("2026-11-14T17:00:00Z", &["alex@example.com"]));
    repo.commit(
        "alex@example.com",
        "2026-11-08T11:00:00Z",
        "I approve myself",
    );
    let forge = FakeForge::start(Flavour::GitHub);
    forge.set_head(&head(&repo));
    forge.add_review("alex-gh", "APPROVED", &head(&repo));
    let run = check(&repo, &forge);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.rules().contains(&"self-approval".to_owned()),
        "{}",
        run.stdout
    );
}
