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

  validation {
    # The binding's IAM condition is the grant's expiry, and Google takes
    # no condition on basic roles
    # (https://cloud.google.com/iam/docs/conditions-overview#limitations).
    condition     = !contains(["roles/owner", "roles/editor", "roles/viewer"], var.iam_role)
    error_message = "iam_role must not be a basic role (roles/owner, roles/editor, roles/viewer): they take no IAM condition, so the grant could not expire."
  }
}
