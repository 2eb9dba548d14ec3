#!/usr/bin/env bash
# Lints the generated OpenAPI document (JSON and YAML, with and without an OIDC issuer) with the
# pinned @redocly/cli. Usage: lint.sh DUMP_OPENAPI_BINARY SOURCE_DIR WORK_DIR
set -euo pipefail
dump=$(realpath "$1") src=$(realpath "$2") work=$3
redocly="$src/node_modules/@redocly/cli/bin/cli.js"
if [[ ! -f $redocly ]]; then
  echo "lint.sh: $redocly is missing: run 'npm ci' at the repository root (scripts/setup does)" >&2
  exit 1
fi
mkdir -p "$work"
"$dump" > "$work/openapi.json"
"$dump" --yaml --issuer https://keycloak.example.org/realms/nerc > "$work/openapi.yaml"
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
cd "$work"
for doc in openapi.json openapi.yaml; do
  echo "== redocly lint $doc"
  node "$redocly" lint --config "$src/tests/openapi/redocly.yaml" --format=stylish "$doc"
done
