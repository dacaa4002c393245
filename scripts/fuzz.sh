#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for a
# bounded time: scripts/fuzz.sh [SECONDS]  (default 60 per target).
#
# Both targets run at once, one per core, each from a copy of its seed corpus
# (fuzz/corpus/*, left untouched) with its dictionary. Any crash, sanitizer
# report, leak, timeout (10 s per input) or memory blow-up (2 GiB) fails the
# script; the input that caused it is kept in $SRMI_FUZZ_BUILD_DIR/artifacts/.
# Replay one with: build-fuzz/fuzz/fuzz_http build-fuzz/artifacts/http-crash-...
#
# SRMI_FUZZ_BUILD_DIR picks the build directory (default build-fuzz); the ASan
# build of scripts/sanitize.sh address is configured the same way, so
# SRMI_FUZZ_BUILD_DIR=build-asan reuses it (scripts/test.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [SECONDS]" >&2
    exit 2
fi
dir=${SRMI_FUZZ_BUILD_DIR:-build-fuzz}
targets=(rpc http)

scripts/setup.sh
scripts/setup-sanitizers.sh

# The same configuration as sanitize.sh address, so either directory serves.
source scripts/asan-config.sh
cmake -S . -B "$dir" "${asan_cmake_args[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)" --target "${targets[@]/#/fuzz_}"

artifacts="$PWD/$dir/artifacts"
logs="$PWD/$dir/fuzz-logs"
mkdir -p "$artifacts" "$logs"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pids=()
for t in "${targets[@]}"; do
    cp -r "fuzz/corpus/$t" "$work/$t"
    # -max_len: inputs up to 64 KiB, far beyond any request's structure but
    # small enough that one input stays fast under ASan.
    "$dir/fuzz/fuzz_$t" "$work/$t" -dict="fuzz/$t.dict" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -detect_leaks=1 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$artifacts/$t-" >"$logs/$t.log" 2>&1 &
    pids+=($!)
done

failed=0
for i in "${!targets[@]}"; do
    t=${targets[$i]}
    status=0
    wait "${pids[$i]}" || status=$?
    log="$logs/$t.log"
    # `|| true`: a run that died early has no such lines, and must still be reported.
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
    corpus=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
    if [ "$status" -eq 0 ]; then
        echo "fuzz_$t: OK, ${execs:-?} execs in ${seconds} s, coverage ${cov:-?} edges, ${ft:-?} features, corpus ${corpus:-?} inputs"
    else
        failed=1
        echo "fuzz_$t: FAILED (exit $status) after ${execs:-?} execs, coverage ${cov:-?} edges; log $log:" >&2
        grep -v -e '^#[0-9]' -e 'Uses: ' "$log" | tail -60 >&2
        ls -1 "$artifacts"/"$t"-* 2>/dev/null | sed 's/^/  reproducer: /' >&2 || true
    fi
done
exit "$failed"
