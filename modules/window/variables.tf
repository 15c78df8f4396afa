variable "starts_at" {
  description = "Start of the grant, RFC 3339 in UTC (2026-11-22T09:00:00Z), or null."
  type        = string
  default     = null

  validation {
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
