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

variable "starts_at" {
  description = "Start of the grant, RFC 3339 in UTC, or null."
  type        = string
  default     = null

  validation {
    # Timestamps become IAM condition values: only this exact form may.
    condition     = var.starts_at == null || can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$", var.starts_at))
    error_message = "starts_at must be RFC 3339 in UTC, for example 2026-11-22T09:00:00Z."
  }
}

variable "expires_at" {
  description = "End of the grant, RFC 3339 in UTC (2026-12-06T17:00:00Z)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$", var.expires_at))
    error_message = "expires_at must be RFC 3339 in UTC, for example 2026-12-06T17:00:00Z."
  }
}
