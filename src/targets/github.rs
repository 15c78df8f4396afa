//! GitHub: a repository collaborator per principal (`modules/github`).
//! GitHub has no expiring access, so only an apply after expiry revokes it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{NamedRoles, Privileges, Provider, TargetBlock, TargetKind};
use crate::model::Spanned;

pub const KIND: TargetKind = TargetKind {
    name: "github",
    principal_field: |person| person.github.as_ref(),
    defaults_to_key: false,
    provider: Provider {
        local: "github",
        source: "integrations/github",
        version: ">= 6.0",
    },
    templates: &[("github.tf.j2", include_str!("../../templates/github.tf.j2"))],
};

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubTarget {
    /// `owner/name` of the repository.
    pub repository: String,
    /// One of pull, triage, push, maintain, admin.
    pub permission: Spanned<String>,
}

const ROLES: NamedRoles = NamedRoles { admin: &["admin"] };

impl TargetBlock for GithubTarget {
    fn kind(&self) -> &'static TargetKind {
        &KIND
    }

    fn privileges(&self) -> Privileges<'_> {
        Privileges::Named {
            granted: &self.permission,
            lists: &ROLES,
        }
    }

    fn view(&self) -> minijinja::Value {
        minijinja::Value::from_serialize(self)
    }
}
