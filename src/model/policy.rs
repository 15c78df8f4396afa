//! The policy file `lapse.yaml`: defaults, people, groups and the role
//! catalog.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Deserialize;

use super::duration::GrantDuration;
use super::identity::{Directory, GROUP_PREFIX};
use super::spanned::Spanned;
use super::timestamp::parse_timestamp;
use crate::targets::{self, TargetBlock};

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "lapse policy",
    description = "lapse.yaml: people, groups, role catalog and limits."
)]
pub struct Policy {
    /// Format version of this file; only 1 exists.
    pub version: Spanned<u32>,
    #[serde(default)]
    pub defaults: Defaults,
    /// People who may hold or approve grants, keyed by their primary e-mail.
    #[serde(default)]
    pub people: BTreeMap<String, Person>,
    /// Named sets of people, referred to as `group:<name>`.
    #[serde(default)]
    pub groups: BTreeMap<String, Vec<Spanned<String>>>,
    /// The role catalog: what a grant may give.
    #[serde(default)]
    pub roles: BTreeMap<String, Spanned<Role>>,
    /// How `lapse render` writes Terraform.
    #[serde(default)]
    pub render: RenderSettings,
    /// Who approves changes to lapse.yaml, templates/ and modules/: people,
    /// or `group:<name>`. Without owners, policy changes need no approval.
    #[serde(default)]
    pub owners: Vec<Spanned<String>>,
    /// What counts as proof of an approval.
    #[serde(default)]
    pub approvals: ApprovalSettings,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalSettings {
    /// `commit-author` (default): git authorship, a claim; `signed-commit`:
    /// an SSH signature by one of the approver's `signing_keys`;
    /// `forge-review`: an approving review of the pull request's head commit.
    #[serde(default)]
    pub evidence: Spanned<Evidence>,
    /// How many distinct owners must approve a policy change (default 1).
    #[serde(default = "one")]
    pub owner_approvals: u32,
}

impl Default for ApprovalSettings {
    fn default() -> Self {
        Self {
            evidence: Spanned::default(),
            owner_approvals: 1,
        }
    }
}

/// What proves that a person approved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    #[default]
    CommitAuthor,
    SignedCommit,
    ForgeReview,
}

impl Evidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CommitAuthor => "commit-author",
            Self::SignedCommit => "signed-commit",
            Self::ForgeReview => "forge-review",
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Defaults {
    /// Longest grant for roles that set no `max_duration`.
    pub max_duration: GrantDuration,
    /// Window of `lapse expiring` when `--within` is not given.
    pub warn_before: GrantDuration,
    /// Whether every grant must name a ticket.
    pub require_ticket: bool,
    /// Shortest acceptable `reason`, in characters.
    pub min_reason_length: usize,
}

impl Default for Defaults {
    fn default() -> Self {
        Self {
            max_duration: GrantDuration::from_minutes(30 * 24 * 60),
            warn_before: GrantDuration::from_minutes(7 * 24 * 60),
            require_ticket: false,
            min_reason_length: 10,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// Other identities of the same person (commit e-mails, noreply addresses).
    #[serde(default)]
    pub aliases: Vec<Spanned<String>>,
    /// RFC 3339 timestamp; no grant of this person may outlive it.
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub contract_ends: Option<Spanned<String>>,
    /// IAM principal ARN (role or user) that AWS grants attach to.
    #[serde(default)]
    pub aws: Option<Spanned<String>>,
    /// IAM Identity Center user id (identity store), for `aws_sso` grants.
    #[serde(default)]
    pub aws_sso: Option<Spanned<String>>,
    /// IAM member for GCP bindings, for example `user:alex@example.com`.
    #[serde(default)]
    pub gcp: Option<Spanned<String>>,
    /// Entra ID object id for Azure role assignments.
    #[serde(default)]
    pub azure: Option<Spanned<String>>,
    /// GitHub login.
    #[serde(default)]
    pub github: Option<Spanned<String>>,
    /// Kubernetes user name (defaults to the person's e-mail).
    #[serde(default)]
    pub kubernetes: Option<Spanned<String>>,
    /// Public keys (`ssh-ed25519 AAAA... comment`) whose git SSH signatures
    /// prove this person's commits under `approvals.evidence: signed-commit`.
    #[serde(default)]
    pub signing_keys: Vec<Spanned<String>>,
    /// `signing_keys` as keys, parsed once when the policy loads (an audit
    /// compares them with thousands of signatures).
    #[serde(skip)]
    #[schemars(skip)]
    pub parsed_signing_keys: Vec<ssh_key::public::KeyData>,
    /// GitLab user name, for merge-request approvals, CODEOWNERS and notifications.
    #[serde(default)]
    pub gitlab: Option<String>,
    /// Gitea or Forgejo login, for pull-request reviews and notifications.
    #[serde(default)]
    pub gitea: Option<String>,
}

impl Person {
    pub fn contract_ends_at(&self) -> Option<DateTime<Utc>> {
        self.contract_ends
            .as_ref()
            .and_then(|text| parse_timestamp(text).ok())
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Role {
    #[serde(default)]
    pub description: Option<String>,
    /// Longest grant of this role; defaults to `defaults.max_duration`.
    #[serde(default)]
    pub max_duration: Option<GrantDuration>,
    /// Who may approve: people, or `group:<name>`.
    #[serde(default)]
    pub approvers: Vec<Spanned<String>>,
    /// Distinct people who must approve.
    #[serde(default = "one")]
    pub min_approvals: u32,
    /// Least-privilege findings this role is allowed to have, each with a
    /// written justification.
    #[serde(default)]
    pub exceptions: Vec<Spanned<RuleException>>,
    /// Emergency access: a grant of this role may be merged before it is
    /// approved, and must be reviewed within `review_within` after.
    #[serde(default)]
    pub break_glass: Option<Spanned<BreakGlass>>,
    // One field per target of `targets::TARGETS`, named after it; a role
    // has exactly one.
    #[serde(default)]
    pub aws: Option<Spanned<targets::aws::AwsTarget>>,
    #[serde(default)]
    pub aws_sso: Option<Spanned<targets::aws_sso::AwsSsoTarget>>,
    #[serde(default)]
    pub gcp: Option<Spanned<targets::gcp::GcpTarget>>,
    #[serde(default)]
    pub azure: Option<Spanned<targets::azure::AzureTarget>>,
    #[serde(default)]
    pub github: Option<Spanned<targets::github::GithubTarget>>,
    #[serde(default)]
    pub kubernetes: Option<Spanned<targets::kubernetes::KubernetesTarget>>,
}

fn one() -> u32 {
    1
}

fn as_block<T: TargetBlock>(block: &Option<Spanned<T>>) -> Option<&dyn TargetBlock> {
    block.as_deref().map(|block| block as &dyn TargetBlock)
}

impl Role {
    /// Every target block the role declares; the loader requires exactly one.
    pub fn targets(&self) -> Vec<&dyn TargetBlock> {
        let blocks = [
            as_block(&self.aws),
            as_block(&self.aws_sso),
            as_block(&self.gcp),
            as_block(&self.azure),
            as_block(&self.github),
            as_block(&self.kubernetes),
        ];
        blocks.into_iter().flatten().collect()
    }

    /// The role's target. A loaded policy has exactly one per role.
    pub fn target(&self) -> Option<&dyn TargetBlock> {
        self.targets().into_iter().next()
    }

    /// Whether the policy accepts `rule` on this role through a justified exception.
    pub fn has_exception(&self, rule: &str) -> bool {
        self.exceptions
            .iter()
            .any(|exception| exception.rule.value == rule)
    }
}

/// The rules a role may be excepted from: the least-privilege rules on the
/// catalog. Every other rule protects a grant, and no role may waive it.
pub const EXCEPTABLE_RULES: &[&str] = &[
    "wildcard-action",
    "wildcard-resource",
    "privilege-escalation",
    "admin-role",
];

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlass {
    /// Longest a break-glass grant of this role may last.
    pub max_duration: GrantDuration,
    /// How soon after it is in force authorised approvals must be recorded.
    pub review_within: GrantDuration,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleException {
    /// The rule id the exception allows, for example `admin-role`.
    pub rule: Spanned<String>,
    /// Why this role needs it; reviewed like code.
    pub justification: Spanned<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderSettings {
    /// Where rendered code finds the Terraform modules, for example
    /// `git::https://github.com/org/lapse.git//modules?ref=v0.1.0`.
    /// Defaults to the repository's own `modules/`.
    #[serde(default)]
    pub module_source: Option<String>,
    /// One root module per team instead of a single one; `lapse render
    /// --split-by` overrides it. Kept in the policy so that `lapse prune`
    /// refreshes a committed `generated/` with the same layout.
    #[serde(default)]
    pub split_by: Option<SplitBy>,
    /// How often `terraform apply` runs on the rendered code (default 1h,
    /// the shipped workflows' schedule). Targets without an expiry of their
    /// own are revoked only by an apply, and `lapse render` reports this as
    /// their worst-case revocation lag.
    #[serde(default)]
    pub apply_interval: Option<GrantDuration>,
}

/// How rendered grants are divided between Terraform root modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SplitBy {
    /// One root module per first directory under `grants/`.
    Team,
    /// One root module per target (`aws`, `github`, ...), so that the roots
    /// of targets that only an apply revokes can be applied often, and each
    /// apply plans one provider's grants alone.
    Target,
}

impl Policy {
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.get(name).map(|role| &role.value)
    }

    pub fn max_duration_of(&self, role: &Role) -> GrantDuration {
        role.max_duration.unwrap_or(self.defaults.max_duration)
    }

    /// Every person `owners` names, directly or through a group, resolved.
    pub fn owner_people(&self, directory: &Directory) -> BTreeSet<String> {
        let owners = self.owners.iter().map(|owner| owner.as_str());
        self.people_behind(owners, directory)
    }

    /// Every person `names` (people or `group:<name>`) stand for, resolved
    /// through `directory`.
    pub fn people_behind<'n>(
        &self,
        names: impl IntoIterator<Item = &'n str>,
        directory: &Directory,
    ) -> BTreeSet<String> {
        names
            .into_iter()
            .flat_map(|name| self.names_behind(name))
            .map(|name| directory.resolve(name))
            .collect()
    }

    /// The identities a subject, approver or owner stands for, as written:
    /// the name itself, or each member of `group:<name>` (none for a group
    /// the policy lacks, which the `unknown-*` rules report).
    pub fn names_behind<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        let group = name.strip_prefix(GROUP_PREFIX);
        let members = group.and_then(|group| self.groups.get(group));
        let person = group.is_none().then_some(name);
        person
            .into_iter()
            .chain(members.into_iter().flatten().map(|member| member.as_str()))
    }
}
