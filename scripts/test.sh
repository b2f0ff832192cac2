#!/usr/bin/env bash
# Installs what offca needs (Debian 12), builds with ASan+UBSan and runs the whole test suite.
# Usage: scripts/test.sh [ctest arguments...]   e.g. scripts/test.sh -R e2e/token
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
BUILD=${OFFCA_TEST_BUILD:-build-asan}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DOFFCA_SANITIZE=ON -DOFFCA_TESTS=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >/dev/null
# the demo and operators use an optimised build: it must compile warning-free too (-O2 finds more)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOFFCA_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
# the PKCS#11 modules are not built with ASan: leak reports from them are not ours
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_odr_violation=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$BUILD"
ctest --output-on-failure -j2 --timeout 600 "$@"
