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
docs=("$out"/site/openapi-*.json)
# One run for every document: a run per document spent most of its time
# starting Node.js (2m45s against 5s for the 42 documents, at load 17).
if "$redocly" lint --format=summary "${docs[@]}" >"$out/lint.txt" 2>&1; then
  echo "lint-openapi: ${#docs[@]} documents, 0 errors"
  exit 0
fi
echo "lint-openapi: errors:" >&2
grep -E "^validating |^error " "$out/lint.txt" | grep -B1 "^error" >&2 || cat "$out/lint.txt" >&2
exit 1
