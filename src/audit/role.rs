//! A role as a version of the policy defined it: what an auditor needs to
//! know of what a grant gave, and who could approve it, at the time.

use serde::Serialize;

use crate::model::Policy;

/// A role under one version of `lapse.yaml`.
#[derive(Debug, Clone, Serialize)]
pub struct RoleDefinition {
    /// The blob id of that `lapse.yaml`.
    pub policy: String,
    pub role: String,
    /// `None` when that version has no such role.
    pub definition: Option<RoleView>,
}

/// The fields of a role that say what it grants and who approves it.
#[derive(Debug, Clone, Serialize)]
pub struct RoleView {
    pub description: Option<String>,
    /// The role's own, else the policy's default.
    pub max_duration: String,
    pub approvers: Vec<String>,
    pub min_approvals: u32,
    pub break_glass: Option<BreakGlassView>,
    /// The target: `aws`, `gcp`, `azure`, `github` or `kubernetes`.
    pub target: &'static str,
    /// The target block, field names as in `lapse.yaml`.
    pub grants: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct BreakGlassView {
    pub max_duration: String,
    pub review_within: String,
}

impl RoleDefinition {
    pub fn of(policy: &Policy, blob: &str, role: &str) -> Self {
        Self {
            policy: blob.to_owned(),
            role: role.to_owned(),
            definition: RoleView::of(policy, role),
        }
    }

    /// One line for a table cell: target, approvers, limits.
    pub fn summary(&self) -> String {
        let Some(view) = &self.definition else {
            return format!("role `{}` is not in this policy", self.role);
        };
        let mut text = format!(
            "{} {}; approvers: {} ({} needed); max {}",
            view.target,
            view.grants,
            view.approvers.join(", "),
            view.min_approvals,
            view.max_duration
        );
        if let Some(glass) = &view.break_glass {
            text.push_str(&format!(
                "; break-glass: at most {}, reviewed within {}",
                glass.max_duration, glass.review_within
            ));
        }
        text
    }
}

impl RoleView {
    fn of(policy: &Policy, name: &str) -> Option<Self> {
        let role = policy.role(name)?;
        let target = role.target()?;
        Some(Self {
            description: role.description.clone(),
            max_duration: policy.max_duration_of(role).to_string(),
            approvers: role.approvers.iter().map(|a| a.value.clone()).collect(),
            min_approvals: role.min_approvals,
            break_glass: role.break_glass.as_deref().map(|glass| BreakGlassView {
                max_duration: glass.max_duration.to_string(),
                review_within: glass.review_within.to_string(),
            }),
            target: target.kind().name,
            grants: serde_json::to_value(target.view()).unwrap_or_default(),
        })
    }
}
