terraform {
  # plantimestamp() first appeared in Terraform 1.5.
  required_version = ">= 1.5.0"
}
