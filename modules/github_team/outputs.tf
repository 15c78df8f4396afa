output "active" {
  description = "Whether the grant was in force when this plan ran."
  value       = module.window.active
}

output "members" {
  description = "Person to GitHub login added to the team."
  value       = { for person, membership in github_team_membership.grant : person => membership.username }
}
