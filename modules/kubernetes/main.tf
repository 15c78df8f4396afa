module "window" {
  source = "../window"

  starts_at  = var.starts_at
  expires_at = var.expires_at
}

# Kubernetes RBAC has no expiring bindings: the window module is the only
# expiry (see README.md). The annotations say what the binding is for.
locals {
  name = "lapse-${var.grant_id}"
  annotations = merge(
    {
      "lapse/grant-id"   = var.grant_id
      "lapse/role"       = var.role
      "lapse/subject"    = var.subject
      "lapse/expires-at" = var.expires_at
      "lapse/approvers"  = join(", ", var.approvers)
    },
    var.ticket == null ? {} : { "lapse/ticket" = var.ticket },
    var.reason == null ? {} : { "lapse/reason" = var.reason },
  )
  labels = {
    "app.kubernetes.io/managed-by" = "lapse"
  }
}

resource "kubernetes_role_binding_v1" "grant" {
  count = module.window.active && var.namespace != null ? 1 : 0

  metadata {
    name        = local.name
    namespace   = var.namespace
    annotations = local.annotations
    labels      = local.labels
  }

  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "ClusterRole"
    name      = var.cluster_role
  }

  dynamic "subject" {
    for_each = var.principals

    content {
      api_group = "rbac.authorization.k8s.io"
      kind      = "User"
      name      = subject.value
    }
  }
}

resource "kubernetes_cluster_role_binding_v1" "grant" {
  count = module.window.active && var.namespace == null ? 1 : 0

  metadata {
    name        = local.name
    annotations = local.annotations
    labels      = local.labels
  }

  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "ClusterRole"
    name      = var.cluster_role
  }

  dynamic "subject" {
    for_each = var.principals

    content {
      api_group = "rbac.authorization.k8s.io"
      kind      = "User"
      name      = subject.value
    }
  }
}
