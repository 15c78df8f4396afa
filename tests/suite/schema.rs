//! `lapse schema`: JSON Schemas that accept the files lapse accepts and
//! reject what its strict loader rejects, for editors that validate YAML
//! as it is typed.

use crate::common::{POLICY, lapse};
use crate::jsonschema;

use serde_json::{Value, json};

fn schema(kind: &str) -> Value {
    let output = lapse(&["schema", "--kind", kind]);
    assert_eq!(output.code, Some(0));
    serde_json::from_str(&output.stdout).expect("the schema is JSON")
}

/// A YAML file as the JSON value an editor's validator sees.
fn yaml_as_json(text: &str) -> Value {
    serde_saphyr::from_str(text).expect("fixture YAML")
}

fn valid_grant() -> Value {
    yaml_as_json(
        "subject: alex@contractor.example
role: payments-deployer
reason: 'Deploy: the payments service # sprint 42'
ticket: PAY-123
approvers: [maria@example.com]
starts: 2026-11-22T09:00:00Z
expires: 2026-12-06T17:00:00+01:00
",
    )
}

#[test]
fn the_grant_schema_is_closed_and_requires_subject_role_and_expiry() {
    let grant = schema("grant");
    assert_eq!(grant["additionalProperties"], false);
    assert_eq!(grant["required"], json!(["subject", "role", "expires"]));
    for field in ["reason", "ticket", "approvers", "starts"] {
        assert!(grant["properties"][field].is_object(), "{field} missing");
    }
}

#[test]
fn the_policy_schema_is_closed_at_every_level() {
    let policy = schema("policy");
    assert_eq!(policy["required"], json!(["version"]));
    let mut open = Vec::new();
    find_open_objects(&policy, "#", &mut open);
    assert!(open.is_empty(), "these accept unknown fields: {open:?}");
    // Every field a role can have is described, targets included.
    let role = &policy["properties"]["roles"]["additionalProperties"];
    for field in ["aws", "gcp", "azure", "github", "kubernetes", "exceptions"] {
        assert!(role["properties"][field].is_object(), "{field} missing");
    }
}

/// Every object schema that lists `properties` without closing them, as
/// JSON pointers: the loader denies unknown fields everywhere.
fn find_open_objects(schema: &Value, at: &str, open: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            if map.contains_key("properties")
                && map.get("additionalProperties") != Some(&json!(false))
            {
                open.push(at.to_owned());
            }
            for (key, value) in map {
                find_open_objects(value, &format!("{at}/{key}"), open);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                find_open_objects(item, &format!("{at}/{index}"), open);
            }
        }
        _ => {}
    }
}

#[test]
fn all_prints_both_schemas_by_file_kind() {
    let all = schema("all");
    assert_eq!(all["grant"], schema("grant"));
    assert_eq!(all["policy"], schema("policy"));
}

#[test]
fn a_valid_grant_passes_and_an_unknown_field_or_missing_expiry_fails() {
    let Some(validator) = jsonschema::validator() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let schema_path = dir.path().join("grant.schema.json");
    std::fs::write(&schema_path, schema("grant").to_string()).expect("write schema");

    let errors = validator.errors(&schema_path, &valid_grant());
    assert!(errors.is_empty(), "a valid grant was rejected:\n{errors}");

    let mut unknown_field = valid_grant();
    unknown_field["colour"] = json!("blue");
    assert!(
        validator
            .errors(&schema_path, &unknown_field)
            .contains("colour")
    );

    let mut no_expiry = valid_grant();
    no_expiry.as_object_mut().expect("object").remove("expires");
    assert!(
        validator
            .errors(&schema_path, &no_expiry)
            .contains("expires")
    );

    let mut wrong_type = valid_grant();
    wrong_type["approvers"] = json!("maria@example.com");
    assert!(!validator.errors(&schema_path, &wrong_type).is_empty());
}

#[test]
fn a_valid_policy_passes_and_a_bad_duration_or_unknown_field_fails() {
    let Some(validator) = jsonschema::validator() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let schema_path = dir.path().join("policy.schema.json");
    std::fs::write(&schema_path, schema("policy").to_string()).expect("write schema");

    let errors = validator.errors(&schema_path, &yaml_as_json(POLICY));
    assert!(
        errors.is_empty(),
        "the fixture policy was rejected:\n{errors}"
    );

    let mut bad_duration = yaml_as_json(POLICY);
    bad_duration["roles"]["payments-deployer"]["max_duration"] = json!("3 days");
    assert!(
        validator
            .errors(&schema_path, &bad_duration)
            .contains("max_duration")
    );

    let mut unknown_field = yaml_as_json(POLICY);
    unknown_field["roles"]["data-reader"]["gcp"]["region"] = json!("eu");
    assert!(
        validator
            .errors(&schema_path, &unknown_field)
            .contains("region")
    );
}
