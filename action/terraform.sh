#!/usr/bin/env bash
# Plans (and applies) every Terraform root that `lapse render` wrote: the
# output directory itself, or, with `--split-by team`, each team's folder
# under it. Every root gets its own state, so a lost or shared local state
# can never turn a revocation into a no-op. One failing root does not stop
# the others; the script exits 1 at the end if any failed.
#
# Environment:
#   LAPSE_TF           terraform or tofu (default terraform)
#   LAPSE_OUT          the render output directory (default generated)
#   LAPSE_MODE         plan, or apply (plan, then apply that plan)
#   LAPSE_BACKEND_FILE optional file with a `terraform { backend "…" {} }`
#                      block, copied into each root as lapse_backend.tf
#   LAPSE_BACKEND_CONFIG optional lines of key=value for -backend-config;
#                      `{root}` in a value becomes the root's name
#                      (`_root` for the output directory itself), e.g.
#                      key=lapse/{root}.tfstate
#   GITHUB_STEP_SUMMARY when set, each plan is appended to it
set -euo pipefail

tf="${LAPSE_TF:-terraform}"
out="${LAPSE_OUT:-generated}"
mode="${LAPSE_MODE:-plan}"
case "$tf" in terraform | tofu) ;; *) echo "lapse terraform: LAPSE_TF must be terraform or tofu" >&2; exit 2 ;; esac
case "$mode" in plan | apply) ;; *) echo "lapse terraform: LAPSE_MODE must be plan or apply" >&2; exit 2 ;; esac
[[ -d "$out" ]] || { echo "lapse terraform: $out does not exist; run lapse render first" >&2; exit 2; }

roots=()
if compgen -G "$out/*.tf" >/dev/null; then
  roots+=("$out")
fi
for dir in "$out"/*/; do
  dir="${dir%/}"
  if compgen -G "$dir/*.tf" >/dev/null; then
    roots+=("$dir")
  fi
done
if [[ ${#roots[@]} -eq 0 ]]; then
  echo "lapse terraform: no .tf files under $out" >&2
  exit 2
fi

summary() {
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
    cat >>"$GITHUB_STEP_SUMMARY"
  else
    cat >/dev/null
  fi
}

failed=()
for root in "${roots[@]}"; do
  name="_root"
  if [[ "$root" != "$out" ]]; then name="$(basename "$root")"; fi
  echo "::group::${tf} ${mode}: ${root}"
  init_args=(-input=false)
  if [[ -n "${LAPSE_BACKEND_FILE:-}" ]]; then
    cp "$LAPSE_BACKEND_FILE" "$root/lapse_backend.tf"
  else
    init_args+=(-backend=false)
  fi
  while IFS= read -r line; do
    [[ -n "$line" ]] && init_args+=("-backend-config=${line//\{root\}/$name}")
  done <<<"${LAPSE_BACKEND_CONFIG:-}"
  if "$tf" -chdir="$root" init "${init_args[@]}" &&
    "$tf" -chdir="$root" plan -input=false -lock-timeout=5m -out=lapse.tfplan &&
    { "$tf" -chdir="$root" show -no-color lapse.tfplan >"$root/lapse.plan.txt"; } &&
    { printf '<details><summary>%s plan: <code>%s</code></summary>\n\n```\n' "$tf" "$root"
      cat "$root/lapse.plan.txt"
      printf '```\n\n</details>\n\n'; } | summary &&
    { [[ "$mode" == plan ]] || "$tf" -chdir="$root" apply -input=false -lock-timeout=5m lapse.tfplan; }; then
    echo "::endgroup::"
  else
    echo "::endgroup::"
    echo "::error title=lapse ${tf} ${mode}::${root} failed; the other roots went on"
    failed+=("$root")
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "lapse terraform: ${mode} failed in: ${failed[*]}" >&2
  exit 1
fi
