//! Any text as `lapse.yaml`: a policy or findings, the role-catalog rules
//! on whatever loads, and the human renderer on every finding, without
//! panicking or running away.

#![no_main]

mod support;

use std::path::Path;

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;

use lapse::load::parse_policy;
use lapse::rules::{CheckContext, check_all};

fuzz_target!(|text: &str| {
    let path = Path::new("lapse.yaml");
    let findings = match parse_policy(path, text) {
        Ok(policy) => {
            let context = CheckContext::new(&policy, DateTime::UNIX_EPOCH);
            check_all(&[], path, &context)
        }
        Err(findings) => findings,
    };
    support::show_to_a_terminal(path, text, &findings);
});
