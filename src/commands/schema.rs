//! `lapse schema`: the JSON Schema of grant and policy files, generated
//! from the very types the loader deserialises, so the schema an editor
//! validates against cannot drift from what `lapse check` accepts.

use std::io::Write;

use serde_json::Value;

use clap::{Args, ValueEnum};
use schemars::schema_for;

use crate::cli::GlobalArgs;
use crate::model::{GrantFile, Policy};

use super::Outcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// A grant file, `grants/**/<grant-id>.yaml`.
    Grant,
    /// The policy file, `lapse.yaml`.
    Policy,
    /// Both, as `{"grant": <schema>, "policy": <schema>}`.
    All,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which file's schema to print.
    #[arg(long, value_enum, default_value_t = SchemaKind::All)]
    pub kind: SchemaKind,
}

pub fn run(_global: &GlobalArgs, args: &SchemaArgs) -> anyhow::Result<Outcome> {
    let document = match args.kind {
        SchemaKind::Grant => grant_schema(),
        SchemaKind::Policy => policy_schema(),
        SchemaKind::All => serde_json::json!({
            "grant": grant_schema(),
            "policy": policy_schema(),
        }),
    };
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &document)?;
    writeln!(stdout)?;
    stdout.flush()?;
    Ok(Outcome::Clean)
}

/// `$id`s name each schema and its format version, so that editors
/// (yaml-language-server) and other schemas can refer to them; they are
/// names, not addresses to fetch.
const GRANT_SCHEMA_ID: &str = "urn:lapse:schema:grant:1";
const POLICY_SCHEMA_ID: &str = "urn:lapse:schema:policy:1";

/// The policy schema, with its `$id`.
pub fn policy_schema() -> Value {
    with_id(schema_for!(Policy).to_value(), POLICY_SCHEMA_ID)
}

fn with_id(mut schema: Value, id: &str) -> Value {
    if let Some(object) = schema.as_object_mut() {
        object.insert("$id".to_owned(), Value::from(id));
    }
    schema
}

/// The grant schema, with `expires` required: DESIGN makes it mandatory,
/// and only the loader keeps it optional, so that a missing expiry is a
/// `missing-expiry` finding with a position rather than a parse failure.
pub fn grant_schema() -> Value {
    let mut schema = with_id(schema_for!(GrantFile).to_value(), GRANT_SCHEMA_ID);
    if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
        required.push(Value::from("expires"));
    }
    if let Some(expires) = schema.pointer_mut("/properties/expires") {
        *expires = serde_json::json!({
            "description": expires["description"],
            "type": "string",
            "format": "date-time",
        });
    }
    schema
}
