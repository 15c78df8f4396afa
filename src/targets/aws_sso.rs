//! AWS IAM Identity Center: a permission set of the grant's own, whose
//! inline policy is the role's statements bounded in time, assigned to each
//! principal (an Identity Center user) in the role's account
//! (`modules/aws_sso`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::aws::{self, AwsStatement};
use super::{Privileges, Revocation, TargetBlock, TargetKind};
use crate::model::{Position, Spanned};

pub const KIND: TargetKind = TargetKind {
    name: "aws_sso",
    principal_field: |person| person.aws_sso.as_ref(),
    defaults_to_key: false,
    check_principal,
    provider: aws::PROVIDER,
    revocation: Revocation::AtExpiry {
        how: "IAM refuses every session's requests (the permission set's inline policy); the assignment itself goes at the next apply",
    },
    templates: &[(
        "aws_sso.tf.j2",
        include_str!("../../templates/aws_sso.tf.j2"),
    )],
};

/// The Identity Center instance, the account the permission set is
/// assigned in and the statements of its inline policy, which are judged
/// by the same rules as `aws`'s.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsSsoTarget {
    /// ARN of the organisation's Identity Center instance,
    /// `arn:aws:sso:::instance/ssoins-<16 characters>`, written out rather
    /// than looked up, as the account's owner is for `aws`.
    pub instance: Spanned<String>,
    /// AWS account id the permission set is assigned in.
    pub account: Spanned<String>,
    pub statements: Vec<AwsStatement>,
}

impl TargetBlock for AwsSsoTarget {
    fn kind(&self) -> &'static TargetKind {
        &KIND
    }

    fn privileges(&self) -> Privileges<'_> {
        Privileges::Statements(&self.statements)
    }

    fn problems(&self) -> Vec<(Position, String)> {
        let instance = instance_problem(&self.instance).map(|problem| (self.instance.at, problem));
        instance
            .into_iter()
            .chain(aws::account_problem(&self.account))
            .collect()
    }

    fn view(&self) -> minijinja::Value {
        minijinja::Value::from_serialize(self)
    }
}

/// Why `arn` is not an Identity Center instance ARN, if it is not
/// (`InstanceArn` in
/// https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_CreateAccountAssignment.html:
/// `arn:<partition>:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}`).
fn instance_problem(arn: &str) -> Option<String> {
    let id = arn
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(":sso:::instance/"))
        .filter(|(partition, _)| aws::is_partition(partition))
        .map(|(_, id)| id);
    let well_formed = id
        .and_then(|id| id.strip_prefix("sso").unwrap_or(id).strip_prefix("ins-"))
        .is_some_and(|suffix| {
            suffix.len() == 16
                && suffix
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        });
    (!well_formed).then(|| {
        format!(
            "instance `{arn}` is not an Identity Center instance ARN, arn:aws:sso:::instance/ssoins-<16 characters>"
        )
    })
}

/// An identity store user id, as account assignments take it: a GUID,
/// optionally after ten hexadecimal digits and a hyphen
/// (`UserId` in https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_User.html).
/// Users only: a lapse grant is to people, and an Identity Center group's
/// members are managed outside lapse, so assigning one would give access
/// to people no grant names (a `group:` subject gets one assignment per
/// member instead).
fn check_principal(user_id: &str) -> Result<(), String> {
    let guid = match user_id.split_once('-') {
        Some((prefix, rest))
            if prefix.len() == 10 && prefix.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            rest
        }
        _ => user_id,
    };
    if super::is_guid(guid) {
        Ok(())
    } else {
        Err("an Identity Center user id is a GUID, optionally after ten hex digits and a hyphen (906771dd1c-8f2a-4c6e-9d1b-3a5e7f9b2c4d)".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_are_identity_center_instance_arns() {
        assert_eq!(
            instance_problem("arn:aws:sso:::instance/ssoins-1234567890abcdef"),
            None
        );
        assert_eq!(
            instance_problem("arn:aws-us-gov:sso:::instance/ins-1234567890abcdef"),
            None
        );
        for arn in [
            "ssoins-1234567890abcdef",
            "arn:aws:sso:::instance/ssoins-1234",
            "arn:aws:iam::123456789012:role/sso",
            "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1",
        ] {
            assert!(instance_problem(arn).is_some(), "{arn}");
        }
    }

    #[test]
    fn user_ids_are_identity_store_ids() {
        for id in [
            "906771dd1c-8f2a4c6e-9d1b-4a5e-8f9b-2c4d6e8f0a1b",
            "8f2a4c6e-9d1b-4a5e-8f9b-2c4d6e8f0a1b",
        ] {
            assert_eq!(check_principal(id), Ok(()), "{id}");
        }
        for id in [
            "alex@example.com",
            "906771dd1c",
            "arn:aws:iam::123456789012:role/alex",
        ] {
            assert!(check_principal(id).is_err(), "{id}");
        }
    }
}
