module "window" {
  source = "../window"

  starts_at  = var.starts_at
  expires_at = var.expires_at
}

locals {
  # A CEL expression on request.time: Google IAM ignores the binding
  # outside the window (https://cloud.google.com/iam/docs/conditions-attribute-reference#date-time).
  # Only validated timestamps reach it, so no grant can inject CEL.
  not_before = var.starts_at == null ? "" : "request.time >= timestamp(\"${var.starts_at}\") && "
  expression = "${local.not_before}request.time < timestamp(\"${var.expires_at}\")"
  ticket     = var.ticket == null ? "" : ", ticket ${var.ticket}"
}

resource "google_project_iam_member" "grant" {
  for_each = module.window.active ? var.principals : {}

  project = var.project
  role    = var.iam_role
  member  = each.value

  lifecycle {
    precondition {
      # lapse check refuses these too; the module holds the line for code
      # rendered by another tool. allUsers and allAuthenticatedUsers take
      # no IAM condition, so they could never expire, and a member without
      # its type prefix is refused by Google
      # (https://cloud.google.com/iam/docs/principal-identifiers).
      condition     = can(regex("^(user|group|serviceAccount):[^@\\s]+@[^@\\s]+$|^domain:[^\\s]+$|^principal(Set)?://[^\\s]+$", each.value))
      error_message = "Grant ${var.grant_id}: ${each.key} is \"${each.value}\" at GCP; a member must be user:, group:, serviceAccount: or domain: followed by its identity, or a principal:// or principalSet:// identifier, never allUsers or allAuthenticatedUsers."
    }
  }

  condition {
    # IAM limits: title 100 characters, description 256.
    title       = "lapse ${var.grant_id}"
    description = substr("lapse grant ${var.grant_id} until ${var.expires_at}, approved by ${join(" ", var.approvers)}${local.ticket}", 0, 256)
    expression  = local.expression
  }
}
