//! Kubernetes RBAC: a RoleBinding (or ClusterRoleBinding) of a ClusterRole
//! to every principal as a `User` (`modules/kubernetes`). RBAC has no
//! expiring bindings, so only an apply after expiry revokes them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{NamedRoles, Privileges, Provider, TargetBlock, TargetKind};
use crate::model::Spanned;

/// Users default to the person's e-mail, which is what OIDC-authenticated
/// clusters see.
pub const KIND: TargetKind = TargetKind {
    name: "kubernetes",
    principal_field: |person| person.kubernetes.as_ref(),
    defaults_to_key: true,
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
