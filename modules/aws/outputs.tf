output "active" {
  description = "Whether the grant was in force when this plan ran."
  value       = module.window.active
}

output "policy_arn" {
  description = "ARN of the grant's managed policy, or null once expired."
  value       = one(aws_iam_policy.grant[*].arn)
}

output "attached" {
  description = "Person to the IAM role or user name the policy is attached to."
  value       = merge(local.role_names, local.user_names)
}
