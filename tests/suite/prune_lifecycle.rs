//! `lapse prune` ends access with the contract and cleans up after
//! offboarding: it removes grants whose subject's contract has ended and
//! grants whose subject is no longer in lapse.yaml, says why for each, and
//! names the command that would extend each; and the `generated/` it
//! commits is what `lapse render` writes on the branch after the merge.

use crate::prune_support;

use prune_support::forge::{FakeForge, Flavour};
use prune_support::{Fixture, NOW, POLICY, git};

/// The fixture's policy with alex's contract ending on 2026-12-05 and sam
/// gone from `people`.
fn policy_after_offboarding() -> String {
    POLICY
        .replace(
            "  alex@example.com: {github: alex-gh}",
            "  alex@example.com: {github: alex-gh, contract_ends: 2026-12-05T00:00:00Z}",
        )
        .replace("  sam@example.com: {github: sam-gh}\n", "")
}

/// main: the fixture's grants, a later grant of sam's, then the policy
/// change that ends alex's contract and removes sam.
fn offboarded() -> Fixture {
    let sam_later = "subject: sam@example.com\nrole: deployer\nreason: Deploy the payments service\napprovers: [maria@example.com]\nexpires: 2026-12-30T00:00:00Z\n";
    let fixture = Fixture::with_files(&[("grants/contractors/sam-later.yaml", sam_later)]);
    fixture.commit_on_main("lapse.yaml", &policy_after_offboarding());
    fixture
}

#[test]
fn prune_removes_grants_ended_with_the_contract_and_orphaned_grants_and_nothing_else() {
    let fixture = offboarded();
    let output = fixture.lapse(&["prune", "--now", NOW], &[]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);

    let kept: Vec<String> = fixture
        .files_at("lapse/prune")
        .into_iter()
        .filter(|path| path.starts_with("grants/"))
        .collect();
    // current-deploy runs to 2026-12-20 but alex's contract ended on the
    // 5th; sam-read and sam-later are sam's, who left. The grants without
    // a valid expiry and the file that does not parse stay.
    assert_eq!(
        kept,
        [
            "grants/payments/bad-expiry.yaml",
            "grants/payments/broken.yaml",
            "grants/payments/no-expiry.yaml",
        ]
    );
    let text = output.stdout;
    assert!(
        text.contains(
            "Removing 4 grants (1 expired, 1 contract ended, 2 orphaned) from origin/main"
        ),
        "{text}"
    );

    let message = git(&fixture.work, &["log", "-1", "--format=%B", "lapse/prune"]);
    assert!(
        message.starts_with("Remove 4 grants: 1 expired, 1 contract ended, 2 orphaned\n"),
        "{message}"
    );
    for line in [
        "- current-deploy (grants/payments/current-deploy.yaml)",
        "  contract ended: 2026-12-05T00:00:00Z (contract_ends of alex@example.com; the grant said it expires 2026-12-20T00:00:00Z)",
        "  orphaned: sam@example.com is no longer in lapse.yaml",
        "  expired: 2026-12-01T00:00:00Z",
        // alex's contract has ended, so extending needs it moved first.
        "  to extend: move contract_ends of alex@example.com in lapse.yaml later, then lapse extend current-deploy --for 30d",
    ] {
        assert!(message.contains(line), "missing {line:?} in\n{message}");
    }
    // Nobody can extend a grant for someone who left.
    assert!(!message.contains("lapse extend sam-"), "{message}");
}

#[test]
fn the_json_report_says_why_and_how_to_extend() {
    let fixture = Fixture::new();
    let output = fixture.lapse(
        &["prune", "--now", NOW, "--dry-run", "--format", "json"],
        &[],
    );
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    let removed = report["removed"].as_array().unwrap();
    assert_eq!(removed[0]["id"], "sam-read");
    assert_eq!(removed[0]["removed_because"], "expired");
    // The role has no max_duration: the default 30d.
    assert_eq!(removed[0]["extend"], "lapse extend sam-read --for 30d");
    assert!(removed[0].get("extend_after").is_none(), "{report:#}");
}

#[test]
fn the_pull_request_says_why_each_grant_goes_and_how_to_extend_it() {
    let fixture = offboarded();
    let forge = FakeForge::start(Flavour::GitHub);
    let output = fixture.lapse(
        &["prune", "--now", NOW, "--push", "origin", "--open-pr"],
        &forge.github_env(),
    );
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let pulls = forge.pulls();
    assert_eq!(pulls.len(), 1);
    let body = &pulls[0].body;
    for row in [
        "| current-deploy | alex\\@example.com | deployer | 2026-12-05T00:00:00Z | contract ended | maria\\@example.com |",
        "| old-deploy | alex\\@example.com | deployer | 2026-12-01T00:00:00Z | expired | maria\\@example.com |",
        "| sam-later | sam\\@example.com | deployer | 2026-12-30T00:00:00Z | orphaned | maria\\@example.com |",
        "```sh\nlapse extend current-deploy --for 30d\nlapse extend old-deploy --for 30d\n```",
        "- `current-deploy` first needs: move contract\\_ends of alex\\@example.com in lapse.yaml later.",
    ] {
        assert!(body.contains(row), "missing {row:?} in\n{body}");
    }
    assert_eq!(
        pulls[0].title,
        "Remove 4 grants: 1 expired, 1 contract ended, 2 orphaned"
    );
}

/// A grant that is on main but fails `lapse check` (nobody approved it)
/// is left out by `lapse render`; the prune commit's `generated/` must
/// leave it out too, or merging the pull request would bring drift.
#[test]
fn the_regenerated_directory_is_what_render_writes_after_the_merge() {
    let unapproved = "subject: sam@example.com\nrole: deployer\nreason: Deploy the payments service\napprovers: []\nexpires: 2026-12-20T00:00:00Z\n";
    let fixture = Fixture::with_files(&[
        ("grants/payments/unapproved.yaml", unapproved),
        (
            "generated/old-deploy.tf",
            "# generated by lapse render; do not edit\n",
        ),
    ]);
    let output = fixture.lapse(&["prune", "--now", NOW], &[]);
    assert_eq!(output.code, Some(0), "{}", output.stderr);

    git(&fixture.work, &["checkout", "-q", "lapse/prune"]);
    let render = fixture.lapse(&["render", "--check", "--now", NOW], &[]);
    let text = render.stdout;
    assert!(text.contains("generated is up to date"), "{text}");
    // Render still fails, naming the grant it leaves out.
    assert_eq!(render.code, Some(1), "{text}");
    assert!(
        render
            .stderr
            .contains("left out grants/payments/unapproved.yaml: insufficient-approvals"),
        "{}",
        render.stderr
    );
    let generated = fixture.files_at("lapse/prune");
    assert!(
        generated.contains(&"generated/current-deploy.tf".to_owned())
            && !generated.contains(&"generated/unapproved.tf".to_owned()),
        "{generated:?}"
    );
}
