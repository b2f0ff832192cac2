#!/usr/bin/env bash
# bench/export_bench.sh [STORE_SIZE] [N] - offca export's delivery forms at scale: a CA home seeded
# with STORE_SIZE certificates (default 1,000,000; bench_store_bench --seed, software keys), then N
# of them (default 10,000) exported as certbot layout directories, one ZIP, Kubernetes Secrets and
# SOPS/age Secrets, with the cost per certificate (bench_export_bench). Needs a build with
# benches (build/bench). Not run by ctest. Seeding 1,000,000 takes minutes and ~5 GB of disk.
set -euo pipefail
SIZE=${1:-1000000}
N=${2:-10000}
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-$SRC/build}
OFFCA=${OFFCA:-$B/ui-cli/offca}
T=$(mktemp -d /tmp/offca-export-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
export OFFCA_HOME="$T/ca"
"$OFFCA" init >/dev/null
t0=$(date +%s)
"$B/bench/bench_store_bench" --seed "$OFFCA_HOME" "$SIZE" > "$T/serials.txt"
echo "seeded $SIZE certificates in $(( $(date +%s) - t0 ))s"
mkdir -p "$T/out"
"$B/bench/bench_export_bench" "$OFFCA_HOME" "$T/serials.txt" "$N" "$T/out"
echo "check: $(ls "$T/out/layout" | wc -l) directories, ZIP $(stat -c %s "$T/out/all.zip") bytes"
