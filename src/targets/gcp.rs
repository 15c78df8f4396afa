//! Google Cloud IAM: a project-level member binding per principal, bounded
//! in time by an IAM condition (`modules/gcp`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{NamedRoles, Privileges, Provider, TargetBlock, TargetKind, check_plain};
use crate::model::Spanned;

pub const KIND: TargetKind = TargetKind {
    name: "gcp",
    principal_field: |person| person.gcp.as_ref(),
    defaults_to_key: false,
    check_principal,
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
    // "You cannot use conditions when you grant legacy basic roles"
    // (https://cloud.google.com/iam/docs/conditions-overview#limitations):
    // the binding's condition is the grant's expiry, so Google refuses the
    // binding at apply, and no exception can make it expire.
    basic: &["roles/viewer", "roles/editor", "roles/owner"],
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

/// A member of a conditional IAM binding, in the forms of
/// https://cloud.google.com/iam/docs/principal-identifiers. Refused:
/// `allUsers` and `allAuthenticatedUsers`, which stand for everyone and
/// take no IAM condition (https://cloud.google.com/iam/docs/conditions-overview#limitations),
/// so such a grant could never expire; a bare e-mail, which Google refuses
/// without its type; and `deleted:` members, which cannot be granted.
fn check_principal(member: &str) -> Result<(), String> {
    check_plain(member)?;
    if matches!(member, "allUsers" | "allAuthenticatedUsers") {
        return Err(
            "it stands for everyone, and IAM takes no condition on it, so the grant could never expire"
                .to_owned(),
        );
    }
    let Some((kind, identity)) = member.split_once(':') else {
        return Err(format!(
            "a member needs its type, for example `user:{member}`"
        ));
    };
    let valid = match kind {
        "user" | "group" | "serviceAccount" => is_email(identity),
        "domain" => is_domain(identity),
        "principal" | "principalSet" => identity.starts_with("//") && identity.len() > 2,
        "deleted" => return Err("a deleted member cannot be granted a role".to_owned()),
        _ => {
            return Err(format!(
                "`{kind}:` is not a member type; use user:, group:, serviceAccount:, domain:, principal:// or principalSet://"
            ));
        }
    };
    if valid {
        Ok(())
    } else {
        Err(format!("`{identity}` is not a valid {kind} identity"))
    }
}

fn is_email(text: &str) -> bool {
    text.split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && is_domain(domain))
}

fn is_domain(text: &str) -> bool {
    text.contains('.')
        && text.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_need_a_type_and_never_stand_for_everyone() {
        for member in [
            "user:alex@example.com",
            "group:payments@example.com",
            "serviceAccount:deploy@proj.iam.gserviceaccount.com",
            "domain:example.com",
            "principal://iam.googleapis.com/locations/global/workforcePools/p/subject/s",
        ] {
            assert_eq!(check_principal(member), Ok(()), "{member}");
        }
        for member in [
            "allUsers",
            "allAuthenticatedUsers",
            "alex@example.com",
            "user:alex",
            "deleted:user:alex@example.com?uid=1",
            "users:alex@example.com",
            "user:alex@example.com ",
        ] {
            assert!(check_principal(member).is_err(), "{member}");
        }
    }
}
