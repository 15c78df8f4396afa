# The grant, as lapse renders it. This file is identical in every target
# module (a test keeps it so); the target's own variables are in
# variables.tf.

variable "grant_id" {
  description = "The grant id: the grant file's stem."
  type        = string

  validation {
    # lapse's grant id syntax and length; it is part of resource names.
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,63}$", var.grant_id))
    error_message = "grant_id must be lower-case letters, digits and dashes, at most 64 characters."
  }
}

variable "role" {
  description = "The lapse role (catalog entry) the grant gives."
  type        = string
}

variable "subject" {
  description = "Who the grant is for: a person's e-mail or group:<name>."
  type        = string
}

variable "reason" {
  description = "Why the access is needed."
  type        = string
  default     = null
}

variable "ticket" {
  description = "Change or incident ticket, if any."
  type        = string
  default     = null
}

variable "approvers" {
  description = "Who approved the grant."
  type        = list(string)
  default     = []
}

variable "starts_at" {
  description = "Start of the grant, RFC 3339 in UTC, or null."
  type        = string
  default     = null

  validation {
    # Timestamps reach IAM condition expressions: only this exact form may.
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

variable "principals" {
  description = "Person (lapse.yaml key) to the identity the target knows them by; a group subject lists each member."
  type        = map(string)

  validation {
    condition     = length(var.principals) > 0
    error_message = "principals must name at least one identity."
  }
}
