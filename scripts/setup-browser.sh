#!/usr/bin/env bash
# Installs what the dashboard's browser test needs on Debian bookworm, skipping
# packages already present: Debian's chromium (driven by playwright-core from
# npm, which scripts/test.sh installs) and Node.js with npm. Used by test.sh
# only; run.sh stays light.
set -euo pipefail

packages=(chromium nodejs npm)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A Node.js installed otherwise (not from Debian's packages) will do.
if command -v node >/dev/null && command -v npm >/dev/null; then
    filtered=()
    for p in "${missing[@]}"; do
        [ "$p" = nodejs ] || [ "$p" = npm ] || filtered+=("$p")
    done
    missing=("${filtered[@]}")
fi
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "setup-browser: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup-browser: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
