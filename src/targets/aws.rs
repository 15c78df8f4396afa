//! AWS IAM: a managed policy made of the role's statements, attached to
//! each principal's IAM role or user (`modules/aws`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Privileges, Provider, TargetBlock, TargetKind, check_plain};
use crate::model::{Position, Spanned};

pub const KIND: TargetKind = TargetKind {
    name: "aws",
    principal_field: |person| person.aws.as_ref(),
    defaults_to_key: false,
    check_principal,
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
    pub account: Spanned<String>,
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

    fn problems(&self) -> Vec<(Position, String)> {
        account_problem(&self.account).into_iter().collect()
    }

    fn view(&self) -> minijinja::Value {
        minijinja::Value::from_serialize(self)
    }
}

/// Why `account` is not an AWS account id, if it is not: the module's plan
/// would fail on it, and the check says so first.
pub fn account_problem(account: &Spanned<String>) -> Option<(Position, String)> {
    (!is_account_id(account)).then(|| {
        (
            account.at,
            format!(
                "account `{}` is not a 12-digit AWS account id",
                account.value
            ),
        )
    })
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// What a managed policy can be attached to: an IAM role or user ARN,
/// `arn:<partition>:iam::<account>:role/<path/><name>` (or `:user/`), with
/// IAM's name syntax
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html,
/// https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html).
/// A group ARN would plan and then fail: managed policies attach to groups
/// through another resource, and a grant is for one person.
fn check_principal(arn: &str) -> Result<(), String> {
    check_plain(arn)?;
    let expected = || {
        "an IAM role or user ARN is needed: arn:aws:iam::<12-digit account>:role/<name> or :user/<name>"
            .to_owned()
    };
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", partition, "iam", "", account, resource] = fields[..] else {
        return Err(expected());
    };
    if !is_partition(partition) {
        return Err(format!(
            "`{partition}` is not an AWS partition (aws, aws-cn, aws-us-gov, ...)"
        ));
    }
    if !is_account_id(account) {
        return Err(format!("`{account}` is not a 12-digit account id"));
    }
    let Some((kind, path_and_name)) = resource.split_once('/') else {
        return Err(expected());
    };
    if kind != "role" && kind != "user" {
        return Err(format!(
            "a `{kind}` cannot hold a grant; only IAM roles and users can"
        ));
    }
    let (path, name) = path_and_name
        .rsplit_once('/')
        .unwrap_or(("", path_and_name));
    let name_ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    let path_ok = path
        .split('/')
        .all(|segment| segment.bytes().all(|b| b.is_ascii_graphic()));
    if name_ok && path_ok {
        Ok(())
    } else {
        Err(format!(
            "`{path_and_name}` is not an IAM {kind} name (1 to 64 of letters, digits and +=,.@_-, after an optional path)"
        ))
    }
}

fn is_partition(text: &str) -> bool {
    text == "aws"
        || text.strip_prefix("aws-").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_users_with_paths_are_principals_and_groups_are_not() {
        for arn in [
            "arn:aws:iam::123456789012:role/contractor-alex",
            "arn:aws:iam::123456789012:user/maria",
            "arn:aws:iam::123456789012:role/teams/payments/alex+ops@x",
            "arn:aws-us-gov:iam::123456789012:role/alex",
        ] {
            assert_eq!(check_principal(arn), Ok(()), "{arn}");
        }
        for arn in [
            "arn:aws:iam::123456789012:group/payments",
            "arn:aws:iam::12345:role/alex",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/has space",
            "123456789012",
            "arn:azure:iam::123456789012:role/alex",
        ] {
            assert!(check_principal(arn).is_err(), "{arn}");
        }
    }
}
