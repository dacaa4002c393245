#!/usr/bin/env bash
# Fresh machine to tested build: install what is missing, build everything
# with warnings as errors, run every test (unit, integration, end to end),
# then the same suites under ASan + UBSan and under TSan, and the fuzzers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/setup-browser.sh  # Chromium and Node.js, for the dashboard's browser test
if [ -f tests/dashboard/package-lock.json ]; then
    npm ci --prefix tests/dashboard --no-audit --no-fund
else
    npm install --prefix tests/dashboard --no-audit --no-fund
fi
scripts/setup-tests.sh  # promtool; PyYAML and jsonschema, for the OpenAPI contract test
npm ci --prefix tests/openapi --no-audit --no-fund  # @redocly/cli, for the OpenAPI lint
scripts/build.sh -DSRMI_BUILD_TESTS=ON -DSRMI_WERROR=ON
# Every check must run here: a missing promtool fails instead of skipping.
(cd build && SRMI_REQUIRE_PROMTOOL=1 ctest --output-on-failure --timeout 300 -j"$(nproc)")

scripts/sanitize.sh address  # clang ASan + UBSan into build-asan, with the fuzz targets
scripts/sanitize.sh thread   # gcc TSan into build-tsan
SRMI_FUZZ_BUILD_DIR=build-asan scripts/fuzz.sh 45  # reuses build-asan: no third build
