#!/usr/bin/env bash
# Fresh machine to running server: install what is missing, build, serve on
# 127.0.0.1:8888. Arguments go to srmi, e.g. scripts/run.sh --group custom.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DSRMI_BUILD_TESTS=OFF
exec build/srmi "$@"
