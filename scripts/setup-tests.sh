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
SRMI_SETUP_NAME=setup-tests exec "$(dirname "$0")/apt-ensure.sh" python3-yaml python3-jsonschema
