output "active" {
  description = "Whether the grant is in force at plan time: started and not expired."
  value       = local.started && !local.expired
}
