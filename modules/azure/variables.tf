variable "scope" {
  description = "Scope of the assignment, for example /subscriptions/<id>/resourceGroups/<name>."
  type        = string

  validation {
    condition     = can(regex("^/(subscriptions|providers)/", var.scope))
    error_message = "scope must be an Azure resource id starting with /subscriptions/ or /providers/."
  }
}

variable "role_definition" {
  description = "Name of the built-in or custom role, for example Reader."
  type        = string
}
