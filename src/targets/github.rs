//! GitHub: a repository collaborator per principal (`modules/github`).
//! GitHub has no expiring access, so only an apply after expiry revokes it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{NamedRoles, Privileges, Provider, TargetBlock, TargetKind};
use crate::model::{Position, Spanned};

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
    /// `owner/name` of the repository; the owner is checked against the
    /// provider's at plan time.
    pub repository: Spanned<String>,
    /// One of pull, triage, push, maintain, admin.
    pub permission: Spanned<String>,
}

const ROLES: NamedRoles = NamedRoles {
    admin: &["admin"],
    escalation: &[],
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

    fn problems(&self) -> Vec<(Position, String)> {
        repository_problem(&self.repository)
            .map(|problem| (self.repository.at, problem))
            .into_iter()
            .collect()
    }

    fn view(&self) -> minijinja::Value {
        minijinja::Value::from_serialize(self)
    }
}

/// Why `repository` is not `owner/name`, if it is not. The owner is kept:
/// the module checks that the provider works for that owner, since a
/// provider configured for another one would otherwise give access to its
/// repository of the same name.
fn repository_problem(repository: &str) -> Option<String> {
    let Some((owner, name)) = repository.split_once('/') else {
        return Some(format!(
            "repository `{repository}` must be owner/name, for example example-org/{repository}"
        ));
    };
    if let Err(why) = check_login(owner) {
        return Some(format!(
            "the owner `{owner}` of repository `{repository}` is not an account name: {why}"
        ));
    }
    // Repository names: letters, digits, `.`, `_` and `-`, up to 100.
    let name_ok = (1..=100).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    (!name_ok).then(|| {
        format!(
            "`{name}` in repository `{repository}` is not a repository name (letters, digits, `.`, `_` and `-`)"
        )
    })
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
