#!/usr/bin/env bash
# Proves the code runs on the other Node.js LTS lines, not only on the machine's own Node: for each version
# pinned in hack/versions.env (NODE_22_VERSION, NODE_24_VERSION) it runs the whole unit suite and a smoke set of
# integration files (operator, leader election with child processes, simulator + a server to ACTIVE, the facade,
# gophercloud) under that Node. Child processes the tests start use the same Node (process.execPath).
#
# The binaries come from the npm registry's node-linux-<arch> packages (npm checks their integrity), cached under
# ${ALTOSTACK_CACHE:-$HOME/.cache/altostack}/node-v<version>-linux-<arch>: fetched once, a few seconds.
# NODE_MATRIX=<path>[,<path>] uses existing node binaries instead.
#
# Usage: hack/node-matrix.sh [integration test files...]   (default: the smoke set below)
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HACK_DIR/.." && pwd)"
# shellcheck source=lib/cache.sh
source "$HACK_DIR/lib/cache.sh"
SMOKE_FILES=(
  operator/test/project.test.ts
  operator/test/operator-ha.test.ts
  operator/test/compute.test.ts
  operator/test/facade-wire.test.ts
  operator/test/facade-gophercloud.test.ts
)

log() { printf 'node-matrix: %s\n' "$*" >&2; }
die() {
  printf 'node-matrix: ERROR: %s\n' "$*" >&2
  exit 1
}

# shellcheck source=versions.env
source "$HACK_DIR/versions.env"
for pin in NODE_22_VERSION NODE_24_VERSION; do
  [[ -n "${!pin:-}" ]] || die "hack/versions.env does not set $pin"
done

node_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) die "no node-linux package for machine type $(uname -m); set NODE_MATRIX to node binaries" ;;
  esac
}

# Fills the empty $1 with node-linux-<arch>@$2 from the npm registry (run by ensure_cached).
fetch_node() {
  local dir=$1 version=$2 arch scratch
  arch=$(node_arch)
  command -v npm >/dev/null || die "npm not found (it fetches node-linux-$arch@$version from the npm registry)"
  log "fetching node-linux-$arch@$version from the npm registry"
  scratch=$(mktemp -d)
  (cd "$scratch" && npm pack --silent "node-linux-$arch@$version" >/dev/null) ||
    die "npm pack node-linux-$arch@$version failed (is the npm registry reachable?)"
  mkdir -p "$dir/bin"
  tar -xzf "$scratch"/node-linux-"$arch"-"$version".tgz -C "$scratch" package/bin/node package/LICENSE
  mv "$scratch/package/bin/node" "$dir/bin/node"
  mv "$scratch/package/LICENSE" "$dir/LICENSE"
  rm -rf "$scratch"
  [[ "$("$dir/bin/node" --version)" == "v$version" ]] || die "$dir/bin/node does not report v$version"
}

# Prints the path of a cached node binary of the given version, fetching it first if needed.
ensure_node() {
  local version=$1 dir
  dir="${ALTOSTACK_CACHE:-$HOME/.cache/altostack}/node-v$version-linux-$(node_arch)"
  ensure_cached "$dir" fetch_node "$dir" "$version"
  printf '%s\n' "$dir/bin/node"
}

if [[ -n "${NODE_MATRIX:-}" ]]; then
  IFS=, read -r -a nodes <<<"$NODE_MATRIX"
else
  nodes=("$(ensure_node "$NODE_22_VERSION")" "$(ensure_node "$NODE_24_VERSION")")
fi
if (($# > 0)); then
  integration_files=("$@")
else
  integration_files=("${SMOKE_FILES[@]}")
fi

cd "$REPO"
reports=.altostack/reports
mkdir -p "$reports"
summary=()
for node in "${nodes[@]}"; do
  [[ -x "$node" ]] || die "$node is not an executable node binary"
  version=$("$node" --version)
  log "$version: unit suite"
  "$node" node_modules/vitest/vitest.mjs run --project unit --reporter=dot --reporter=json \
    --outputFile.json="$reports/node-$version-unit.json"
  log "$version: integration smoke set (${integration_files[*]})"
  "$node" node_modules/vitest/vitest.mjs run --project integration --reporter=default --reporter=json \
    --outputFile.json="$reports/node-$version-integration.json" "${integration_files[@]}"
  summary+=("$version: $("$node" hack/test-summary.mjs "$reports/node-$version-unit.json" "$reports/node-$version-integration.json")")
done
for line in "${summary[@]}"; do log "$line"; done
