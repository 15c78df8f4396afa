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

data "aws_iam_policy_document" "grant" {
  dynamic "statement" {
    for_each = var.statements

    content {
      sid       = "LapseGrant${statement.key}"
      effect    = "Allow"
      actions   = statement.value.actions
      resources = statement.value.resources

      # The cloud-enforced expiry: IAM stops honouring the statement at
      # expires_at, whatever Terraform does afterwards.
      # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date
      condition {
        test     = "DateLessThan"
        variable = "aws:CurrentTime"
        values   = [var.expires_at]
      }

      dynamic "condition" {
        for_each = var.starts_at == null ? [] : [var.starts_at]

        content {
          test     = "DateGreaterThan"
          variable = "aws:CurrentTime"
          values   = [condition.value]
        }
      }
    }
  }
}

resource "aws_iam_policy" "grant" {
  count = module.window.active ? 1 : 0

  name        = "lapse-${var.grant_id}"
  path        = "/lapse/"
  description = "lapse grant ${var.grant_id}, expires ${var.expires_at}"
  policy      = data.aws_iam_policy_document.grant.json
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
