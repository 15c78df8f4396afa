//! Any text as `lapse.yaml`: a policy or findings, and the role-catalog
//! rules on whatever loads, without panicking or running away.

#![no_main]

use std::path::Path;

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;

use lapse::load::parse_policy;
use lapse::rules::{CheckContext, check_all};

fuzz_target!(|text: &str| {
    let path = Path::new("lapse.yaml");
    if let Ok(policy) = parse_policy(path, text) {
        let context = CheckContext::new(&policy, DateTime::UNIX_EPOCH);
        check_all(&[], path, &context);
    }
});
