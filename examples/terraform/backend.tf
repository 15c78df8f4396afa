# terraform/backend.tf of a grants repository: the state backend that the
# lapse apply workflow copies into every root it applies. State must
# outlive the runner: with a local state, the next run would not know the
# resources it created, and an expired grant would never be destroyed.
# The key is set per root by the workflow's backend-config input
# (key=lapse/{root}.tfstate), so each team's root has its own state.
terraform {
  backend "s3" {
    bucket       = "example-lapse-state"
    region       = "eu-west-1"
    use_lockfile = true
    encrypt      = true
  }
}
