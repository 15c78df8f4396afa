//! AWS IAM Identity Center: a permission set of the grant's own, whose
//! inline policy is the role's statements bounded in time, assigned to each
//! principal (an Identity Center user) in the role's account
//! (`modules/aws_sso`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::aws::{self, AwsTarget};
use super::{Privileges, TargetBlock, TargetKind};
use crate::model::Position;

pub const KIND: TargetKind = TargetKind {
    name: "aws_sso",
    principal_field: |person| person.aws_sso.as_ref(),
    defaults_to_key: false,
    check_principal,
    provider: aws::PROVIDER,
    templates: &[(
        "aws_sso.tf.j2",
        include_str!("../../templates/aws_sso.tf.j2"),
    )],
};

/// The account the permission set is assigned in and the statements of its
/// inline policy: the same fields, judged by the same rules, as `aws`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct AwsSsoTarget(pub AwsTarget);

impl TargetBlock for AwsSsoTarget {
    fn kind(&self) -> &'static TargetKind {
        &KIND
    }

    fn privileges(&self) -> Privileges<'_> {
        self.0.privileges()
    }

    fn problems(&self) -> Vec<(Position, String)> {
        self.0.problems()
    }

    fn view(&self) -> minijinja::Value {
        self.0.view()
    }
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
    if super::azure::is_guid(guid) {
        Ok(())
    } else {
        Err("an Identity Center user id is a GUID, optionally after ten hex digits and a hyphen (906771dd1c-8f2a-4c6e-9d1b-3a5e7f9b2c4d)".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
