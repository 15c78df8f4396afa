//! Validation against JSON Schemas with Python's `jsonschema`, a validator
//! independent of the code that writes the documents
//! (https://python-jsonschema.readthedocs.io). It picks the draft from the
//! schema's own `$schema`: draft-07 for SARIF, 2020-12 for schemars.
//!
//! CI installs the validator and the official SARIF schema and sets
//! `LAPSE_REQUIRE_SARIF_SCHEMA=1`, which makes these checks mandatory; on a
//! developer machine without them the tests print a notice and pass.

#![allow(dead_code, reason = "each test crate uses the part it needs")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Set by CI: a missing validator or schema fails the test instead of skipping it.
const REQUIRE_VAR: &str = "LAPSE_REQUIRE_SARIF_SCHEMA";
/// Path of the official `sarif-schema-2.1.0.json`.
const SARIF_SCHEMA_VAR: &str = "LAPSE_SARIF_SCHEMA";

const VALIDATE: &str = r#"
import json, sys
from jsonschema import validators
schema = json.load(open(sys.argv[1], encoding="utf-8"))
instance = json.load(open(sys.argv[2], encoding="utf-8"))
cls = validators.validator_for(schema)
cls.check_schema(schema)
errors = sorted(cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(instance), key=str)
for error in errors:
    print(f"{error.json_path}: {error.message}")
sys.exit(1 if errors else 0)
"#;

/// `None` (after a notice, or a panic when CI requires validation) when the
/// validator cannot run here.
pub fn validator() -> Option<Validator> {
    let probe = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .output();
    match probe {
        Ok(output) if output.status.success() => Some(Validator),
        _ => unavailable(
            "python3 with the `jsonschema` package is not installed (pip install jsonschema)",
        ),
    }
}

/// The official SARIF 2.1.0 schema named by `LAPSE_SARIF_SCHEMA`, and the
/// validator, or `None` as for [`validator`].
pub fn sarif_schema() -> Option<(Validator, PathBuf)> {
    let validator = validator()?;
    let Some(path) = std::env::var_os(SARIF_SCHEMA_VAR).map(PathBuf::from) else {
        return unavailable(&format!(
            "{SARIF_SCHEMA_VAR} does not name the official sarif-schema-2.1.0.json"
        ));
    };
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{SARIF_SCHEMA_VAR}={}: {error}", path.display()));
    let schema: Value = serde_json::from_str(&text).expect("the SARIF schema is JSON");
    // Guard against a look-alike (a release candidate, a vendor's edit):
    // the OASIS TC's schema names itself by one of these ids, the first in
    // the TC's repository (draft-07), the second in the errata 01 standard
    // (draft-04, `id`).
    let official = [
        "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json",
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
    ];
    let id = schema.get("$id").or_else(|| schema.get("id"));
    assert!(
        id.and_then(Value::as_str)
            .is_some_and(|id| official.contains(&id)),
        "{} is not the official SARIF 2.1.0 schema (id {id:?})",
        path.display()
    );
    Some((validator, path))
}

fn unavailable<T>(reason: &str) -> Option<T> {
    if std::env::var(REQUIRE_VAR).as_deref() == Ok("1") {
        panic!("{REQUIRE_VAR}=1 but {reason}");
    }
    // Written past the test harness's capture (which only takes `eprintln!`),
    // so the skip shows in the `cargo test` output.
    let _ = writeln!(
        std::io::stderr(),
        "notice: schema validation skipped: {reason}"
    );
    None
}

pub struct Validator;

impl Validator {
    /// The validator's complaints about `instance`, one per line; empty when valid.
    pub fn errors(&self, schema: &Path, instance: &Value) -> String {
        let dir = tempfile::tempdir().expect("temporary directory");
        let instance_path = dir.path().join("instance.json");
        std::fs::write(&instance_path, instance.to_string()).expect("write instance");
        let output = Command::new("python3")
            .args(["-c", VALIDATE])
            .arg(schema)
            .arg(&instance_path)
            .output()
            .expect("python3 runs");
        let complaints = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success() || !complaints.is_empty(),
            "the validator failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        complaints
    }
}
