//! Any text: where the fast grant reader answers, the full YAML parser
//! must give the same values at the same positions.

#![no_main]

use libfuzzer_sys::fuzz_target;

use lapse::load::plain_grant::check_agreement;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(disagreement) = check_agreement(text) {
            panic!("{text:?}: {disagreement}");
        }
    }
});
