output "active" {
  description = "Whether the grant was in force when this plan ran."
  value       = module.window.active
}

output "collaborators" {
  description = "Person to GitHub login added as a collaborator."
  value       = { for person, collaborator in github_repository_collaborator.grant : person => collaborator.username }
}
