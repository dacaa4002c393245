#!/usr/bin/env bash
# Fresh machine to tested build: install what is missing, build everything
# with warnings as errors, run every test (unit, integration, end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DSRMI_BUILD_TESTS=ON -DSRMI_WERROR=ON
cd build
ctest --output-on-failure --timeout 300 -j"$(nproc)"
