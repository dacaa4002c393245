#!/usr/bin/env bash
# Writes openapi/srmi.yaml from the binary's `srmi openapi` (the dispatch table
# merged with openapi/pages.yaml). With --check, changes nothing and fails when
# the committed file differs from that output (ctest srmi_openapi_current).
# Usage: scripts/openapi.sh [--check] [PATH/TO/srmi]   (default: build/srmi)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
check=false
if [[ "${1:-}" == "--check" ]]; then
    check=true
    shift
fi
srmi="${1:-$root/build/srmi}"
committed="$root/openapi/srmi.yaml"
generated="$(mktemp)"
trap 'rm -f "$generated"' EXIT
"$srmi" openapi >"$generated"
if ! $check; then
    cp "$generated" "$committed"
    echo "wrote $committed ($(wc -l <"$committed") lines)"
    exit 0
fi
if ! diff -u "$committed" "$generated" >&2; then
    echo "openapi/srmi.yaml differs from what '$srmi openapi' prints (diff above)." >&2
    echo "Regenerate it after building: scripts/openapi.sh (or: build/srmi openapi > openapi/srmi.yaml)" >&2
    exit 1
fi
echo "openapi/srmi.yaml is what '$srmi openapi' prints"
