# The grant's IAM policy document, bounded in time: every statement carries
# the grant's window as aws:CurrentTime conditions, so IAM stops honouring
# it at expires_at whatever Terraform does afterwards
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date).
# It needs no provider: the same document is a managed policy (modules/aws)
# and a permission set's inline policy (modules/aws_sso), and a plan with no
# cloud access shows exactly what IAM will judge.

locals {
  # Up to expires_at excluded. The start is DateGreaterThan, the operator
  # the provider-schema validation CI runs (tf_validate.py) requires: IAM
  # refuses the one instant starts_at itself, which the window module and
  # GCP's condition count as in force; one second's difference at most,
  # since lapse writes whole seconds.
  window = merge(
    { DateLessThan = { "aws:CurrentTime" = var.expires_at } },
    var.starts_at == null ? {} : { DateGreaterThan = { "aws:CurrentTime" = var.starts_at } },
  )

  document = {
    Version = "2012-10-17"
    Statement = [
      for index, statement in var.statements : {
        Sid       = "LapseGrant${index}"
        Effect    = "Allow"
        Action    = statement.actions
        Resource  = statement.resources
        Condition = local.window
      }
    ]
  }
}
