#!/usr/bin/env bash
# Fresh machine to tested build: install what is missing, build everything
# with warnings as errors, run every test (unit, integration, end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/setup-browser.sh  # Chromium and Node.js, for the dashboard's browser test
if [ -f tests/dashboard/package-lock.json ]; then
    npm ci --prefix tests/dashboard --no-audit --no-fund
else
    npm install --prefix tests/dashboard --no-audit --no-fund
fi
scripts/setup-tests.sh  # PyYAML and jsonschema, for the OpenAPI contract test
npm ci --prefix tests/openapi --no-audit --no-fund  # @redocly/cli, for the OpenAPI lint
scripts/build.sh -DSRMI_BUILD_TESTS=ON -DSRMI_WERROR=ON
cd build
ctest --output-on-failure --timeout 300 -j"$(nproc)"
