#!/usr/bin/env bash
# Installs what building and testing srmi needs on Debian bookworm, skipping
# packages already present. Used by run.sh, test.sh and docker/Dockerfile.
set -euo pipefail

packages=(g++ make cmake libboost1.81-dev nlohmann-json3-dev libspdlog-dev doctest-dev libsqlite3-dev python3 curl)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
