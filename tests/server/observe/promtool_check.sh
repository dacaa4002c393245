#!/usr/bin/env bash
# Starts srmi on a free port, makes some traffic (an identifier whose name
# needs every escape included), and checks GET /metrics with
# `promtool check metrics`: the exposition format and Prometheus's naming lint.
# Usage: promtool_check.sh path/to/srmi
set -euo pipefail

# scripts/test.sh (and so CI) installs promtool and sets SRMI_REQUIRE_PROMTOOL:
# there a missing promtool fails. Elsewhere (a bare ctest) the test is
# reported as skipped (77, ctest's SKIP_RETURN_CODE), never as passed.
if ! command -v promtool >/dev/null; then
    if [ -n "${SRMI_REQUIRE_PROMTOOL:-}" ] || [ "${CI:-}" = true ]; then
        echo "promtool not installed, and this run requires it (apt-get install prometheus provides it)" >&2
        exit 1
    fi
    echo "promtool not installed; skipped (apt-get install prometheus provides it)"
    exit 77
fi
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 1; }

srmi=${1:?usage: promtool_check.sh path/to/srmi}
work=$(mktemp -d)
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

"$srmi" --listen 127.0.0.1:0 --group custom 2>"$work/log" &
pid=$!
port=""
for _ in $(seq 200); do  # up to 10 s
    # The log may not exist yet: the background job opens it, not this shell.
    port=$(sed -n 's#.*listening on http://127\.0\.0\.1:\([0-9]*\)/mi.*#\1#p' "$work/log" 2>/dev/null || true)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/log" >&2; echo "srmi exited" >&2; exit 1; }
    sleep 0.05
done
[ -n "$port" ] || { cat "$work/log" >&2; echo "srmi did not start" >&2; exit 1; }

url=http://127.0.0.1:$port
mi() { curl -sf -d "$1" "$url/mi" >/dev/null; }
mi '{"jsonrpc":"2.0","method":"sr_add_identifier","params":{"group":"custom","identifier":"we\"ird\\name\nline"},"id":1}'
mi '{"jsonrpc":"2.0","method":"sr_add_report","params":{"group":"custom","identifier":"we\"ird\\name\nline","report":"r"},"id":1}'
mi '{"jsonrpc":"2.0","method":"sr_set_status","params":{"group":"custom","status":-3},"id":1}'
mi '{"jsonrpc":"2.0","method":"sr_set_status","params":["core","1"],"id":1}'
mi '{"jsonrpc":"2.0","method":"no_such_method","id":1}'
mi '{not json'

curl -sf "$url/metrics" >"$work/metrics"
grep -q 'identifier="we\\"ird\\\\name\\nline"' "$work/metrics" ||
    { cat "$work/metrics" >&2; echo "the escaped identifier is missing" >&2; exit 1; }
if ! promtool check metrics <"$work/metrics"; then
    cat "$work/metrics" >&2
    exit 1
fi
echo "promtool check metrics: OK ($(grep -vc '^#' "$work/metrics") samples)"
