# Sourced by scripts/sanitize.sh address and scripts/fuzz.sh: the one
# configuration of the ASan + UBSan build, so that either build directory
# serves the other (CI fuzzes in sanitize.sh's build-asan without rebuilding).
#   clang: GCC 12 takes four times as long to compile with ASan + UBSan.
#   -O0: clang's -O1 under ASan + UBSan took three times as long to build
#   (65 s against 21 s for event_sinks.cpp), which CI's 30 minutes cannot
#   spare. The price is the fuzzers' pace: CI's 45 s ran 8 400 and 5 800
#   inputs (rpc, http) against 42 000 and 44 000 at -O1. For a long fuzz,
#   a directory of its own at -O1:
#     SRMI_ASAN_OPT=-O1 SRMI_FUZZ_BUILD_DIR=build-fuzz scripts/fuzz.sh 600
#   Line tables keep reports' files and lines.
asan_cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSRMI_SANITIZE=address
                 -DSRMI_BUILD_TESTS=ON -DSRMI_WERROR=ON -DCMAKE_CXX_COMPILER=clang++ -DSRMI_FUZZ=ON
                 "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=${SRMI_ASAN_OPT:--O0} -gline-tables-only")
