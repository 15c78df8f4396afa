//! Kubernetes RBAC: a RoleBinding (or ClusterRoleBinding) of a ClusterRole
//! to every principal as a `User` (`modules/kubernetes`). RBAC has no
//! expiring bindings, so only an apply after expiry revokes them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{NamedRoles, Privileges, Provider, TargetBlock, TargetKind, check_plain};
use crate::model::Spanned;

/// Users default to the person's e-mail, which is what OIDC-authenticated
/// clusters see.
pub const KIND: TargetKind = TargetKind {
    name: "kubernetes",
    principal_field: |person| person.kubernetes.as_ref(),
    defaults_to_key: true,
    check_principal,
    provider: Provider {
        local: "kubernetes",
        source: "hashicorp/kubernetes",
        version: ">= 2.20",
    },
    templates: &[(
        "kubernetes.tf.j2",
        include_str!("../../templates/kubernetes.tf.j2"),
    )],
};

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KubernetesTarget {
    /// Namespace of the RoleBinding; without it a ClusterRoleBinding is made.
    #[serde(default)]
    pub namespace: Option<String>,
    /// ClusterRole the binding refers to, for example `view` or `edit`.
    pub cluster_role: Spanned<String>,
}

const ROLES: NamedRoles = NamedRoles {
    admin: &["cluster-admin", "admin"],
    basic: &[],
};

impl TargetBlock for KubernetesTarget {
    fn kind(&self) -> &'static TargetKind {
        &KIND
    }

    fn privileges(&self) -> Privileges<'_> {
        Privileges::Named {
            granted: &self.cluster_role,
            lists: &ROLES,
        }
    }

    fn view(&self) -> minijinja::Value {
        minijinja::Value::from_serialize(self)
    }
}

/// A user name a binding can name. The `system:` prefix is Kubernetes' own
/// (https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-subjects):
/// a grant to `system:anonymous` would be a grant to every unauthenticated
/// request, and one to a controller's name would act as that controller.
fn check_principal(user: &str) -> Result<(), String> {
    check_plain(user)?;
    if user.starts_with("system:") {
        Err("the `system:` prefix is reserved for Kubernetes' own identities".to_owned())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_are_plain_and_never_system_identities() {
        assert!(check_principal("priya@example.com").is_ok());
        assert!(check_principal("https://issuer.example#1234").is_ok());
        for user in [
            "system:anonymous",
            "system:serviceaccount:kube-system:default",
            "",
            " priya",
            "a\u{7}b",
        ] {
            assert!(check_principal(user).is_err(), "{user}");
        }
    }
}
