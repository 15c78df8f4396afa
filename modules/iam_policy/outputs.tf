output "json" {
  description = "The policy document, as IAM takes it."
  value       = jsonencode(local.document)
}
