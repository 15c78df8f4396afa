//! Azure RBAC: a Privileged Identity Management active role assignment per
//! principal, whose schedule ends at expiry (`modules/azure`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{NamedRoles, Privileges, Provider, TargetBlock, TargetKind};
use crate::model::{Position, Spanned};

pub const KIND: TargetKind = TargetKind {
    name: "azure",
    principal_field: |person| person.azure.as_ref(),
    defaults_to_key: false,
    check_principal,
    provider: Provider {
        local: "azurerm",
        source: "hashicorp/azurerm",
        // azurerm_pim_active_role_assignment first shipped in 3.64.0, and
        // its changelog (CHANGELOG-v3.md) fixes, for what lapse renders:
        // assignments that disappeared or could not be imported after 45
        // days (3.94.0, #24524), a hard dependency on the schedule-requests
        // API that made assignments unmanageable over time (3.104.0,
        // #25956), and a persistent diff when no `ticket` is given (3.105.0,
        // #26059; lapse leaves it out for a grant without a ticket). Grants
        // may last longer than 45 days, and most have no ticket, so the
        // floor is 3.105.
        version: ">= 3.105",
    },
    templates: &[("azure.tf.j2", include_str!("../../templates/azure.tf.j2"))],
};

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AzureTarget {
    /// Scope of the assignment, for example `/subscriptions/<id>/resourceGroups/<rg>`.
    pub scope: Spanned<String>,
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

    fn problems(&self) -> Vec<(Position, String)> {
        scope_problem(&self.scope)
            .map(|problem| (self.scope.at, problem))
            .into_iter()
            .collect()
    }

    fn view(&self) -> minijinja::Value {
        minijinja::Value::from_serialize(self)
    }
}

/// Why `scope` is not one a PIM assignment can have, if it is not. The
/// module names the role definition by an id scoped like the assignment
/// (`/subscriptions/<id>/providers/Microsoft.Authorization/roleDefinitions/<guid>`
/// below a subscription, unscoped at a management group), which is what
/// the provider matches the created assignment against; it needs the
/// subscription id from the scope.
fn scope_problem(scope: &str) -> Option<String> {
    let lowered = scope.to_ascii_lowercase();
    let in_subscription = segment_after(&lowered, "/subscriptions/").is_some_and(is_guid);
    let in_group = segment_after(
        &lowered,
        "/providers/microsoft.management/managementgroups/",
    )
    .is_some_and(|name| !name.is_empty());
    (!in_subscription && !in_group).then(|| {
        format!(
            "scope `{scope}` must start with /subscriptions/<subscription id, a GUID> or /providers/Microsoft.Management/managementGroups/<name>"
        )
    })
}

/// The path segment of `path` right after `prefix`, if it starts with it.
fn segment_after<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(prefix)?;
    Some(rest.split('/').next().unwrap_or(rest))
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
    fn scopes_are_below_a_subscription_or_a_management_group() {
        for scope in [
            "/subscriptions/00000000-0000-0000-0000-000000000000",
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/platform-prod",
            "/providers/Microsoft.Management/managementGroups/platform",
        ] {
            assert_eq!(scope_problem(scope), None, "{scope}");
        }
        for scope in [
            "/subscriptions/0000/resourceGroups/payments",
            "/resourceGroups/payments",
            "/providers/Microsoft.Management/managementGroups/",
            "subscriptions/00000000-0000-0000-0000-000000000000",
        ] {
            assert!(scope_problem(scope).is_some(), "{scope}");
        }
    }

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
