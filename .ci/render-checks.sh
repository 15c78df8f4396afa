#!/usr/bin/env bash
# Checks of `lapse render` that need tools outside cargo, called by .ci/run.
# Installs nothing. Needs:
#   checkov   on PATH, or CHECKOV=/path/to/checkov (keep it in its own venv:
#             it pulls bc-python-hcl2, which overwrites python-hcl2's `hcl2`)
#   terraform optional; its checks are skipped when it is not on PATH,
#             unless LAPSE_REQUIRE_TERRAFORM=1 (.ci/run sets it)
# Usage: .ci/render-checks.sh [GRANTS_REPO]   (default: the project root,
#        whose lapse.yaml and grants/ are the worked example)
# Env:   LAPSE_BIN (default: build with cargo), LAPSE_NOW (default: the clock)
set -euo pipefail
project="$(cd "$(dirname "$0")/.." && pwd)"
example="$(cd "${1:-$project}" && pwd)"
checkov="${CHECKOV:-checkov}"

if [[ -z "${LAPSE_BIN:-}" ]]; then
  cargo build --quiet --manifest-path "$project/Cargo.toml"
  LAPSE_BIN="${CARGO_TARGET_DIR:-$project/target}/debug/lapse"
fi
now_args=()
if [[ -n "${LAPSE_NOW:-}" ]]; then now_args=(--now "$LAPSE_NOW"); fi

# Render a copy of the example next to this project's modules/, since the
# rendered code refers to them as ../modules/<target>.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$example/lapse.yaml" "$work/"
cp -R "$example/grants" "$work/grants"
if [[ -d "$example/templates" ]]; then cp -R "$example/templates" "$work/templates"; fi
cp -R "$project/modules" "$work/modules"

echo "== lapse render of $example"
"$LAPSE_BIN" --repo "$work" "${now_args[@]}" render --out generated
echo "== lapse render --check right after a render finds no drift"
"$LAPSE_BIN" --repo "$work" "${now_args[@]}" render --out generated --check
echo "== lapse render --split-by target of $example"
"$LAPSE_BIN" --repo "$work" "${now_args[@]}" render --out by-target --split-by target

if command -v terraform >/dev/null; then
  echo "== terraform fmt -check: rendered code (one root, and one per target) and modules"
  terraform fmt -check -recursive "$work/generated"
  terraform fmt -check -recursive "$work/by-target"
  terraform fmt -check -recursive "$project/modules"

  echo "== terraform: the window module drops expired and not-yet-started grants at plan time"
  cat > "$work/window.tf" <<TF
module "expired" {
  source     = "./modules/window"
  expires_at = "2020-01-01T00:00:00Z"
}
module "active" {
  source     = "./modules/window"
  starts_at  = "2020-01-01T00:00:00Z"
  expires_at = "2999-01-01T00:00:00Z"
}
module "not_started" {
  source     = "./modules/window"
  starts_at  = "2999-01-01T00:00:00Z"
  expires_at = "2999-02-01T00:00:00Z"
}
output "window" {
  value = [module.expired.active, module.active.active, module.not_started.active]
}
TF
  (
    cd "$work"
    terraform init -backend=false -input=false >/dev/null
    terraform validate -no-color
    plan="$(terraform plan -input=false -no-color)"
    compact="$(tr -d ' \n' <<<"$plan")"
    if [[ "$compact" != *'window=[+false,+true,+false,]'* ]]; then
      echo "$plan" >&2
      echo "render-checks: the window module did not expire as expected" >&2
      exit 1
    fi
  )
elif [[ -n "${LAPSE_REQUIRE_TERRAFORM:-}" ]]; then
  echo "render-checks: LAPSE_REQUIRE_TERRAFORM is set but terraform is not on PATH" >&2
  exit 1
else
  echo "== terraform not installed: skipping fmt and window checks"
fi

echo "== checkov over modules/ and the rendered example"
# --skip-download: no calls to the Prisma Cloud API. checkov exits non-zero
# on any failed check.
"$checkov" -d "$project/modules" --framework terraform --compact --quiet --skip-download
"$checkov" -d "$work/generated" --framework terraform --compact --quiet --skip-download

echo "== checks suppressed in modules/ (each with its reason)"
grep -rn "checkov:skip=" "$project/modules" | sed 's/^/  /' || echo "  none"
