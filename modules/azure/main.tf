module "window" {
  source = "../window"

  starts_at  = var.starts_at
  expires_at = var.expires_at
}

data "azurerm_role_definition" "grant" {
  name  = var.role_definition
  scope = var.scope
}

# A PIM active assignment whose schedule ends at expiry: Entra ID removes
# the assignment itself
# (https://learn.microsoft.com/en-us/entra/id-governance/privileged-identity-management/pim-resource-roles-assign-roles).
resource "azurerm_pim_active_role_assignment" "grant" {
  for_each = module.window.active ? var.principals : {}

  scope              = var.scope
  role_definition_id = data.azurerm_role_definition.grant.id
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
