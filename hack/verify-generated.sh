#!/usr/bin/env bash
# Regenerates crds/ and operator/src/generated/ in a scratch copy and fails on any difference, so a stale
# generated file can never be committed unnoticed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${ALTOSTACK_SHARED_DIR:-$root/../shared}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

cd "$root"
git ls-files -co --exclude-standard -z | xargs -0 -I{} cp --parents {} "$scratch/" 2>/dev/null || true
ln -s "$root/node_modules" "$scratch/node_modules"

cd "$scratch"
node_modules/.bin/tsx operator/src/api/generate-crds.ts >/dev/null
if [[ -d "$shared/upstream" ]]; then
  ALTOSTACK_SHARED_DIR="$shared" node hack/generate-upstream-types.mjs >/dev/null
else
  echo "verify: $shared/upstream not found; checking crds/ only (operator/src/generated/ needs ../shared/upstream)" >&2
fi

status=0
for dir in crds charts/altostack/crds operator/src/generated; do
  if ! diff -ruN "$root/$dir" "$scratch/$dir"; then
    echo "verify: $dir is stale — run 'make generate' and commit the result" >&2
    status=1
  fi
done
[[ $status -eq 0 ]] && echo "verify: generated files are up to date"
exit $status
