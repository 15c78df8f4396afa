//! Any text as a grant file: the loader returns a grant or a finding, the
//! rules judge whatever loads, and the human renderer shows every finding
//! (escaped, marker under the value) without panicking or running away.

#![no_main]

mod support;

use std::path::Path;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;

use lapse::load::{parse_grant, parse_policy};
use lapse::model::Policy;
use lapse::rules::{CheckContext, check_all};

/// A policy with a contract end, an alias, a group and a role limit, so
/// that loaded grants reach every rule.
static POLICY: LazyLock<Policy> = LazyLock::new(|| {
    let text = "\
version: 1
people:
  alex@example.com:
    aliases: [alex@users.noreply.github.com]
    contract_ends: 2026-12-31T23:59:59Z
  maria@example.com: {}
groups:
  leads: [maria@example.com]
roles:
  deployer:
    max_duration: 14d
    approvers: [group:leads]
    github: {repository: o/r, permission: push}
";
    parse_policy(Path::new("lapse.yaml"), text).expect("the fuzz policy is valid")
});

static NOW: LazyLock<DateTime<Utc>> = LazyLock::new(|| {
    DateTime::parse_from_rfc3339("2026-11-22T09:00:00Z")
        .expect("valid")
        .to_utc()
});

fuzz_target!(|text: &str| {
    let path = Path::new("grants/team/fuzz.yaml");
    let findings = match parse_grant(path, text) {
        Ok(grant) => {
            let context = CheckContext::new(&POLICY, *NOW);
            check_all(&[grant.clone(), grant], Path::new("lapse.yaml"), &context)
        }
        Err(finding) => vec![finding],
    };
    support::show_to_a_terminal(path, text, &findings);
});
