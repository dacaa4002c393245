#!/usr/bin/env bash
# Builds srmi and its tests under a sanitizer and runs them:
#   scripts/sanitize.sh address   ASan + UBSan, clang, into build-asan/ (which
#                                 also holds the fuzz targets, for fuzz.sh)
#   scripts/sanitize.sh thread    TSan, gcc, into build-tsan/
# Runs the doctest suites, the end-to-end test of the binary and the cluster
# test (real PostgreSQL, threads in srmi worth a sanitizer); the browser,
# OpenAPI and promtool tests run only in the normal build (scripts/test.sh):
# they test the same binary and would only cost time here. Any sanitizer
# report fails, also one from a child process whose exit code nobody checks:
# reports go to files under the build directory, and any such file is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-}
case "$kind" in
    address)
        dir=build-asan
        source scripts/asan-config.sh  # shared with fuzz.sh
        cmake_args=("${asan_cmake_args[@]}") ;;
    thread)
        dir=build-tsan
        cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSRMI_SANITIZE=thread -DSRMI_BUILD_TESTS=ON
                    -DSRMI_WERROR=ON -DCMAKE_CXX_COMPILER=g++ "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1") ;;
    *)
        echo "usage: $0 address|thread" >&2
        exit 2 ;;
esac

scripts/setup.sh
scripts/setup-sanitizers.sh

# Line tables: reports name files and lines, builds stay quick; no
# NDEBUG, so the assertions of Boost, nlohmann-json and srmi are checked too.
cmake -S . -B "$dir" "${cmake_args[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"

logs="$PWD/$dir/sanitizer-reports"
rm -rf "$logs"
mkdir -p "$logs"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$logs/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$logs/tsan:suppressions=$PWD/tests/tsan.supp"

status=0
# The Kafka end-to-end test only under ASan: librdkafka's threads (C11
# thrd_create) are unknown to GCC 12's TSan runtime and crash in it; the srmi
# binary would too with a kafka: subscriber. Its unit cases skip under TSan.
tests='srmi_[a-z]+_tests|srmi_cli_e2e|srmi_cluster|srmi_rabbitmq'
[ "$kind" = address ] && tests="$tests|srmi_kafka"
(cd "$dir" && ctest --output-on-failure --timeout 600 -j"$(nproc)" -R "^($tests)\$") || status=$?

if compgen -G "$logs/*" >/dev/null; then
    for report in "$logs"/*; do
        echo "===== sanitizer report: $report" >&2
        cat "$report" >&2
    done
    echo "sanitize.sh $kind: sanitizer reports found (above)" >&2
    exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "sanitize.sh $kind: tests failed" >&2
    exit "$status"
fi
echo "sanitize.sh $kind: all tests passed, no sanitizer report"
