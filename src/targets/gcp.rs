//! Google Cloud IAM: a project-level member binding per principal, bounded
//! in time by an IAM condition (`modules/gcp`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{NamedRoles, Privileges, Provider, TargetBlock, TargetKind};
use crate::model::Spanned;

pub const KIND: TargetKind = TargetKind {
    name: "gcp",
    principal_field: |person| person.gcp.as_ref(),
    defaults_to_key: false,
    provider: Provider {
        local: "google",
        source: "hashicorp/google",
        version: ">= 5.0",
    },
    templates: &[("gcp.tf.j2", include_str!("../../templates/gcp.tf.j2"))],
};

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GcpTarget {
    /// Project the IAM binding is made on.
    pub project: String,
    /// IAM role, for example `roles/run.developer`.
    pub role: Spanned<String>,
}

const ROLES: NamedRoles = NamedRoles {
    admin: &[
        "roles/owner",
        "roles/editor",
        "roles/iam.securityadmin",
        "roles/resourcemanager.projectiamadmin",
    ],
};

impl TargetBlock for GcpTarget {
    fn kind(&self) -> &'static TargetKind {
        &KIND
    }

    fn privileges(&self) -> Privileges<'_> {
        Privileges::Named {
            granted: &self.role,
            lists: &ROLES,
        }
    }

    fn view(&self) -> minijinja::Value {
        minijinja::Value::from_serialize(self)
    }
}
