#!/usr/bin/env bash
# Builds nointrude under AddressSanitizer + UndefinedBehaviorSanitizer with
# -Wall -Wextra -Werror and runs every test (unit, RFC vectors, fuzz corpus
# replay, multi-process integration) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
cmake --preset asan-ubsan >/dev/null
cmake --build build/asan -j"$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build/asan --output-on-failure -j"$jobs" --timeout 600
