terraform {
  # plantimestamp() (the plan-time expiry) first appeared in Terraform 1.5.
  # azurerm 3.105 is the first whose PIM assignments stay manageable past
  # 45 days and without a ticket (see README.md).
  required_version = ">= 1.5.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 3.105"
    }
  }
}
