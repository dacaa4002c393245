#!/usr/bin/env bash
# Installs what building and testing srmi needs on Debian bookworm, skipping
# packages already present. Used by run.sh, test.sh and docker/Dockerfile.
set -euo pipefail
SRMI_SETUP_NAME=setup exec "$(dirname "$0")/apt-ensure.sh" \
    g++ make cmake libboost1.81-dev libboost-url1.81-dev libboost-program-options1.81-dev nlohmann-json3-dev \
    libsimdjson-dev libspdlog-dev doctest-dev libsqlite3-dev libpq-dev librabbitmq-dev librdkafka-dev libssl-dev libyaml-dev openssl python3 curl
