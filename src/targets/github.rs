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
    check_principal: check_login,
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

const ROLES: NamedRoles = NamedRoles {
    admin: &["admin"],
    basic: &[],
};

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

/// GitHub's login syntax: 1 to 39 letters, digits and single hyphens, not
/// starting or ending with one
/// (https://docs.github.com/en/enterprise-cloud@latest/admin/managing-iam/iam-configuration-reference/username-considerations-for-external-authentication).
pub fn check_login(login: &str) -> Result<(), String> {
    let well_formed = (1..=39).contains(&login.len())
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !login.starts_with('-')
        && !login.ends_with('-')
        && !login.contains("--");
    if well_formed {
        Ok(())
    } else {
        Err(
            "a GitHub login is 1 to 39 letters, digits and single hyphens, not at either end"
                .to_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_follow_github_syntax() {
        for login in ["alex-gh", "a", "A1-b2"] {
            assert_eq!(check_login(login), Ok(()), "{login}");
        }
        for login in [
            "",
            "-alex",
            "alex-",
            "al--ex",
            "alex@example.com",
            "alex gh",
            &"a".repeat(40),
        ] {
            assert!(check_login(login).is_err(), "{login}");
        }
    }
}
