//! GitHub: a repository collaborator (`modules/github`) or a team member
//! (`modules/github_team`) per principal. GitHub has no expiring access,
//! so only an apply after expiry revokes it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{NamedRoles, Privileges, Provider, Revocation, TargetBlock, TargetKind};
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
    revocation: Revocation::AtNextApply {
        why: "GitHub has no expiring collaborators or team memberships",
    },
    templates: &[
        ("github.tf.j2", include_str!("../../templates/github.tf.j2")),
        (
            "github_team.tf.j2",
            include_str!("../../templates/github_team.tf.j2"),
        ),
    ],
};

/// Either a repository and a permission on it, or a team and a role in it.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubTarget {
    /// `owner/name` of the repository; the owner is checked against the
    /// provider's at plan time.
    #[serde(default)]
    pub repository: Option<Spanned<String>>,
    /// With `repository`: one of pull, triage, push, maintain, admin.
    #[serde(default)]
    pub permission: Option<Spanned<String>>,
    /// `organization/team-slug` of a team; the organisation is checked
    /// against the provider's at plan time.
    #[serde(default)]
    pub team: Option<Spanned<String>>,
    /// With `team`: `member` (the default) or `maintainer`.
    #[serde(default)]
    pub role: Option<Spanned<String>>,
}

const REPOSITORY_PERMISSIONS: NamedRoles = NamedRoles {
    admin: &["admin"],
    escalation: &[],
    basic: &[],
};

const TEAM_ROLES: NamedRoles = NamedRoles {
    admin: &[],
    // A maintainer adds and removes the team's members
    // (https://docs.github.com/en/organizations/organizing-members-into-teams/assigning-the-team-maintainer-role-to-a-team-member):
    // access to everything the team can reach, handed out outside lapse.
    escalation: &[(
        "maintainer",
        "adds and removes the team's members, giving its access to anyone without a grant",
    )],
    basic: &[],
};

impl TargetBlock for GithubTarget {
    fn kind(&self) -> &'static TargetKind {
        &KIND
    }

    fn module(&self) -> &'static str {
        if self.team.is_some() {
            "github_team"
        } else {
            "github"
        }
    }

    fn privileges(&self) -> Privileges<'_> {
        match (&self.permission, &self.role) {
            (Some(permission), _) => Privileges::Named {
                granted: permission,
                lists: &REPOSITORY_PERMISSIONS,
            },
            (None, Some(role)) => Privileges::Named {
                granted: role,
                lists: &TEAM_ROLES,
            },
            (None, None) => Privileges::Nothing,
        }
    }

    fn problems(&self) -> Vec<(Position, String)> {
        let mut problems = Vec::new();
        match (&self.repository, &self.team) {
            (Some(repository), None) => {
                problems
                    .extend(repository_problem(repository).map(|problem| (repository.at, problem)));
                if self.permission.is_none() {
                    problems.push((
                        repository.at,
                        "a repository needs a `permission`: pull, triage, push, maintain or admin"
                            .to_owned(),
                    ));
                }
                if let Some(role) = &self.role {
                    problems.push((
                        role.at,
                        "`role` is for a team; a repository takes a `permission`".to_owned(),
                    ));
                }
            }
            (None, Some(team)) => {
                problems.extend(team_problem(team).map(|problem| (team.at, problem)));
                if let Some(permission) = &self.permission {
                    problems.push((permission.at, "`permission` is for a repository; a team takes a `role`: member or maintainer".to_owned()));
                }
                if let Some(role) = &self.role
                    && !matches!(role.as_str(), "member" | "maintainer")
                {
                    problems.push((
                        role.at,
                        format!("team role `{}` must be member or maintainer", role.value),
                    ));
                }
            }
            (Some(_), Some(team)) => problems.push((
                team.at,
                "a github block grants a repository or a team, not both: make two roles".to_owned(),
            )),
            (None, None) => problems.push((
                Position::default(),
                "a github block needs a `repository` (with a `permission`) or a `team`".to_owned(),
            )),
        }
        problems
    }

    fn view(&self) -> minijinja::Value {
        minijinja::Value::from_serialize(self)
    }
}

/// Why `team` is not `organization/team-slug`, if it is not. The
/// organisation is kept for the module to check against the provider's.
fn team_problem(team: &str) -> Option<String> {
    let Some((organization, slug)) = team.split_once('/') else {
        return Some(format!(
            "team `{team}` must be organization/team-slug, for example example-org/{team}"
        ));
    };
    if let Err(why) = check_login(organization) {
        return Some(format!(
            "the organization `{organization}` of team `{team}` is not an account name: {why}"
        ));
    }
    // Slugs are the team name lower-cased, with hyphens for the rest.
    let slug_ok = !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-".contains(&b));
    (!slug_ok).then(|| {
        format!(
            "`{slug}` in team `{team}` is not a team slug (lower-case letters, digits, `-` and `_`)"
        )
    })
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
