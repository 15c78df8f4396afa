//! The README is the user's manual: every rule lapse can report must be
//! documented there, with an example, under its exact id.

use lapse::rules::RULES;

#[test]
fn every_rule_is_documented_in_the_readme() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let undocumented: Vec<_> = RULES
        .iter()
        .map(|rule| rule.id)
        .filter(|id| !readme.contains(&format!("`{id}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "rules missing from README.md: {undocumented:?}"
    );
}

#[test]
fn rule_ids_are_unique_and_kebab_case() {
    let mut ids: Vec<_> = RULES.iter().map(|rule| rule.id).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(before, ids.len(), "a rule id is registered twice");
    for id in ids {
        assert!(
            id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "{id}"
        );
    }
}
