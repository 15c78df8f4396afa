output "active" {
  description = "Whether the grant was in force when this plan ran."
  value       = module.window.active
}

output "permission_set_arn" {
  description = "ARN of the grant's permission set, or null once expired."
  value       = one(aws_ssoadmin_permission_set.grant[*].arn)
}

output "assigned" {
  description = "Person to the Identity Center user id the permission set is assigned to."
  value       = { for person, assignment in aws_ssoadmin_account_assignment.grant : person => assignment.principal_id }
}
