# Sourced by up.sh and scenario.sh: where things are, the pinned versions, the cluster's names, logging.
# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts that source this file

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=versions.env
source "$HERE/versions.env"

CLUSTER_NAME="${CLUSTER_NAME:-altostack-e2e}"
NODE="$CLUSTER_NAME-control-plane"
NAMESPACE=altostack-system

log() { printf '\n== %s\n' "$*" >&2; }
die() {
  printf '%s: ERROR: %s\n' "${0##*/}" "$*" >&2
  exit 1
}

# Fails naming the first of the given commands that is not on PATH.
require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "$tool not found on PATH"
  done
}
