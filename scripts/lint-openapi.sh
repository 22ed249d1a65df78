#!/usr/bin/env bash
# lint-openapi.sh lints the OpenAPI document verso derives for every
# version of the demo API with @redocly/cli (its recommended rules, the
# version scripts/redocly/package-lock.json names) and fails on any error.
#
# Usage: scripts/lint-openapi.sh [OUT_DIR]   (default: a temporary folder)
# Needs: go, node and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)}
mkdir -p "$out/site"
(cd scripts/redocly && npm ci --no-audit --no-fund >/dev/null)
go build -o "$out/verso" ./cmd/verso
"$out/verso" docs -f demo/api/timeline.yaml --spec demo/api/openapi.yaml --out "$out/site" >/dev/null 2>&1
redocly=scripts/redocly/node_modules/.bin/redocly
fail=0 n=0
for doc in "$out"/site/openapi-*.json; do
  n=$((n + 1))
  if ! "$redocly" lint --format=summary "$doc" >"$out/lint.txt" 2>&1; then
    echo "lint-openapi: $(basename "$doc"):" >&2
    grep -E "^error|error " "$out/lint.txt" >&2 || cat "$out/lint.txt" >&2
    fail=1
  fi
done
echo "lint-openapi: $n documents, $([ $fail = 0 ] && echo "0 errors" || echo "errors above")"
exit $fail
