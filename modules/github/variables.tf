variable "repository" {
  description = "owner/name of the repository; the plan fails unless the provider's owner is that owner."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9-]+/[A-Za-z0-9_.-]+$", var.repository))
    error_message = "repository must be owner/name."
  }
}

variable "permission" {
  description = "Repository permission: pull, triage, push or maintain (admin is refused by lapse check unless excepted)."
  type        = string

  validation {
    condition     = contains(["pull", "triage", "push", "maintain", "admin"], var.permission)
    error_message = "permission must be one of pull, triage, push, maintain, admin."
  }
}
