terraform {
  # plantimestamp() (the plan-time expiry) first appeared in Terraform 1.5.
  required_version = ">= 1.5.0"

  required_providers {
    github = {
      source  = "integrations/github"
      version = ">= 6.0"
    }
  }
}
