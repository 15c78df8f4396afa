#!/usr/bin/env bash
# Checks of everything lapse ships for CI engines, called by .ci/run:
#   zizmor (offline, auditor persona): any finding above informational fails
#   actionlint: workflows, with shellcheck over their run: scripts
#   check-jsonschema: GitHub workflow and action schemas and GitLab's CI
#     schema, as vendored by check-jsonschema (no network)
#   ShellCheck over the action scripts
# Usage: .ci/workflow-checks.sh   (installs its tools in a virtualenv unless
#        WORKFLOW_TOOLS=/path/to/venv/bin names one that has them)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${WORKFLOW_TOOLS:-}" ]]; then
  venv="$(mktemp -d)/workflow-tools"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r .ci/requirements-workflows.txt
  WORKFLOW_TOOLS="$venv/bin"
fi
export PATH="$WORKFLOW_TOOLS:$PATH"

workflows=(.github/workflows/*.yml examples/github/*.yml examples/gitea/*.yml)

echo "== zizmor over ${workflows[*]} action.yml"
# --min-severity low: informational findings are reported, not failures.
zizmor --offline --persona auditor --no-progress --min-severity low \
  --config .github/zizmor.yml "${workflows[@]}" action.yml

echo "== actionlint"
actionlint "${workflows[@]}"

echo "== check-jsonschema"
check-jsonschema --builtin-schema vendor.github-workflows "${workflows[@]}"
check-jsonschema --builtin-schema vendor.github-actions action.yml
# An include with inputs is two YAML documents (the spec: header, then the
# jobs), which check-jsonschema does not read as one file: check each.
gitlab_docs="$(mktemp -d)"
awk -v dir="$gitlab_docs" '/^---$/ { part = 1; next } { print > (dir "/" (part ? "jobs" : "spec") ".gitlab-ci.yml") }' \
  ci/gitlab/lapse.gitlab-ci.yml
check-jsonschema --builtin-schema vendor.gitlab-ci "$gitlab_docs/spec.gitlab-ci.yml" "$gitlab_docs/jobs.gitlab-ci.yml" \
  examples/gitlab/.gitlab-ci.yml

echo "== shellcheck"
shellcheck action/*.sh .ci/*.sh
