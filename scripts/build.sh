#!/usr/bin/env bash
# Configures and builds srmi into build/. Extra arguments go to cmake's
# configure step, e.g. -DSRMI_BUILD_TESTS=ON -DSRMI_WERROR=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j"$(nproc)"
