module "window" {
  source = "../window"

  starts_at  = var.starts_at
  expires_at = var.expires_at
}

locals {
  organization = split("/", var.team)[0]
  slug         = split("/", var.team)[1]
}

# The provider adds team members in its own organisation (`owner`). A
# provider configured for another organisation would add them to that
# organisation's team of the same slug, so each person's membership is read
# in the organisation the grant names and in the provider's, and the two
# must be the same membership (its id is "<organisation>:<login>"). Reading
# it also means a team grant is only for members of the organisation:
# GitHub would otherwise invite the person into the whole organisation, a
# wider access than the team's. Read only while the grant is in force.
data "github_membership" "in_named_organization" {
  for_each = module.window.active ? var.principals : {}

  username     = each.value
  organization = local.organization
}

data "github_membership" "in_provider_organization" {
  for_each = module.window.active ? var.principals : {}

  username = each.value
}

# GitHub has no expiring team memberships: the window module is the only
# expiry (see README.md).
resource "github_team_membership" "grant" {
  for_each = module.window.active ? var.principals : {}

  team_id  = local.slug
  username = each.value
  role     = var.team_role

  lifecycle {
    precondition {
      condition     = data.github_membership.in_provider_organization[each.key].id == data.github_membership.in_named_organization[each.key].id
      error_message = "Grant ${var.grant_id} is for team ${var.team}, but the GitHub provider's owner is another organisation: configure the provider with owner = \"${local.organization}\"."
    }
  }
}
