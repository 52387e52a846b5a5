#!/usr/bin/env bash
# Ensures a Python venv with the real OpenStack clients (python-openstackclient, openstacksdk and every dependency
# pinned in hack/openstack-clients/requirements.txt) and prints its bin directory on stdout. Progress goes to stderr.
#
# The venv lives in ${ALTOSTACK_CACHE:-$HOME/.cache/altostack}/venv-osc-<version>-sdk-<version>-<hash>, keyed by
# the requirements file, so it is built once (about 20 s) and reused by every later run. Idempotent and safe to
# run concurrently (a lock serialises builders; a stamp marks a finished venv, a half-built one is rebuilt).
#
# ALTOSTACK_OPENSTACK_VENV=<dir> uses an existing venv instead (its bin/ must hold `openstack`).
# PYTHON=<interpreter> chooses the Python (3.10 or newer); default python3.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REQUIREMENTS="$HACK_DIR/openstack-clients/requirements.txt"
# shellcheck source=lib/cache.sh
source "$HACK_DIR/lib/cache.sh"

log() { printf 'openstack-venv: %s\n' "$*" >&2; }
die() {
  printf 'openstack-venv: ERROR: %s\n' "$*" >&2
  exit 1
}

if [[ -n "${ALTOSTACK_OPENSTACK_VENV:-}" ]]; then
  [[ -x "$ALTOSTACK_OPENSTACK_VENV/bin/openstack" ]] || die "ALTOSTACK_OPENSTACK_VENV=$ALTOSTACK_OPENSTACK_VENV has no bin/openstack"
  printf '%s\n' "$ALTOSTACK_OPENSTACK_VENV/bin"
  exit 0
fi

[[ -f "$REQUIREMENTS" ]] || die "missing $REQUIREMENTS"
PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null || die "$PYTHON not found; install Python 3.10+ or set PYTHON"
"$PYTHON" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null ||
  die "$PYTHON must be Python 3.10 or newer with the venv module"

pin() { sed -n "s/^$1==//p" "$REQUIREMENTS"; }
OSC_VERSION="$(pin python-openstackclient)"
SDK_VERSION="$(pin openstacksdk)"
[[ -n "$OSC_VERSION" && -n "$SDK_VERSION" ]] || die "$REQUIREMENTS must pin python-openstackclient and openstacksdk"
HASH="$(sha256sum "$REQUIREMENTS" | cut -c1-12)"
CACHE="${ALTOSTACK_CACHE:-$HOME/.cache/altostack}"
VENV="$CACHE/venv-osc-$OSC_VERSION-sdk-$SDK_VERSION-$HASH"

# Fills the empty $VENV (run by ensure_cached).
build_venv() {
  local started=$SECONDS
  log "creating $VENV (python-openstackclient $OSC_VERSION, openstacksdk $SDK_VERSION)"
  "$PYTHON" -m venv "$VENV"
  # Every dependency is pinned, so no resolution: exactly these versions, nothing else.
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$REQUIREMENTS" >&2
  "$VENV/bin/python" -c 'import openstack, openstackclient' || die "the venv cannot import the clients"
  log "ready in $((SECONDS - started)) s"
}
ensure_cached "$VENV" build_venv
printf '%s\n' "$VENV/bin"
