variable "instance_arn" {
  description = "ARN of the Identity Center instance, arn:aws:sso:::instance/ssoins-<16 characters>."
  type        = string

  validation {
    # InstanceArn in the SSO admin API reference.
    condition     = can(regex("^arn:aws[a-z-]*:sso:::instance/(sso)?ins-[a-zA-Z0-9.-]{16}$", var.instance_arn))
    error_message = "instance_arn must be an Identity Center instance ARN, arn:aws:sso:::instance/ssoins-<16 characters>."
  }
}

variable "account_id" {
  description = "AWS account the permission set is assigned in."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id."
  }
}

variable "statements" {
  description = "The role's IAM statements: actions and the resources they apply to."
  type = list(object({
    actions   = list(string)
    resources = list(string)
  }))

  validation {
    condition     = length(var.statements) > 0 && alltrue([for s in var.statements : length(s.actions) > 0 && length(s.resources) > 0])
    error_message = "statements must be non-empty, each with at least one action and one resource."
  }
}

variable "tags" {
  description = "Tags of the permission set; lapse keeps them within AWS's tag limits."
  type        = map(string)
  default     = {}

  validation {
    # The same limits as IAM's: https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_Tag.html
    condition = alltrue([
      for key, value in var.tags :
      length(key) <= 128 && length(value) <= 256 &&
      can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$", "${key}${value}"))
    ])
    error_message = "tags must fit IAM's limits: keys up to 128 and values up to 256 characters of letters, digits, spaces and _.:/=+-@."
  }
}
