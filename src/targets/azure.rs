//! Azure RBAC: a Privileged Identity Management active role assignment per
//! principal, whose schedule ends at expiry (`modules/azure`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{NamedRoles, Privileges, Provider, TargetBlock, TargetKind};
use crate::model::Spanned;

pub const KIND: TargetKind = TargetKind {
    name: "azure",
    principal_field: |person| person.azure.as_ref(),
    defaults_to_key: false,
    provider: Provider {
        local: "azurerm",
        source: "hashicorp/azurerm",
        version: ">= 3.60",
    },
    templates: &[("azure.tf.j2", include_str!("../../templates/azure.tf.j2"))],
};

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AzureTarget {
    /// Scope of the assignment, for example `/subscriptions/<id>/resourceGroups/<rg>`.
    pub scope: String,
    /// Built-in or custom role definition name, for example `Reader`.
    pub role: Spanned<String>,
}

const ROLES: NamedRoles = NamedRoles {
    admin: &[
        "owner",
        "contributor",
        "user access administrator",
        "role based access control administrator",
    ],
};

impl TargetBlock for AzureTarget {
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
