variable "project" {
  description = "Project the IAM binding is made on."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project))
    error_message = "project must be a GCP project id."
  }
}

variable "iam_role" {
  description = "IAM role to bind, for example roles/run.developer."
  type        = string

  validation {
    condition     = can(regex("^(roles/|projects/[^/]+/roles/|organizations/[0-9]+/roles/)", var.iam_role))
    error_message = "iam_role must be roles/<name> or a custom role projects/<id>/roles/<name>."
  }
}
