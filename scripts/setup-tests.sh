#!/usr/bin/env bash
# Installs what the OpenAPI contract test (tests/openapi/contract_test.py)
# needs on Debian bookworm, skipping what is already there: PyYAML and
# jsonschema with JSON Schema 2020-12 (bookworm's python3-jsonschema 4.10 has
# Draft202012Validator). Used by test.sh only.
set -euo pipefail

# A Python that already has both (from Debian or otherwise) will do.
if python3 -c 'import yaml, jsonschema; jsonschema.Draft202012Validator' 2>/dev/null; then
    exit 0
fi

packages=(python3-yaml python3-jsonschema)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "setup-tests: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup-tests: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
