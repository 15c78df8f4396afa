variable "scope" {
  description = "Scope of the assignment, for example /subscriptions/<id>/resourceGroups/<name>."
  type        = string

  validation {
    # The role definition id of a PIM assignment is scoped to its
    # subscription (see main.tf), so the subscription id must be there.
    condition     = can(regex("(?i)^/subscriptions/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(/|$)|^/providers/Microsoft.Management/managementGroups/[^/]+", var.scope))
    error_message = "scope must start with /subscriptions/<subscription id> or /providers/Microsoft.Management/managementGroups/<name>."
  }
}

variable "role_definition" {
  description = "Name of the built-in or custom role, for example Reader."
  type        = string
}
