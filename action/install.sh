#!/usr/bin/env bash
# Installs a lapse release binary into the runner tool cache, verified
# against the release's SHA-256 checksum file, and prints the directory
# that holds it. Used by action.yml; runs anywhere bash, curl and tar are.
#
# Environment:
#   LAPSE_VERSION      release to install, X.Y.Z (required)
#   LAPSE_REPOSITORY   owner/name of the lapse repository on GitHub
#                      (default lapse-grants/lapse; the action passes its own)
#   RUNNER_TOOL_CACHE  where tools are kept (default: $HOME/.cache/lapse-tools)
#   RUNNER_OS, RUNNER_ARCH  the platform as Actions names it (default: uname)
#   GITHUB_PATH        when set, the directory is appended to it
#   LAPSE_INSTALL_TEST_BASE_URL  for this project's tests only: download
#                      from http://127.0.0.1:PORT/... instead of GitHub. Any
#                      other value is refused, so the variable can never point
#                      a workflow at a server elsewhere (the checksum file
#                      comes from the same place as the binary, so whoever
#                      chooses the URL chooses what is trusted).
set -euo pipefail

fail() {
  echo "lapse install: $*" >&2
  exit 1
}

version="${LAPSE_VERSION:-}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  fail "version '${version}' is not a release number like 0.1.0 (set the action's version input)"

repository="${LAPSE_REPOSITORY:-lapse-grants/lapse}"
[[ "$repository" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] ||
  fail "repository '${repository}' is not owner/name"

# The release targets, named as Rust names them (release.yml builds them).
os="${RUNNER_OS:-$(uname -s)}"
arch="${RUNNER_ARCH:-$(uname -m)}"
case "${os}/${arch}" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64 | Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-musl ;;
  macOS/X64 | Darwin/x86_64) target=x86_64-apple-darwin ;;
  macOS/ARM64 | Darwin/arm64 | Darwin/aarch64) target=aarch64-apple-darwin ;;
  *) fail "no lapse release binary for ${os}/${arch}; build it with: cargo install --locked lapse-grants" ;;
esac

# The layout of @actions/tool-cache: <cache>/<tool>/<version>/<arch>, and a
# <dir>.complete marker written last, so an interrupted install is redone.
tool_cache="${RUNNER_TOOL_CACHE:-${HOME}/.cache/lapse-tools}"
dir="${tool_cache}/lapse/${version}/${target}"

if [[ -f "${dir}.complete" && -x "${dir}/lapse" ]]; then
  echo "lapse install: ${version} (${target}) found in the tool cache" >&2
else
  if [[ -n "${LAPSE_INSTALL_TEST_BASE_URL:-}" ]]; then
    [[ "$LAPSE_INSTALL_TEST_BASE_URL" =~ ^http://127\.0\.0\.1:[0-9]+(/[A-Za-z0-9._/-]*)?$ ]] ||
      fail "LAPSE_INSTALL_TEST_BASE_URL must be http://127.0.0.1:PORT/... (it exists for lapse's own tests)"
    base="${LAPSE_INSTALL_TEST_BASE_URL%/}/v${version}"
    protocols="=http"
  else
    base="https://github.com/${repository}/releases/download/v${version}"
    protocols="=https"
  fi
  asset="lapse-${version}-${target}.tar.gz"
  sums="lapse-${version}-SHA256SUMS"

  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  download() {
    # --proto keeps redirects on the same protocol; GitHub redirects
    # release assets to its object storage over https.
    curl --silent --show-error --fail --location --proto "$protocols" \
      --retry 3 --max-time 120 --output "$work/$1" "$base/$1" ||
      fail "could not download $base/$1 (is ${version} released for ${target}?)"
  }
  download "$sums"
  download "$asset"

  expected="$(awk -v name="$asset" '$2 == name || $2 == "*" name { print $1; exit }' "$work/$sums")"
  [[ "$expected" =~ ^[0-9a-f]{64}$ ]] || fail "$sums has no checksum for $asset"
  if command -v sha256sum >/dev/null; then
    actual="$(sha256sum "$work/$asset" | awk '{ print $1 }')"
  else
    actual="$(shasum -a 256 "$work/$asset" | awk '{ print $1 }')"
  fi
  [[ "$actual" == "$expected" ]] ||
    fail "checksum mismatch for $asset: expected $expected, got $actual; not installed"

  mkdir -p "$work/unpacked"
  tar -xzf "$work/$asset" -C "$work/unpacked" lapse ||
    fail "$asset does not contain the lapse binary"
  rm -rf "$dir" "${dir}.complete"
  mkdir -p "$dir"
  install -m 0755 "$work/unpacked/lapse" "$dir/lapse"
  touch "${dir}.complete"
  echo "lapse install: ${version} (${target}) installed from $base" >&2
fi

if [[ -n "${GITHUB_PATH:-}" ]]; then
  echo "$dir" >>"$GITHUB_PATH"
fi
echo "$dir"
