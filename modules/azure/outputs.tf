output "active" {
  description = "Whether the grant was in force when this plan ran."
  value       = module.window.active
}

output "assignment_ids" {
  description = "Person to the id of their PIM active role assignment."
  value       = { for person, assignment in azurerm_pim_active_role_assignment.grant : person => assignment.id }
}
