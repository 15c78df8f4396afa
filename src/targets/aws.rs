//! AWS IAM: a managed policy made of the role's statements, attached to
//! each principal's IAM role or user (`modules/aws`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Privileges, Provider, TargetBlock, TargetKind};
use crate::model::Spanned;

pub const KIND: TargetKind = TargetKind {
    name: "aws",
    principal_field: |person| person.aws.as_ref(),
    defaults_to_key: false,
    provider: PROVIDER,
    templates: &[("aws.tf.j2", include_str!("../../templates/aws.tf.j2"))],
};

/// The AWS provider, shared by every target that works in AWS.
pub const PROVIDER: Provider = Provider {
    local: "aws",
    source: "hashicorp/aws",
    version: ">= 5.0",
};

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsTarget {
    /// AWS account id the policy is created in.
    pub account: String,
    pub statements: Vec<AwsStatement>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsStatement {
    pub actions: Vec<Spanned<String>>,
    pub resources: Vec<Spanned<String>>,
}

impl TargetBlock for AwsTarget {
    fn kind(&self) -> &'static TargetKind {
        &KIND
    }

    fn privileges(&self) -> Privileges<'_> {
        Privileges::Statements(&self.statements)
    }

    fn view(&self) -> minijinja::Value {
        minijinja::Value::from_serialize(self)
    }
}
