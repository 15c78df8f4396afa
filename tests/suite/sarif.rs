//! `lapse check --format sarif`: a SARIF 2.1.0 log that code scanning
//! accepts, validated against the official OASIS schema.

use crate::common::Repo;
use crate::jsonschema;

use serde_json::Value;

/// One warning (an expired grant already in the repository), several
/// errors (unknown role, date without time, no reason), one finding in a
/// directory whose name needs escaping in a URI, one on a non-ASCII line.
fn repo_with_findings() -> Repo {
    let repo = Repo::with_grants(&[]);
    repo.write(
        "grants/payments/alex-deploy.yaml",
        "subject: alex@contractor.example
role: payments-deployer
reason: Deploy the payments service for sprint 42
approvers: [maria@example.com]
expires: 2026-11-20T17:00:00Z
",
    );
    repo.write(
        "grants/data team/alex-read.yaml",
        "subject: alex@contractor.example
role: dàta-reader
expires: 2026-12-06
",
    );
    repo
}

/// An unknown field in a role: `lapse check` reports it, then exits 2.
fn repo_with_broken_policy() -> Repo {
    let repo = Repo::with_grants(&[]);
    repo.write("lapse.yaml", "version: 1\nroles:\n  r:\n    colour: blue\n");
    repo
}

fn sarif_of(repo: &Repo) -> (Option<i32>, Value) {
    let output = repo.check(&["--format", "sarif"]);
    let log = serde_json::from_str(&output.stdout)
        .unwrap_or_else(|error| panic!("not JSON ({error}):\n{}", output.stdout));
    (output.code, log)
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"]
        .as_array()
        .expect("results is an array")
}

fn result_of<'a>(log: &'a Value, rule: &str) -> &'a Value {
    results(log)
        .iter()
        .find(|result| result["ruleId"] == rule)
        .unwrap_or_else(|| panic!("no {rule} result in {log:#}"))
}

#[test]
fn the_log_is_valid_against_the_official_sarif_2_1_0_schema() {
    let Some((validator, schema)) = jsonschema::sarif_schema() else {
        return;
    };
    let (_, with_findings) = sarif_of(&repo_with_findings());
    let (_, clean) = sarif_of(&Repo::with_grants(&[]));
    let (_, broken_policy) = sarif_of(&repo_with_broken_policy());
    for log in [with_findings, clean, broken_policy] {
        let errors = validator.errors(&schema, &log);
        assert!(errors.is_empty(), "schema violations:\n{errors}\n{log:#}");
    }
}

#[test]
fn the_driver_is_lapse_and_lists_every_rule_with_its_description_and_help() {
    let (_, log) = sarif_of(&Repo::with_grants(&[]));
    assert_eq!(log["version"], "2.1.0");
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "lapse");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), lapse::rules::RULES.len());
    for (listed, rule) in rules.iter().zip(lapse::rules::RULES) {
        assert_eq!(listed["id"], rule.id);
        assert_eq!(listed["shortDescription"]["text"], rule.summary);
        assert_eq!(listed["help"]["text"], rule.help);
        assert_eq!(
            listed["defaultConfiguration"]["level"],
            rule.severity.as_str()
        );
    }
}

#[test]
fn each_finding_is_a_result_at_its_file_line_and_column() {
    let (code, log) = sarif_of(&repo_with_findings());
    assert_eq!(code, Some(1), "errors were found");

    let unknown_role = result_of(&log, "unknown-role");
    assert_eq!(unknown_role["level"], "error");
    assert!(
        unknown_role["message"]["text"]
            .as_str()
            .is_some_and(|text| text.contains("dàta-reader")),
        "{unknown_role:#}"
    );
    let location = &unknown_role["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "grants/data%20team/alex-read.yaml"
    );
    assert_eq!(location["artifactLocation"]["uriBaseId"], "SRCROOT");
    assert_eq!(location["region"]["startLine"], 2);
    assert_eq!(location["region"]["startColumn"], 7);
    let index = unknown_role["ruleIndex"].as_u64().expect("ruleIndex") as usize;
    assert_eq!(lapse::rules::RULES[index].id, "unknown-role");

    let expired = result_of(&log, "expired");
    assert_eq!(expired["level"], "warning");
    assert_eq!(
        expired["locations"][0]["physicalLocation"]["region"]["startLine"],
        5
    );
}

#[test]
fn a_finding_with_its_own_hint_carries_it_in_the_message() {
    let (_, log) = sarif_of(&repo_with_findings());
    let timestamp = result_of(&log, "invalid-timestamp");
    let text = timestamp["message"]["text"].as_str().expect("message text");
    assert!(text.contains("2026-12-06T17:00:00Z"), "{text}");
}

#[test]
fn a_clean_repository_gives_an_empty_result_list_and_exit_0() {
    let repo = Repo::with_grants(&[]);
    repo.write(
        "grants/payments/alex-deploy.yaml",
        "subject: alex@contractor.example
role: payments-deployer
reason: Deploy the payments service for sprint 42
approvers: [maria@example.com]
expires: 2026-11-30T17:00:00Z
",
    );
    let (code, log) = sarif_of(&repo);
    assert_eq!(code, Some(0), "{log:#}");
    assert!(results(&log).is_empty(), "{log:#}");
}

#[test]
fn a_broken_policy_is_still_a_sarif_log_and_exit_2() {
    let (code, log) = sarif_of(&repo_with_broken_policy());
    assert_eq!(code, Some(2));
    let finding = result_of(&log, "parse-error");
    let location = &finding["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "lapse.yaml");
    assert_eq!(location["region"]["startLine"], 4);
}
