output "active" {
  description = "Whether the grant was in force when this plan ran."
  value       = module.window.active
}

output "condition_expression" {
  description = "The IAM condition that bounds the binding in time."
  value       = local.expression
}
