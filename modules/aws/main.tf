module "window" {
  source = "../window"

  starts_at  = var.starts_at
  expires_at = var.expires_at
}

data "aws_caller_identity" "current" {}

locals {
  # Managed policies attach to roles and users by name, the last segment
  # of the ARN: arn:aws:iam::<account>:role/<path>/<name>.
  role_names = {
    for person, arn in var.principals : person => reverse(split("/", arn))[0]
    if strcontains(arn, ":role/")
  }
  user_names = {
    for person, arn in var.principals : person => reverse(split("/", arn))[0]
    if strcontains(arn, ":user/")
  }
}

# The role's statements, each bounded by the grant's window: the
# cloud-enforced expiry (see ../iam_policy).
module "policy" {
  source = "../iam_policy"

  statements = var.statements
  starts_at  = var.starts_at
  expires_at = var.expires_at
}

resource "aws_iam_policy" "grant" {
  count = module.window.active ? 1 : 0

  name        = "lapse-${var.grant_id}"
  path        = "/lapse/"
  description = "lapse grant ${var.grant_id}, expires ${var.expires_at}"
  policy      = module.policy.json
  tags        = var.tags

  lifecycle {
    precondition {
      condition     = length(local.role_names) + length(local.user_names) == length(var.principals)
      error_message = "Every principal of grant ${var.grant_id} must be an IAM role or user ARN (arn:aws:iam::<account>:role/<name> or :user/<name>)."
    }

    precondition {
      condition     = data.aws_caller_identity.current.account_id == var.account_id
      error_message = "The role of grant ${var.grant_id} belongs to account ${var.account_id}, but the AWS provider is in another account."
    }
  }
}

resource "aws_iam_role_policy_attachment" "grant" {
  for_each = module.window.active ? local.role_names : {}

  role       = each.value
  policy_arn = aws_iam_policy.grant[0].arn
}

resource "aws_iam_user_policy_attachment" "grant" {
  # checkov:skip=CKV_AWS_40:A grant is for one named person; where an organisation gives people IAM users rather than roles, the user is the only principal to bound in time, and the policy expires by its own condition.
  for_each = module.window.active ? local.user_names : {}

  user       = each.value
  policy_arn = aws_iam_policy.grant[0].arn
}
