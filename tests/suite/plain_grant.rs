//! The fast grant reader must agree with the full YAML parser wherever it
//! answers: same fields, same values, same positions. Thousands of grant
//! texts are generated from tricky pieces (quotes, comments, nulls, flow
//! and block lists, odd spacing) and mutated at random, and every text the
//! fast reader accepts is parsed by both.

use crate::common;

use std::path::Path;

use common::Xorshift;
use lapse::load::plain_grant::{check_agreement, parse_plain_grant};

const CASES: usize = 20_000;

const FIELDS: &[&str] = &[
    "reason", "ticket", "starts", "expires", "reason", "ticket", "starts", "expires", "subject",
    "colour", "Subject",
];

/// Values the fast reader should take.
const PLAIN: &[&str] = &[
    "alex@example.com",
    "group:leads",
    "2026-12-06T17:00:00Z",
    "Release 4.2 (INC-1)",
    "a b  c",
    "a:b",
    "it's",
    "1",
    "true",
    "x|y",
];

/// Values it should leave to the full parser, or that a mutation turns into such.
const TRICKY: &[&str] = &[
    "a: b",
    "a:",
    "a #b",
    "a#b",
    "null",
    "Null",
    "~",
    "",
    "'quoted'",
    "\"quoted\"",
    "0x1F",
    "a,b",
    "a[b]",
    "-a",
    "- a",
    "a ",
    " a",
    "!tag a",
    "&anchor a",
    "*alias",
    "a\tb",
    "ålex",
    "?x",
    "@x",
    "%x",
    "|",
    ">",
    "[a]",
    "{a: b}",
];

struct Rng(Xorshift);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0.below(n)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn value(&mut self) -> &'static str {
        if self.chance(80) {
            self.pick(PLAIN)
        } else {
            self.pick(TRICKY)
        }
    }

    fn chance(&mut self, in_hundred: usize) -> bool {
        self.below(100) < in_hundred
    }
}

fn approvers(rng: &mut Rng) -> String {
    let count = rng.below(4);
    let items: Vec<&str> = (0..count).map(|_| rng.value()).collect();
    if rng.chance(50) {
        let separator = rng.pick(&[", ", ", ", ", ", ",", " , "]);
        let padding = rng.pick(&["", "", "", " "]);
        format!("approvers: [{padding}{}{padding}]\n", items.join(separator))
    } else {
        let mut text = String::from("approvers:\n");
        for item in items {
            let indent = rng.pick(&["  ", "  ", "  ", "", "    ", " "]);
            if rng.chance(10) {
                text.push_str(rng.pick(&["# note\n", "\n", "  # note\n"]));
            }
            text.push_str(&format!("{indent}- {item}\n"));
        }
        text
    }
}

fn grant_text(rng: &mut Rng) -> String {
    let mut lines = vec![
        format!("subject: {}\n", rng.pick(&PLAIN[..4])),
        format!("role: {}\n", rng.pick(&["deployer", "read-only", "role7"])),
    ];
    for _ in 0..rng.below(3) {
        let separator = rng.pick(&[": ", ": ", ": ", ": ", ":", " : ", ":  "]);
        lines.push(format!("{}{separator}{}\n", rng.pick(FIELDS), rng.value()));
    }
    if rng.chance(60) {
        lines.push(approvers(rng));
    }
    if rng.chance(20) {
        lines.push(
            rng.pick(&["# comment\n", "\n", " # indented\n", "---\n", "...\n"])
                .into(),
        );
    }
    for i in (1..lines.len()).rev() {
        lines.swap(i, rng.below(i + 1));
    }
    let mut text = lines.concat();
    if rng.chance(10) {
        text.pop();
    }
    if rng.chance(10) {
        text = text.replace('\n', "\r\n");
    }
    if rng.chance(30) {
        mutate(rng, &mut text);
    }
    text
}

/// Inserts or removes one character where it is most likely to matter.
fn mutate(rng: &mut Rng, text: &mut String) {
    let at = rng.below(text.len() + 1);
    if !text.is_char_boundary(at) {
        return;
    }
    if rng.chance(50) && at < text.len() {
        let end = (at + 1..=text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        text.replace_range(at..end, "");
    } else {
        text.insert_str(
            at,
            rng.pick(&[" ", ":", "#", "-", "'", "\n", "\n  ", ",", "[", "~"]),
        );
    }
}

#[test]
fn fast_reader_agrees_with_the_full_parser() {
    let mut rng = Rng(Xorshift(0x5eed_1a95));
    let (mut accepted, mut declined) = (0, 0);
    for case in 0..CASES {
        let text = grant_text(&mut rng);
        if let Err(disagreement) = check_agreement(&text) {
            panic!("case {case} {text:?}: {disagreement}");
        }
        match parse_plain_grant(&text) {
            Some(_) => accepted += 1,
            None => declined += 1,
        }
    }
    // Both sides of the fast path must be exercised for the comparison to mean anything.
    assert!(
        accepted > CASES / 10,
        "only {accepted} texts took the fast path"
    );
    assert!(declined > CASES / 10, "only {declined} texts were declined");
}

/// The example repository's grants are what people write by hand; if they
/// fell back to the full parser, a large repository would check at a
/// fraction of the speed without any test noticing.
#[test]
fn the_example_grants_take_the_fast_path() {
    let mut seen = 0;
    let mut pending = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("grants")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(parse_plain_grant(&text).is_some(), "{}", path.display());
                seen += 1;
            }
        }
    }
    assert!(seen >= 10, "only {seen} example grants found");
}
