//! `lapse codeowners`: CODEOWNERS that routes each grants folder to the
//! approvers of its roles and the policy to `owners`, in each forge's
//! dialect, and `--check` for drift.

use crate::common::{POLICY, Repo};

/// The common policy plus owners, a person without any forge handle as an
/// approver, and GitLab and Gitea names for Maria.
fn policy() -> String {
    POLICY
        .replace(
            "    github: maria-gh\n",
            "    github: maria-gh\n    gitlab: maria.gl\n    gitea: maria-gt\n",
        )
        .replace("defaults:\n", "owners: [group:payments-leads]\ndefaults:\n")
}

const DEPLOY: &str = "subject: alex@contractor.example
role: payments-deployer
reason: Deploy the payments service for sprint 42
approvers: [maria@example.com]
expires: 2026-12-06T09:00:00Z
";

const DB_WRITE: &str = "subject: alex@contractor.example
role: payments-db-writer
reason: Fix the ledger rows of incident 7
approvers: [maria@example.com, sam@example.com]
expires: 2026-11-30T09:00:00Z
";

fn repo() -> Repo {
    Repo::new(&[
        ("lapse.yaml", &policy()),
        ("grants/payments/alex-deploy.yaml", DEPLOY),
        ("grants/ledger/alex-db.yaml", DB_WRITE),
    ])
}

fn codeowners(repo: &Repo, args: &[&str]) -> crate::common::Run {
    let mut all = vec!["codeowners", "--repo", repo.path().to_str().unwrap()];
    all.extend_from_slice(args);
    crate::common::lapse(&all)
}

#[test]
fn folders_go_to_their_roles_approvers_and_the_policy_to_its_owners() {
    let repo = repo();
    let run = codeowners(&repo, &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(
        lines,
        [
            // Every approver of any role (Sam has no GitHub login).
            "/grants/ @li-gh @maria-gh",
            // payments-db-writer: group:payments-leads and Sam.
            "/grants/ledger/ @li-gh @maria-gh",
            // payments-deployer: group:payments-leads.
            "/grants/payments/ @li-gh @maria-gh",
            "/lapse.yaml @li-gh @maria-gh",
            "/templates/ @li-gh @maria-gh",
            "/modules/ @li-gh @maria-gh",
            "/.github/ @li-gh @maria-gh",
        ],
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("# grants/ledger/: no github user name in lapse.yaml for sam@example.com\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn gitlab_and_gitea_get_their_user_names_and_patterns() {
    let repo = repo();
    let gitlab = codeowners(&repo, &["--forge", "gitlab"]);
    assert!(
        gitlab.stdout.contains("/grants/payments/ @maria.gl\n"),
        "{}",
        gitlab.stdout
    );
    assert!(
        gitlab.stdout.contains("/.gitlab-ci.yml @maria.gl\n"),
        "{}",
        gitlab.stdout
    );
    assert!(
        gitlab
            .stdout
            .contains("no gitlab user name in lapse.yaml for li@example.com")
    );
    let gitea = codeowners(&repo, &["--forge", "gitea"]);
    assert!(
        gitea.stdout.contains("^grants/payments/.* @maria-gt\n"),
        "{}",
        gitea.stdout
    );
    assert!(
        gitea.stdout.contains("^lapse\\.yaml$ @maria-gt\n"),
        "{}",
        gitea.stdout
    );
}

#[test]
fn check_reports_drift_until_the_file_is_written_again() {
    let repo = repo();
    let missing = codeowners(&repo, &["--check"]);
    assert_eq!(missing.code, Some(1), "{missing:?}");
    assert!(
        missing.stdout.contains(".github/CODEOWNERS: differs"),
        "{missing:?}"
    );
    assert_eq!(codeowners(&repo, &["--write"]).code, Some(0));
    assert_eq!(codeowners(&repo, &["--check"]).code, Some(0));
    // Li leaves the approver group: the file no longer says what the policy says.
    repo.write(
        "lapse.yaml",
        policy()
            .replace(
                "payments-leads: [maria@example.com, li@example.com]",
                "payments-leads: [maria@example.com]",
            )
            .as_bytes(),
    );
    let drifted = codeowners(&repo, &["--check"]);
    assert_eq!(drifted.code, Some(1), "{drifted:?}");
}

#[test]
fn a_hostile_handle_is_refused_with_the_policy_and_an_odd_folder_adds_no_line() {
    let hostile = policy().replace("github: li-gh", "github: \"li-gh\\n/lapse.yaml @mallory\"");
    let refused = Repo::new(&[("lapse.yaml", &hostile)]);
    let run = codeowners(&refused, &[]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr.contains("`github` of `li@example.com`"),
        "{run:?}"
    );
    assert!(!run.stdout.contains("mallory"), "{}", run.stdout);

    let repo = Repo::new(&[
        ("lapse.yaml", &policy()),
        ("grants/payments/alex-deploy.yaml", DEPLOY),
        ("grants/odd name/alex-db.yaml", DB_WRITE),
    ]);
    let run = codeowners(&repo, &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(!run.stdout.contains("odd name"), "{}", run.stdout);
    assert!(
        run.stdout.contains("/grants/payments/ @li-gh @maria-gh"),
        "{}",
        run.stdout
    );
}
