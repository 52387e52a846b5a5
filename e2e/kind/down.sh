#!/usr/bin/env bash
# Deletes the kind cluster made by up.sh (everything in it goes with it). Env: CLUSTER_NAME (altostack-e2e).
set -euo pipefail

CLUSTER_NAME="${CLUSTER_NAME:-altostack-e2e}"
command -v kind >/dev/null || {
  printf 'down.sh: ERROR: kind not found on PATH\n' >&2
  exit 1
}
kind delete cluster --name "$CLUSTER_NAME"
