module "window" {
  source = "../window"

  starts_at  = var.starts_at
  expires_at = var.expires_at
}

# The role's statements, each bounded by the grant's window, become the
# permission set's inline policy: the cloud-enforced expiry. The role that
# Identity Center provisions in the account carries it, so IAM stops
# honouring every session at expires_at, whatever Terraform does.
module "policy" {
  source = "../iam_policy"

  statements = var.statements
  starts_at  = var.starts_at
  expires_at = var.expires_at
}

locals {
  # Permission set names are 1 to 32 of [\w+=,.@-]; grant ids reach 64, so
  # a prefix of the id plus a digest of all of it keeps names apart.
  name = "lapse-${substr(var.grant_id, 0, 17)}-${substr(sha256(var.grant_id), 0, 8)}"
}

# A permission set per grant, so that its inline policy can carry this
# grant's window and no other's.
resource "aws_ssoadmin_permission_set" "grant" {
  count = module.window.active ? 1 : 0

  name         = local.name
  instance_arn = var.instance_arn
  description  = "lapse grant ${var.grant_id}, expires ${var.expires_at}"
  # Sessions are short; the inline policy's condition ends them at expiry
  # in any case.
  session_duration = "PT1H"
  tags             = var.tags
}

resource "aws_ssoadmin_permission_set_inline_policy" "grant" {
  count = module.window.active ? 1 : 0

  instance_arn       = var.instance_arn
  permission_set_arn = aws_ssoadmin_permission_set.grant[0].arn
  inline_policy      = module.policy.json
}

resource "aws_ssoadmin_account_assignment" "grant" {
  for_each = module.window.active ? var.principals : {}

  instance_arn       = var.instance_arn
  permission_set_arn = aws_ssoadmin_permission_set.grant[0].arn
  principal_type     = "USER"
  principal_id       = each.value
  target_type        = "AWS_ACCOUNT"
  target_id          = var.account_id

  # The assignment provisions the permission set in the account: the
  # policy must be in it by then.
  depends_on = [aws_ssoadmin_permission_set_inline_policy.grant]
}
