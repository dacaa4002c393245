#!/usr/bin/env bash
# Installs what the sanitizer builds and the fuzzers need on Debian bookworm,
# skipping packages already present: clang 14 with its runtime libraries
# (libclang-rt-14-dev: libFuzzer, ASan, UBSan, TSan) and GCC's sanitizer
# runtimes. Used by sanitize.sh and fuzz.sh only; run.sh stays light.
set -euo pipefail
SRMI_SETUP_NAME=setup-sanitizers exec "$(dirname "$0")/apt-ensure.sh" \
    clang libclang-rt-14-dev libasan8 libubsan1 libtsan2
