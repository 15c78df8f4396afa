output "active" {
  description = "Whether the grant was in force when this plan ran."
  value       = module.window.active
}

output "binding_name" {
  description = "Name of the RoleBinding or ClusterRoleBinding."
  value       = local.name
}
