variable "namespace" {
  description = "Namespace of the RoleBinding; null makes a ClusterRoleBinding."
  type        = string
  default     = null

  validation {
    condition     = var.namespace == null || can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS label."
  }
}

variable "cluster_role" {
  description = "ClusterRole the binding refers to, for example view or edit."
  type        = string
}
