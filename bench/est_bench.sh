#!/usr/bin/env bash
# bench/est_bench.sh - N endpoints (default 10,000) enroll, then renew, through offca-gateway and the
# offline CA, on 127.0.0.1. Not run by ctest. Stages and figures:
#   enqueue   EST requests answered 202 per second at the gateway (Python client, 4 threads)
#   export    queue export (signed inbound bundles, 256 CSRs each: XFR_MAX_ITEMS)
#   ca        offca bundle import + sign --pending-all --profile requested (SoftHSM2) + bundle export
#   import    offca-gateway queue import of the CA's bundles
#   poll      polls answered 200 per second
# and the end-to-end machine time for the batch (the air gap's hours are not the machine's).
# The bundle format caps a bundle at 256 items, so the batch crosses in rounds of 250 endpoints
# (a one-second pause between rounds keeps `bundle export --since` rounds apart; not counted).
#
#   bash bench/est_bench.sh [N]      (build first: cmake --build build; OFFCA_BUILD=build dir)
set -euo pipefail
N=${1:-10000}
ROUND=250
SRC=$(cd "$(dirname "$0")/.." && pwd)
export OFFCA_SRC=$SRC OFFCA_BUILD=${OFFCA_BUILD:-$SRC/build} OFFCA_TEST_DATA=$SRC/tests/data
export OFFCA=${OFFCA:-$OFFCA_BUILD/ui-cli/offca}
source "$SRC/tests/lib/e2e.sh"
source "$SRC/tests/lib/est_env.sh"
python3 -c 'import cryptography' 2>/dev/null || fail "python3-cryptography is needed"
LOAD="python3 $SRC/bench/est_load.py"
now() { date +%s.%N; }
declare -A S
add() { S[$1]=$(python3 -c "print(${S[$1]:-0} + $2)"); }
timed() { local k=$1 t0 t1; shift; t0=$(now); "$@" > "$T/last.out" || fail "$k: $(cat "$T/last.out")"; t1=$(now); add "$k" "$(python3 -c "print($t1 - $t0)")"; }

est_ca
est_gateway_start --rate 0 --max-connections 1024
EP=$T/ep
echo "bench: $N endpoints, rounds of $ROUND"
t0=$(now)
gw_cmd token new --count "$N" --out-dir "$T/tokens" --san ep.bench.test --profile server --ttl 1d >/dev/null
echo "setup: $N tokens in $(python3 -c "print(round($(now) - $t0, 1))") s"
t0=$(now)
$LOAD csrs "$N" "$EP" 1 >/dev/null
echo "setup: $N keys + CSRs in $(python3 -c "print(round($(now) - $t0, 1))") s (client side)"

# one crossing of the gap for endpoints [a, b): enqueue, export, CA, import, poll
cross() {
  local mode=$1 a=$2 b=$3 r=$T/r-$1-$2 since
  mkdir -p "$r/issued"
  timed enqueue $LOAD "$mode" "$GW_URL" "$T/root.pem" "$EP" "$a" "$b" "$T/tokens"
  grep -q "{202: $((b - a))}" "$T/last.out" || fail "enqueue: $(cat "$T/last.out")"
  timed export gw_cmd queue export --out "$r/in.offca" --sign-key-file "$T/op.key" --signer-cert "$T/op.pem"
  since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  timed ca "$OFFCA" bundle import "$r/in.offca" --require-signed
  timed ca "$OFFCA" sign --pending-all --profile requested --days 30 --out-dir "$r/issued" --pin-file "$T/ca.pin"
  timed ca "$OFFCA" bundle export --out "$r/out.offca" --since "$since" --pin-file "$T/ca.pin"
  timed import gw_cmd queue import "$r/out.offca"
  grep -q "imported $((b - a)) certificates" "$T/last.out" || fail "import: $(cat "$T/last.out")"
  timed poll $LOAD poll "$GW_URL" "$T/root.pem" "$EP" "$a" "$b" "$([ "$mode" = renew ] && echo renew || echo "$T/tokens")"
  grep -q "{200: $((b - a))}" "$T/last.out" || fail "poll: $(cat "$T/last.out")"
  sleep 1
}

report() {
  local what=$1 total
  total=$(python3 -c "print(sum([${S[enqueue]}, ${S[export]}, ${S[ca]}, ${S[import]}, ${S[poll]}]))")
  printf '%s of %d endpoints:\n' "$what" "$N"
  printf '  enqueue  %8.1f s  %8.0f requests/s (202)\n' "${S[enqueue]}" "$(python3 -c "print($N / ${S[enqueue]})")"
  printf '  export   %8.1f s  %8.0f CSRs/s (signed inbound bundles)\n' "${S[export]}" "$(python3 -c "print($N / ${S[export]})")"
  printf '  ca       %8.1f s  %8.0f certificates/s (import + sign on SoftHSM2 + export)\n' "${S[ca]}" "$(python3 -c "print($N / ${S[ca]})")"
  printf '  import   %8.1f s  %8.0f certificates/s (queue import)\n' "${S[import]}" "$(python3 -c "print($N / ${S[import]})")"
  printf '  poll     %8.1f s  %8.0f polls/s (200)\n' "${S[poll]}" "$(python3 -c "print($N / ${S[poll]})")"
  printf '  end to end (machine time) %.1f s\n' "$total"
  S=()
}

for ((a = 1; a <= N; a += ROUND)); do b=$((a + ROUND > N + 1 ? N + 1 : a + ROUND)); cross enroll "$a" "$b"; done
report "enrollment"
$LOAD csrs "$N" "$EP" 1 >/dev/null   # the renewal keys (key cycling): NNNNNN.{key,csr}.new
for ((a = 1; a <= N; a += ROUND)); do b=$((a + ROUND > N + 1 ? N + 1 : a + ROUND)); cross renew "$a" "$b"; done
report "renewal (mutual TLS, new keys)"
