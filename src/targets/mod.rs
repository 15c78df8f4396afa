//! The targets lapse provisions, one file each. A target's file holds the
//! block a role writes for it in `lapse.yaml`, how a person's principal
//! there is found and checked, what the least-privilege rules judge in it,
//! what its template sees, and the provider its module needs. Everything
//! else (loading, rules, render) reads targets through [`TARGETS`] and
//! [`TargetBlock`], so a new target is a file here, a line in [`TARGETS`], a
//! field of `Role` (and of `Person` for its principal), its template and its
//! module.

pub mod aws;
pub mod azure;
pub mod gcp;
pub mod github;
pub mod kubernetes;

use std::fmt::Debug;

use crate::model::policy::Person;
use crate::model::{Position, Spanned};

/// Every target, in the order lapse's documentation lists them.
pub const TARGETS: &[&TargetKind] = &[
    &aws::KIND,
    &gcp::KIND,
    &azure::KIND,
    &github::KIND,
    &kubernetes::KIND,
];

/// What lapse knows about one target, whatever a role asks of it.
#[derive(Debug)]
pub struct TargetKind {
    /// The key of its block in a role, and of the principal in a person.
    pub name: &'static str,
    /// The person's principal as written in `lapse.yaml`, if it is.
    pub principal_field: fn(&Person) -> Option<&Spanned<String>>,
    /// Whether a person without that field is known at the target by their
    /// `lapse.yaml` key (an e-mail) instead.
    pub defaults_to_key: bool,
    /// Why a principal cannot be one the target accepts, if it cannot. Run
    /// when the policy loads, so a typo or a principal that stands for
    /// everyone never reaches Terraform.
    pub check_principal: fn(&str) -> Result<(), String>,
    /// The Terraform provider its modules use.
    pub provider: Provider,
    /// Its built-in templates: (file name, text).
    pub templates: &'static [(&'static str, &'static str)],
}

impl TargetKind {
    /// The identity a person has at the target, if any.
    pub fn principal_of<'a>(&self, key: &'a str, person: &'a Person) -> Option<&'a str> {
        match (self.principal_field)(person) {
            Some(principal) => Some(principal.value.as_str()),
            None if self.defaults_to_key => Some(key),
            None => None,
        }
    }
}

/// A provider requirement of the rendered `versions.tf`.
#[derive(Debug, serde::Serialize)]
pub struct Provider {
    /// The provider's local name, as modules refer to it (`azurerm`).
    #[serde(skip)]
    pub local: &'static str,
    pub source: &'static str,
    pub version: &'static str,
}

/// A role's target block, whichever target it is for.
pub trait TargetBlock: Debug + Sync {
    fn kind(&self) -> &'static TargetKind;

    /// The module a grant of this role instantiates (`modules/<name>`),
    /// written by the template of the same name (`templates/<name>.tf.j2`).
    fn module(&self) -> &'static str {
        self.kind().name
    }

    /// What the least-privilege rules judge in the block.
    fn privileges(&self) -> Privileges<'_>;

    /// Problems of the block that its types cannot express: where, and
    /// what is wrong.
    fn problems(&self) -> Vec<(Position, String)> {
        Vec::new()
    }

    /// The block as its template sees it, under `target`; field names are
    /// those of `lapse.yaml`.
    fn view(&self) -> minijinja::Value;
}

/// What a role grants at its target, in the terms the least-privilege rules
/// judge (`src/rules/privilege.rs`).
#[derive(Debug)]
pub enum Privileges<'a> {
    /// IAM policy statements, judged action by action and resource by
    /// resource.
    Statements(&'a [aws::AwsStatement]),
    /// One role or permission the target defines, judged by name against
    /// the target's lists.
    Named {
        granted: &'a Spanned<String>,
        lists: &'static NamedRoles,
    },
}

/// A target's roles that the least-privilege rules single out, lower-case
/// (names are compared case-insensitively).
#[derive(Debug)]
pub struct NamedRoles {
    /// Owner-level roles (`admin-role`).
    pub admin: &'static [&'static str],
    /// Roles the target cannot bound in time, so that a grant of them could
    /// never expire in the cloud (`basic-role`): refused whatever the
    /// role's exceptions.
    pub basic: &'static [&'static str],
}

/// Every principal of `person` (lapse.yaml key `key`) that its target
/// would refuse: where it is written, and why.
pub fn principal_problems(key: &str, person: &Person) -> Vec<(Position, String)> {
    TARGETS
        .iter()
        .filter_map(|kind| {
            let declared = (kind.principal_field)(person);
            let principal = kind.principal_of(key, person)?;
            let reason = (kind.check_principal)(principal).err()?;
            let (at, field) = match declared {
                Some(declared) => (declared.at, format!("`{}`", kind.name)),
                // The key stands in for the field, so the key is at fault.
                None => (
                    Position::new(1, 1),
                    format!("`{}` (its key, as it has none)", kind.name),
                ),
            };
            Some((at, format!("{field} of `{key}` is `{principal}`: {reason}")))
        })
        .collect()
}

/// Whether `text` is free of what no principal of any target contains:
/// control characters and surrounding white space.
pub fn check_plain(text: &str) -> Result<(), String> {
    if text.is_empty() {
        Err("it is empty".to_owned())
    } else if text.chars().any(char::is_control) {
        Err("it contains a control character".to_owned())
    } else if text.trim() != text {
        Err("it starts or ends with white space".to_owned())
    } else {
        Ok(())
    }
}

/// `aws, gcp, azure, github or kubernetes`: the target names for messages.
pub fn names_for_message() -> String {
    let names: Vec<&str> = TARGETS.iter().map(|kind| kind.name).collect();
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}
