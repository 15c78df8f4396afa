module "window" {
  source = "../window"

  starts_at  = var.starts_at
  expires_at = var.expires_at
}

# Read only while the grant is in force: a role definition deleted after
# the grant expired must not fail the plan that revokes everything else.
data "azurerm_role_definition" "grant" {
  count = module.window.active ? 1 : 0

  name  = var.role_definition
  scope = var.scope
}

locals {
  # The provider finds the assignment it created by comparing the role
  # definition id it was given with the one Azure reports, which is scoped
  # to the assignment's subscription (or unscoped at a management group);
  # any other form of the same id makes the apply wait until it times out
  # (hashicorp/terraform-provider-azurerm#23775, #31913). The data source's
  # own `id` takes whichever scope it was read at, so the id is built here
  # from the role's GUID.
  subscription_id       = try(regex("(?i)^/subscriptions/([^/]+)", var.scope)[0], null)
  role_definition_scope = local.subscription_id == null ? "" : "/subscriptions/${local.subscription_id}"
}

# A PIM active assignment whose schedule ends at expiry: Entra ID removes
# the assignment itself
# (https://learn.microsoft.com/en-us/entra/id-governance/privileged-identity-management/pim-resource-roles-assign-roles).
resource "azurerm_pim_active_role_assignment" "grant" {
  for_each = module.window.active ? var.principals : {}

  scope              = var.scope
  role_definition_id = "${local.role_definition_scope}/providers/Microsoft.Authorization/roleDefinitions/${data.azurerm_role_definition.grant[0].role_definition_id}"
  principal_id       = each.value
  justification      = substr("lapse grant ${var.grant_id}: ${coalesce(var.reason, "no reason given")}", 0, 500)

  schedule {
    start_date_time = var.starts_at

    expiration {
      end_date_time = var.expires_at
    }
  }

  dynamic "ticket" {
    for_each = var.ticket == null ? [] : [var.ticket]

    content {
      number = ticket.value
      system = "lapse"
    }
  }
}
