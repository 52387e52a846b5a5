# Sourced by the hack/ scripts that keep a built thing in the tool cache (a venv, a Node binary).
# shellcheck shell=bash

# ensure_cached DIR COMMAND [ARGS...]: makes sure DIR holds a finished build. COMMAND fills the empty DIR; it runs
# at most once at a time (a lock beside DIR serialises concurrent runs), and a stamp in DIR marks it finished, so a
# half-built DIR from an interrupted run is built again.
ensure_cached() {
  local dir=$1
  shift
  local stamp="$dir/.altostack-complete"
  [[ -f "$stamp" ]] && return 0
  mkdir -p "$(dirname "$dir")"
  exec 9>"$dir.lock"
  flock 9
  # Checked again under the lock: another run may have finished it meanwhile.
  if [[ ! -f "$stamp" ]]; then
    rm -rf "$dir"
    "$@"
    touch "$stamp"
  fi
  flock -u 9
}
