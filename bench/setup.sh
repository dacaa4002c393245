#!/usr/bin/env bash
# Installs what bench/run needs besides the build dependencies of srmi
# (scripts/setup.sh): wrk (load generator, with LuaJIT for POST bodies), nginx
# (the fixed-body baseline, run on its own port with a generated config; the
# distribution's service, if the package starts one, is never used), and
# Google Benchmark for the micro-benchmarks; PostgreSQL's server for the
# cluster scenario (started in a temporary directory, as the tests do).
set -euo pipefail
"$(dirname "$0")/../scripts/setup.sh"
SRMI_SETUP_NAME=bench/setup exec "$(dirname "$0")/../scripts/apt-ensure.sh" \
    wrk nginx libbenchmark-dev python3 postgresql
