#!/usr/bin/env bash
# Builds the gophercloud proof program (e2e/gophercloud) once and prints the binary's path on stdout; progress
# goes to stderr. The binary lives in ${ALTOSTACK_CACHE:-$HOME/.cache/altostack}/gophercloud-<hash>/, keyed by
# go.mod, go.sum and the sources, so reruns are instant. Needs the local Go toolchain (GOTOOLCHAIN=local) and,
# on the first build, the Go module proxy for gophercloud (pinned in go.sum).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/e2e/gophercloud"
CACHE="${ALTOSTACK_CACHE:-$HOME/.cache/altostack}"

command -v go >/dev/null || { echo "gophercloud-check: go not found on PATH" >&2; exit 1; }
HASH="$(cd "$SRC" && cat go.mod go.sum ./*.go | sha256sum | cut -c1-12)" # the glob expands sorted
OUT="$CACHE/gophercloud-$HASH"
BIN="$OUT/gophercloud-check"
if [[ ! -x "$BIN" ]]; then
  echo "gophercloud-check: building $BIN" >&2
  mkdir -p "$OUT"
  # Build to a temporary name and rename: a concurrent or interrupted build never leaves a half-written binary.
  (cd "$SRC" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go build -trimpath -o "$BIN.tmp.$$" .)
  mv -f "$BIN.tmp.$$" "$BIN"
fi
printf '%s\n' "$BIN"
