#!/usr/bin/env bash
# The whole test suite: installs packages, builds with warnings as errors,
# runs every test through ctest, then rebuilds the unit tests under
# AddressSanitizer + UndefinedBehaviorSanitizer and runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=$(nproc)
bash scripts/deps.sh

echo "== build (warnings as errors)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCERTPILOT_WARNINGS_AS_ERRORS=ON
cmake --build build -j"$JOBS"

echo "== unit tests"
ctest --test-dir build --output-on-failure -j"$JOBS" -L unit
echo "== integration tests (one at a time: each starts its own servers, broker or TPM)"
ctest --test-dir build --output-on-failure -LE unit

echo "== unit tests under ASan + UBSan"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
  -DCERTPILOT_SANITIZE=ON -DCERTPILOT_WARNINGS_AS_ERRORS=ON \
  -DCERTPILOT_BUILD_BENCHMARKS=OFF -DCERTPILOT_BUILD_SAMPLES=OFF
cmake --build build-asan -j"$JOBS"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$JOBS" -L unit
echo "== test.sh: all green ($ROOT)"
