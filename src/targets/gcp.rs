//! Google Cloud IAM: a project-level member binding per principal, bounded
//! in time by an IAM condition (`modules/gcp`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{NamedRoles, Privileges, Provider, Revocation, TargetBlock, TargetKind, check_plain};
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
    revocation: Revocation::AtExpiry {
        how: "Google stops honouring the binding (IAM condition on request.time)",
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
    admin: &["roles/owner", "roles/editor"],
    // Roles that act as, or mint credentials for, other principals, and the
    // IAM administration roles that change who holds what. Sources: Google
    // Cloud, "Service account impersonation"
    // (https://cloud.google.com/iam/docs/service-account-impersonation) and
    // "Roles for service account authentication"
    // (https://cloud.google.com/iam/docs/service-account-permissions); Rhino
    // Security Labs, "Privilege Escalation in Google Cloud Platform – Part 1
    // (IAM)" (https://rhinosecuritylabs.com/gcp/privilege-escalation-google-cloud-platform-part-1/).
    escalation: &[
        (
            "roles/iam.serviceaccountuser",
            "runs code as any service account of the project (iam.serviceAccounts.actAs)",
        ),
        (
            "roles/iam.serviceaccounttokencreator",
            "mints access and ID tokens for, and signs as, any service account of the project (iam.serviceAccounts.getAccessToken, signBlob, signJwt)",
        ),
        (
            "roles/iam.serviceaccountopenidtokencreator",
            "mints ID tokens for any service account of the project (iam.serviceAccounts.getOpenIdToken)",
        ),
        (
            "roles/iam.workloadidentityuser",
            "impersonates service accounts from workloads outside them (iam.serviceAccounts.getAccessToken)",
        ),
        (
            "roles/iam.serviceaccountkeyadmin",
            "creates keys for any service account of the project, and the key acts as it (iam.serviceAccountKeys.create)",
        ),
        (
            "roles/iam.serviceaccountadmin",
            "decides who may act as any service account of the project (iam.serviceAccounts.setIamPolicy)",
        ),
        (
            "roles/iam.securityadmin",
            "changes the project's IAM policy, its holder's own bindings included (resourcemanager.projects.setIamPolicy)",
        ),
        (
            "roles/resourcemanager.projectiamadmin",
            "changes the project's IAM policy, its holder's own bindings included (resourcemanager.projects.setIamPolicy)",
        ),
        (
            "roles/resourcemanager.folderiamadmin",
            "changes folder IAM policies, its holder's own bindings included (resourcemanager.folders.setIamPolicy)",
        ),
        (
            "roles/resourcemanager.organizationadmin",
            "changes the organisation's IAM policy (resourcemanager.organizations.setIamPolicy)",
        ),
        (
            "roles/iam.roleadmin",
            "changes custom roles, ones its holder already has included (iam.roles.update)",
        ),
        (
            "roles/iam.organizationroleadmin",
            "changes the organisation's custom roles, ones its holder already has included (iam.roles.update)",
        ),
        (
            "roles/deploymentmanager.editor",
            "deploys as the Deployment Manager service account, an Editor of the project (deploymentmanager.deployments.create)",
        ),
        (
            "roles/cloudbuild.builds.editor",
            "runs builds as the Cloud Build service account (cloudbuild.builds.create)",
        ),
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
