#!/usr/bin/env bash
# Installs what the dashboard's browser test needs on Debian bookworm, skipping
# packages already present: Debian's chromium (driven by playwright-core from
# npm, which scripts/test.sh installs) and Node.js with npm. Used by test.sh
# only; run.sh stays light.
set -euo pipefail

packages=(chromium)
# A Node.js installed otherwise (not from Debian's packages) will do.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    packages+=(nodejs npm)
fi
SRMI_SETUP_NAME=setup-browser exec "$(dirname "$0")/apt-ensure.sh" "${packages[@]}"
