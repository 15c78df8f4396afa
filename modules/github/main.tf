module "window" {
  source = "../window"

  starts_at  = var.starts_at
  expires_at = var.expires_at
}

locals {
  owner = split("/", var.repository)[0]
  name  = split("/", var.repository)[1]
}

# The provider adds collaborators to `name` under its own `owner`. A
# provider configured for another owner would give access to that owner's
# repository of the same name, so the repository the provider finds under
# its owner must be the very one the grant names (node ids are global).
# Read only while the grant is in force: a repository deleted or renamed
# after expiry must not fail the plan that revokes everything else.
data "github_repository" "named" {
  count = module.window.active ? 1 : 0

  full_name = var.repository
}

data "github_repository" "under_provider_owner" {
  count = module.window.active ? 1 : 0

  name = local.name
}

# GitHub has no expiring collaborators: the window module is the only
# expiry (see README.md).
resource "github_repository_collaborator" "grant" {
  for_each = module.window.active ? var.principals : {}

  repository = local.name
  username   = each.value
  permission = var.permission

  lifecycle {
    precondition {
      condition     = data.github_repository.named[0].node_id != null && data.github_repository.under_provider_owner[0].node_id == data.github_repository.named[0].node_id
      error_message = "Grant ${var.grant_id} is for ${var.repository}, but the GitHub provider's owner has no such repository or another one of that name: configure the provider with owner = \"${local.owner}\"."
    }
  }
}
