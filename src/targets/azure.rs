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
    check_principal,
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
    basic: &[],
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

/// An Entra ID object id: a GUID, which the provider requires of
/// `principal_id` (it validates it as a UUID).
fn check_principal(object_id: &str) -> Result<(), String> {
    if is_guid(object_id) {
        Ok(())
    } else {
        Err(
            "an Entra ID object id is a GUID, such as 3f1c9a52-7d4e-4b8a-9c61-2e5d8f0b7a13"
                .to_owned(),
        )
    }
}

/// `8-4-4-4-12` hexadecimal digits.
pub fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_are_guids() {
        assert!(check_principal("3f1c9a52-7d4e-4b8a-9c61-2e5d8f0b7a13").is_ok());
        for id in [
            "sam@example.com",
            "3f1c9a52-7d4e-4b8a-9c61-2e5d8f0b7a1",
            "3f1c9a527d4e4b8a9c612e5d8f0b7a13",
            "3f1c9a52-7d4e-4b8a-9c61-2e5d8f0b7a1g",
        ] {
            assert!(check_principal(id).is_err(), "{id}");
        }
    }
}
