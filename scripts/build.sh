#!/usr/bin/env bash
# Installs what offca needs (Debian 12) and builds a release build into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOFFCA_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
