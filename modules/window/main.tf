# The second layer of expiry, shared by every target module: whether the
# grant is in force at the time of the plan. A module that counts its
# resources on `active` drops them in the first plan after expiry, so an
# apply revokes the access even if nobody re-rendered or pruned.
# plantimestamp() needs Terraform 1.5
# (https://developer.hashicorp.com/terraform/language/functions/plantimestamp).

locals {
  started = var.starts_at == null ? true : timecmp(plantimestamp(), var.starts_at) >= 0
  expired = timecmp(plantimestamp(), var.expires_at) >= 0
}
