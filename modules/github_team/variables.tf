variable "team" {
  description = "organization/team-slug of the team; the plan fails unless the provider's owner is that organisation."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9-]+/[a-z0-9_-]+$", var.team))
    error_message = "team must be organization/team-slug."
  }
}

variable "team_role" {
  description = "Role in the team: member, or maintainer (which lapse check reports as privilege-escalation unless excepted)."
  type        = string
  default     = "member"
  nullable    = false

  validation {
    condition     = contains(["member", "maintainer"], var.team_role)
    error_message = "team_role must be member or maintainer."
  }
}
