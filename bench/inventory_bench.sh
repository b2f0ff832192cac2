#!/usr/bin/env bash
# bench/inventory_bench.sh - finding and watching at scale (issue 18, "At a million certificates";
# docs/monitoring.md): for each N (default 10000 and 1000000) a fresh CA home seeded with N leaves
# by bench_store_bench --seed (root -> int -> leaves valid 1..397 days, SANs hostI.example and
# groupI%100.example), then the real commands timed (best of 3 for the quick ones):
#   list --expiring 30 / --expiring 1, list --san (one match, exact and *.suffix), offca --version
#   (what starting the process costs: every command pays it), show SERIAL, show SAN,
#   metrics --textfile, inventory export (signed by an operator key), report --html, audit verify
# and printed side by side, one column per N, so the growth of each cost is visible. Not a test.
#   B=build bench/inventory_bench.sh [N...]      (B: an -O2 build dir with bench targets)
set -euo pipefail
B=${B:-build}
OFFCA="$B/ui-cli/offca"
SEED="$B/bench/bench_store_bench"
[ -x "$OFFCA" ] && [ -x "$SEED" ] || { echo "build $B first (bench targets included)" >&2; exit 1; }
[ $# -gt 0 ] || set -- 10000 1000000
T=$(mktemp -d /tmp/offca-inventory-bench.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$T"' EXIT
now() { date +%s.%N; }
# run NAME CMD... : time CMD (its stdout to $T/out), best of REPEAT, in ms, into RES[NAME,N]
declare -A RES
ROWS=("seed (bench_store_bench)" "list --expiring 30" "list --expiring 1" "list --san NAME (1 match)" "list --san *.SUFFIX (none match)" "offca --version (process start)" "show SERIAL"
      "show SAN" "metrics --textfile" "inventory export (+ CMS signature)" "report --html" "audit verify")
run() {
  local name=$1 best="" t0 t1 ms rc; shift
  for _ in $(seq 1 "${REPEAT:-3}"); do
    t0=$(now)
    rc=0; "$@" > "$T/out" 2>"$T/err" || rc=$?
    t1=$(now)
    [ "$rc" -le 1 ] || { echo "$name failed (exit $rc): $(head -c 300 "$T/err")" >&2; exit 1; }
    ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
    if [ -z "$best" ] || awk -v a="$ms" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$ms; fi
  done
  RES["$name,$N"]="$best ms"
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/op.key" -subj "/CN=Bench Operator" \
  -days 2 -out "$T/op.pem" 2>/dev/null

for N in "$@"; do
  H="$T/h$N"
  export OFFCA_HOME="$H"
  "$OFFCA" init >/dev/null
  t0=$(now)
  "$SEED" --seed "$H" "$N" > "$T/serials"
  t1=$(now)
  RES["seed (bench_store_bench),$N"]="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f s", b - a }'), store $(du -sh "$H/store" | cut -f1)"
  S=$(sed -n "$((N / 2 + 1))p" "$T/serials")
  K=$((N / 2))
  run "list --expiring 30" "$OFFCA" list --expiring 30
  RES["list --expiring 30,$N"]+=" $(($(wc -l < "$T/out") - 1)) listed"
  run "list --expiring 1" "$OFFCA" list --expiring 1
  RES["list --expiring 1,$N"]+=" $(($(wc -l < "$T/out") - 1)) listed"
  run "list --san NAME (1 match)" "$OFFCA" list --san "host$K.example"
  run "list --san *.SUFFIX (none match)" "$OFFCA" list --san "*.host$K.example"
  run "offca --version (process start)" "$OFFCA" --version
  run "show SERIAL" "$OFFCA" show "$S"
  run "show SAN" "$OFFCA" show "host$K.example"
  D="$T/prom$N"; mkdir -p "$D"
  run "metrics --textfile" "$OFFCA" metrics --textfile "$D"
  RES["metrics --textfile,$N"]+=" offca.prom $(du -h "$D/offca.prom" | cut -f1)"
  REPEAT=1 run "inventory export (+ CMS signature)" "$OFFCA" inventory export --out "$T/e$N.json" \
    --sign-key-file "$T/op.key" --signer-cert "$T/op.pem"
  RES["inventory export (+ CMS signature),$N"]+=" $(du -h "$T/e$N.json" | cut -f1)"
  REPEAT=1 run "report --html" "$OFFCA" report --html "$T/r$N.html"
  RES["report --html,$N"]+=" $(du -h "$T/r$N.html" | cut -f1)"
  REPEAT=1 run "audit verify" "$OFFCA" audit verify
  rm -rf "$H" "$D" "$T/e$N.json"* "$T/r$N.html"
done

printf '%-40s' "leaves"
for N in "$@"; do printf ' | %-34s' "$N"; done
echo
for r in "${ROWS[@]}"; do
  printf '%-40s' "$r"
  for N in "$@"; do printf ' | %-34s' "${RES[$r,$N]:--}"; done
  echo
done
