module "window" {
  source = "../window"

  starts_at  = var.starts_at
  expires_at = var.expires_at
}

# GitHub has no expiring collaborators: the window module is the only
# expiry (see README.md).
resource "github_repository_collaborator" "grant" {
  for_each = module.window.active ? var.principals : {}

  repository = split("/", var.repository)[1]
  username   = each.value
  permission = var.permission
}
