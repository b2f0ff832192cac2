#!/usr/bin/env bash
# Coverage-guided fuzzing of offca's untrusted-input parsers with libFuzzer (docs/fuzzing.md).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  how long each target runs (default 60); TARGET: csr, dn, config... (default: every
#            tests/fuzz/fuzz_<name>.c). Targets run one after another, one process each.
# Builds build-fuzz with clang and OFFCA_FUZZ=ON, fuzzes each target on a copy of its committed
# corpus (tests/fuzz/corpus/<name>/) with tests/fuzz/<name>.dict when there is one, -max_len from
# the target's "FUZZ_MAX_LEN n" line (default 4096), -timeout=5, -rss_limit_mb=2048, then merges
# inputs that add coverage back into that corpus while it stays under FUZZ_CORPUS_FILES files /
# FUZZ_CORPUS_BYTES bytes; past that, seed_* and regress-* files are kept and the other inputs are
# replaced by a minimal set covering them and the run's finds (FUZZ_MERGE=0: never merge).
# A crash, leak, UB report, timeout or OOM: the reproducer's path is printed and the exit status
# is 1. Not part of scripts/test.sh (fuzzing is open-ended); CI replays the corpora with ctest.
# Environment: FUZZ_BUILD (default build-fuzz), FUZZ_MERGE (1), FUZZ_CORPUS_FILES (200),
# FUZZ_CORPUS_BYTES (1048576), FUZZ_ARGS (extra libFuzzer flags, e.g. "-dict=...").
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SECONDS_PER=${1:-60}
shift || true
case "$SECONDS_PER" in
  ''|*[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac
BUILD=${FUZZ_BUILD:-build-fuzz}
MERGE=${FUZZ_MERGE:-1}
MAX_FILES=${FUZZ_CORPUS_FILES:-200}
MAX_BYTES=${FUZZ_CORPUS_BYTES:-1048576}

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  for src in tests/fuzz/fuzz_*.c; do
    n=$(basename "$src" .c); targets+=("${n#fuzz_}")
  done
fi
for t in "${targets[@]}"; do
  if [ ! -f "tests/fuzz/fuzz_$t.c" ]; then
    echo "fuzz: no target '$t' (tests/fuzz/fuzz_$t.c)" >&2; exit 2
  fi
done

bash scripts/deps.sh
cmake -S . -B "$BUILD" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOFFCA_FUZZ=ON \
  -DOFFCA_TESTS=ON -DOFFCA_SANITIZE=OFF >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null

# the same leak rules as the ctest replays (no blanket libcrypto suppression)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_odr_violation=0:abort_on_error=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/fuzz/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# corpus size in files and bytes
corpus_size() { find "$1" -maxdepth 1 -type f | wc -l; }
corpus_bytes() { find "$1" -maxdepth 1 -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }

failed=0
for t in "${targets[@]}"; do
  bin="$ROOT/$BUILD/tests/fuzz/fuzz_$t"
  corpus="$ROOT/tests/fuzz/corpus/$t"
  work="$ROOT/$BUILD/fuzz-work/$t"
  max_len=$(sed -n 's/.*FUZZ_MAX_LEN \([0-9][0-9]*\).*/\1/p' "tests/fuzz/fuzz_$t.c" | head -1)
  max_len=${max_len:-4096}
  art="$work/artifacts-$(date +%Y%m%d-%H%M%S)"
  rm -rf "$work/corpus" "$work/merge"
  mkdir -p "$work/corpus" "$art" "$corpus"
  cp -a "$corpus/." "$work/corpus/" 2>/dev/null || true
  echo "fuzz: $t for ${SECONDS_PER}s (max_len $max_len, corpus $(corpus_size "$corpus") files)" >&2
  set +e
  # shellcheck disable=SC2086
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="$ROOT/tests/fuzz/$t.dict")
  "$bin" "$work/corpus" -max_total_time="$SECONDS_PER" -max_len="$max_len" -timeout=5 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" "${dict[@]}" ${FUZZ_ARGS:-} \
    >"$work/log" 2>&1
  rc=$?
  set -e
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$work/log" | sed "s/^/fuzz: $t: /" >&2 || true
  found=$(find "$art" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) | sort)
  if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
    failed=1
    echo "fuzz: $t FAILED (exit $rc); log: $work/log" >&2
    grep -E 'ERROR: |runtime error|SUMMARY' "$work/log" | head -5 | sed 's/^/fuzz:   /' >&2 || true
    for f in $found; do
      echo "fuzz: reproducer: $f" >&2
      echo "fuzz:   minimise: $bin -minimize_crash=1 -runs=20000 -exact_artifact_path=$art/min-$(basename "$f") $f" >&2
      echo "fuzz:   keep it:  cp <minimised file> tests/fuzz/corpus/$t/regress-<what>" >&2
    done
    [ -n "$found" ] || echo "fuzz: (no reproducer written: see the log)" >&2
    continue
  fi
  if [ "$MERGE" = 1 ]; then
    # only inputs that add coverage to the committed corpus, and only while it stays small
    mkdir -p "$work/merge"
    cp -a "$corpus/." "$work/merge/"
    "$bin" -merge=1 -max_len="$max_len" -timeout=5 -rss_limit_mb=2048 "$work/merge" "$work/corpus" \
      >"$work/merge.log" 2>&1 || { echo "fuzz: $t: merge failed (see $work/merge.log)" >&2; continue; }
    files=$(corpus_size "$work/merge"); bytes=$(corpus_bytes "$work/merge")
    added=$((files - $(corpus_size "$corpus")))
    if [ "$added" -le 0 ]; then
      echo "fuzz: $t: nothing new to merge" >&2
    elif [ "$files" -gt "$MAX_FILES" ] || [ "$bytes" -gt "$MAX_BYTES" ]; then
      # too big: keep seed_* and regress-* as they are and replace the merged inputs (named by
      # their SHA-1) with the smallest set that covers what they and this run's corpus cover
      rm -rf "$work/keep" "$work/rest"
      mkdir -p "$work/keep" "$work/rest"
      find "$corpus" -maxdepth 1 -type f \( -name 'seed_*' -o -name 'regress-*' \) -exec cp -a {} "$work/keep/" \;
      find "$corpus" -maxdepth 1 -type f ! -name 'seed_*' ! -name 'regress-*' -exec cp -a {} "$work/rest/" \;
      nkeep=$(corpus_size "$work/keep")
      "$bin" -merge=1 -max_len="$max_len" -timeout=5 -rss_limit_mb=2048 "$work/keep" "$work/rest" \
        "$work/corpus" >"$work/merge.log" 2>&1 || { echo "fuzz: $t: merge failed (see $work/merge.log)" >&2; continue; }
      files=$(corpus_size "$work/keep"); bytes=$(corpus_bytes "$work/keep")
      if [ "$files" -gt "$MAX_FILES" ] || [ "$bytes" -gt "$MAX_BYTES" ]; then
        echo "fuzz: $t: new inputs NOT merged (even minimised the corpus would be $files files, $bytes bytes)" >&2
      else
        find "$corpus" -maxdepth 1 -type f ! -name 'seed_*' ! -name 'regress-*' -delete
        cp -n "$work/keep/"* "$corpus/"
        echo "fuzz: $t: corpus minimised and merged: $nkeep seeds/regressions + $((files - nkeep)) inputs ($files files, $bytes bytes)" >&2
      fi
    else
      cp -n "$work/merge/"* "$corpus/"
      echo "fuzz: $t: merged $added new inputs into tests/fuzz/corpus/$t ($files files, $bytes bytes)" >&2
    fi
  fi
done
exit "$failed"
