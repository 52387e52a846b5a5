#!/usr/bin/env bash
# Ensures the local control-plane tools exist (kube-apiserver, kube-controller-manager, kubectl, etcd, helm)
# and prints the directory holding all five on stdout. Progress and timings go to stderr.
#
# Where each tool comes from, first match wins:
#   1. an env var naming it: KUBE_APISERVER, KUBE_CONTROLLER_MANAGER, KUBECTL, ETCD, HELM
#   2. ALTOSTACK_TOOLS_FROM_PATH=1 and the tool is on PATH
#   3. built from hack/tools/<kube|etcd|helm> with the local Go toolchain into
#      ${ALTOSTACK_CACHE:-$HOME/.cache/altostack}/<tool>-<version>/bin (reused when already there)
# The printed directory holds symlinks to the chosen binaries.
#
# Usage: hack/build-tools.sh [--print-dir]
#   --print-dir  only print where the tools are (or would be), build nothing.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS_MODULES_DIR="$HACK_DIR/tools"

log() { printf 'build-tools: %s\n' "$*" >&2; }
die() {
  printf 'build-tools: ERROR: %s\n' "$*" >&2
  exit 1
}

PRINT_DIR_ONLY=0
case "${1:-}" in
  "") ;;
  --print-dir) PRINT_DIR_ONLY=1 ;;
  -h | --help)
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 0
    ;;
  *) die "unknown argument '$1' (usage: hack/build-tools.sh [--print-dir])" ;;
esac

[[ -f "$HACK_DIR/versions.env" ]] || die "missing $HACK_DIR/versions.env"
# shellcheck source=versions.env
source "$HACK_DIR/versions.env"
for pin in KUBERNETES_VERSION ETCD_VERSION HELM_VERSION; do
  [[ -n "${!pin:-}" ]] || die "hack/versions.env does not set $pin"
done

# --- the pins in hack/versions.env and hack/tools/*/go.mod must agree --------------------------------

# Version a go.mod requires for a module, from either `require m v` or a line inside a require block.
gomod_required_version() {
  local gomod=$1 module=$2
  awk -v m="$module" '
    $1 == "require" && $2 == m { print $3; exit }
    $1 == m && $2 ~ /^v/ { print $2; exit }
  ' "$gomod"
}

check_pin() {
  local pin_name=$1 tool_dir=$2 module=$3
  local gomod="$TOOLS_MODULES_DIR/$tool_dir/go.mod"
  local pinned=${!pin_name}
  [[ -f "$gomod" ]] || die "missing $gomod (the Go module that pins $module)"
  local required
  required=$(gomod_required_version "$gomod" "$module")
  [[ -n "$required" ]] || die "$gomod does not require $module"
  if [[ "$required" != "$pinned" ]]; then
    die "version pins disagree: hack/versions.env has $pin_name=$pinned but hack/tools/$tool_dir/go.mod requires $module $required.
    Change both together, e.g. 'cd hack/tools/$tool_dir && go get $module@$pinned && go mod tidy'$(
      [[ $tool_dir == kube ]] && printf '%s' " (and move the k8s.io/* staging replaces to the matching v0.x release)"
    )."
  fi
}

check_pin KUBERNETES_VERSION kube k8s.io/kubernetes
check_pin ETCD_VERSION etcd go.etcd.io/etcd/server/v3
check_pin HELM_VERSION helm helm.sh/helm/v4

# --- where each tool comes from ----------------------------------------------------------------------

CACHE_ROOT="${ALTOSTACK_CACHE:-$HOME/.cache/altostack}"
KUBE_BUILD_DIR="$CACHE_ROOT/kubernetes-$KUBERNETES_VERSION/bin"
ETCD_BUILD_DIR="$CACHE_ROOT/etcd-$ETCD_VERSION/bin"
HELM_BUILD_DIR="$CACHE_ROOT/helm-$HELM_VERSION/bin"

TOOLS=(kube-apiserver kube-controller-manager kubectl etcd helm)

env_var_for() {
  case $1 in
    kube-apiserver) echo KUBE_APISERVER ;;
    kube-controller-manager) echo KUBE_CONTROLLER_MANAGER ;;
    kubectl) echo KUBECTL ;;
    etcd) echo ETCD ;;
    helm) echo HELM ;;
  esac
}

build_path_for() {
  case $1 in
    kube-apiserver | kube-controller-manager | kubectl) echo "$KUBE_BUILD_DIR/$1" ;;
    etcd) echo "$ETCD_BUILD_DIR/etcd" ;;
    helm) echo "$HELM_BUILD_DIR/helm" ;;
  esac
}

absolute_path() {
  local p=$1
  if [[ "$p" != */* ]]; then
    command -v "$p" || return 1
    return 0
  fi
  printf '%s/%s\n' "$(cd "$(dirname "$p")" && pwd)" "$(basename "$p")"
}

# Prints the binary chosen for a tool by env var or PATH, or nothing when it has to come from our build.
override_for() {
  local tool=$1 var
  var=$(env_var_for "$tool")
  local value=${!var:-}
  if [[ -n "$value" ]]; then
    local resolved
    resolved=$(absolute_path "$value") || die "$var=$value: not found"
    [[ -f "$resolved" && -x "$resolved" ]] || die "$var=$value: not an executable file"
    echo "$resolved"
    return 0
  fi
  if [[ "${ALTOSTACK_TOOLS_FROM_PATH:-0}" == 1 ]]; then
    command -v "$tool" || true
  fi
}

declare -A SOURCE_OF
ANY_OVERRIDE=0
for tool in "${TOOLS[@]}"; do
  chosen=$(override_for "$tool")
  if [[ -n "$chosen" ]]; then
    ANY_OVERRIDE=1
  else
    chosen=$(build_path_for "$tool")
  fi
  SOURCE_OF[$tool]=$chosen
done

# The printed directory is a pure function of where the tools come from, so two runs with different
# overrides never rewrite each other's symlinks.
if [[ $ANY_OVERRIDE == 0 ]]; then
  BIN_DIR="$CACHE_ROOT/bin-k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION"
else
  sources_hash=$(for tool in "${TOOLS[@]}"; do echo "$tool=${SOURCE_OF[$tool]}"; done | cksum | cut -d' ' -f1)
  BIN_DIR="$CACHE_ROOT/bin-custom-$sources_hash"
fi

if [[ $PRINT_DIR_ONLY == 1 ]]; then
  echo "$BIN_DIR"
  exit 0
fi

# --- building ----------------------------------------------------------------------------------------

mkdir -p "$CACHE_ROOT"
# Serialise concurrent runs (e.g. `make run` and the test setup) so they share one build.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE_ROOT/.build-tools.lock"
  if ! flock -n 9; then
    log "another build-tools run holds $CACHE_ROOT/.build-tools.lock; waiting for it"
    flock 9
  fi
fi

TEMP_DIRS=()
cleanup() {
  local dir
  for dir in "${TEMP_DIRS[@]+"${TEMP_DIRS[@]}"}"; do rm -rf "$dir"; done
}
trap cleanup EXIT

require_go() {
  if ! command -v go >/dev/null 2>&1; then
    die "'go' was not found on PATH, and it is needed to build: $*.
    Install Go >= 1.26 (https://go.dev/dl/), or point at existing binaries with
    KUBE_APISERVER / KUBE_CONTROLLER_MANAGER / KUBECTL / ETCD / HELM, or set ALTOSTACK_TOOLS_FROM_PATH=1
    to use the ones on PATH."
  fi
}

# Builds main packages of one hack/tools module into dest_dir. Binaries are written to a temp dir
# and renamed into place, so an interrupted build never leaves a truncated binary behind.
# Args: module_dir dest_dir ldflags "binary=package"...
go_build_into() {
  local module_dir=$1 dest_dir=$2 ldflags=$3
  shift 3
  local names=() packages=() spec
  for spec in "$@"; do
    names+=("${spec%%=*}")
    packages+=("${spec#*=}")
  done
  require_go "${names[*]}"
  mkdir -p "$dest_dir"
  local temp_dir
  temp_dir=$(mktemp -d "$dest_dir/.building.XXXXXX")
  TEMP_DIRS+=("$temp_dir")

  local started=$SECONDS
  log "building ${names[*]} with $(go env GOVERSION) from hack/tools/$(basename "$module_dir") (a cold build takes minutes)"
  # One `go build` per module so binaries of the same module share compilation.
  local -a outputs=()
  if [[ ${#packages[@]} -eq 1 ]]; then
    outputs=(-o "$temp_dir/${names[0]}")
  else
    outputs=(-o "$temp_dir/")
  fi
  if ! (cd "$module_dir" && go build -trimpath -ldflags="$ldflags" "${outputs[@]}" "${packages[@]}") 1>&2; then
    die "go build of ${names[*]} failed (see the compiler output above; hack/tools/*/go.mod need Go >= 1.26)"
  fi
  local name package
  for i in "${!names[@]}"; do
    name=${names[$i]}
    package=${packages[$i]}
    # `go build -o dir/` names a binary after its package path's last element.
    [[ -f "$temp_dir/$name" ]] || mv "$temp_dir/$(basename "$package")" "$temp_dir/$name"
    mv -f "$temp_dir/$name" "$dest_dir/$name"
  done
  log "built ${names[*]} in $((SECONDS - started))s -> $dest_dir"
}

needs_build() {
  local tool
  for tool in "$@"; do
    local built
    built=$(build_path_for "$tool")
    if [[ "${SOURCE_OF[$tool]}" == "$built" && ! -x "$built" ]]; then return 0; fi
  done
  return 1
}

kube_version_ldflags() {
  local minor=${KUBERNETES_VERSION#v*.}
  minor=${minor%%.*}
  local major=${KUBERNETES_VERSION#v}
  major=${major%%.*}
  local flags="" pkg
  # Without these the binaries report v0.0.0-master, which breaks version checks (e.g. helm's kubeVersion).
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean"
  done
  echo "$flags"
}

if needs_build kube-apiserver kube-controller-manager kubectl; then
  # All three kube binaries in one invocation: they share most of their packages.
  go_build_into "$TOOLS_MODULES_DIR/kube" "$KUBE_BUILD_DIR" "-s -w$(kube_version_ldflags)" \
    kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
    kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
    kubectl=k8s.io/kubernetes/cmd/kubectl
fi
if needs_build etcd; then
  go_build_into "$TOOLS_MODULES_DIR/etcd" "$ETCD_BUILD_DIR" "-s -w" etcd=go.etcd.io/etcd/server/v3
fi
if needs_build helm; then
  go_build_into "$TOOLS_MODULES_DIR/helm" "$HELM_BUILD_DIR" \
    "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
    helm=helm.sh/helm/v4/cmd/helm
fi

# Binaries we did not build may be any version: say so when they are not the pinned one.
warn_on_version_skew() {
  local tool=$1 binary=$2 pinned output
  case $tool in
    kube-apiserver | kube-controller-manager) pinned=$KUBERNETES_VERSION output=$("$binary" --version 2>&1 || true) ;;
    kubectl) pinned=$KUBERNETES_VERSION output=$("$binary" version --client 2>&1 || true) ;;
    etcd) pinned=${ETCD_VERSION#v} output=$("$binary" --version 2>&1 || true) ;;
    helm) pinned=$HELM_VERSION output=$("$binary" version --short 2>&1 || true) ;;
  esac
  if [[ "$output" != *"$pinned"* ]]; then
    log "WARNING: $binary does not report the pinned version $pinned (it says: $(head -n1 <<<"$output"))"
  fi
}

# --- the bin dir: one symlink per tool -----------------------------------------------------------------

mkdir -p "$BIN_DIR"
for tool in "${TOOLS[@]}"; do
  target=${SOURCE_OF[$tool]}
  [[ -x "$target" ]] || die "$tool: $target is missing after the build"
  if [[ "$(readlink "$BIN_DIR/$tool" 2>/dev/null || true)" != "$target" ]]; then
    ln -sfn "$target" "$BIN_DIR/$tool"
  fi
  if [[ "$target" != "$(build_path_for "$tool")" ]]; then
    log "$tool: using $target"
    warn_on_version_skew "$tool" "$target"
  fi
done

echo "$BIN_DIR"
