#!/usr/bin/env bash
# e2e: crashes (SIGKILL) between reserve and record, and in the middle of a stream of batch
# commits. Afterwards the store opens, the audit log verifies, every serial ever reserved is
# accounted for (signed + voided), and every "sign" entry has its record and vice versa.
source "$(dirname "$0")/../lib/e2e.sh"
need python3
SEED="$OFFCA_BUILD/bench/bench_store_bench"
[ -x "$SEED" ] || { echo "skip: $SEED not built" >&2; exit 77; }
export OFFCA_HOME="$T/ca"
"$OFFCA" init >/dev/null
"$SEED" --seed "$OFFCA_HOME" 3 >/dev/null

check() {
  # reading never writes (audit verify, list, show open the store read-only); the next command
  # that opens it for writing (here `pending list`, which may drop) voids a dead run's reservations
  "$OFFCA" pending list >/dev/null || fail "$1: a writable open failed"
  "$OFFCA" audit verify >/dev/null || fail "$1: audit verify: $(\"$OFFCA\" audit verify 2>&1)"
  "$OFFCA" audit show --json > "$T/audit.json"
  "$OFFCA" list --json > "$T/list.json"
  python3 - "$T/audit.json" "$T/list.json" "$1" <<'PY' || fail "$1: accounting"
import json, sys
audit = json.load(open(sys.argv[1])); certs = json.load(open(sys.argv[2])); what = sys.argv[3]
reserved = sum(json.loads(e["detail"])["count"] for e in audit if e["action"] == "reserve")
voided = sum(json.loads(e["detail"])["count"] for e in audit if e["action"] in ("void", "void-stale"))
signed = [json.loads(e["detail"])["serial"] for e in audit if e["action"] == "sign"]
assert reserved == len(signed) + voided, (what, reserved, len(signed), voided)
assert sorted(signed) == sorted(c["serial"] for c in certs), (what, "sign entries != records")
stale = [e for e in audit if e["action"] == "void-stale"]
print(f"{what}: reserved {reserved} = signed {len(signed)} + voided {voided}; void-stale entries {len(stale)}")
PY
}

# 1. a crash right after reserving: the next open voids the serials and says so in the log
set +e; "$SEED" --reserve-and-die "$OFFCA_HOME" 7; rc=$?; set -e
[ "$rc" = 137 ] || fail "helper did not die by SIGKILL (exit $rc)"
check "after a crash between reserve and record"
"$OFFCA" audit show --json | python3 -c '
import json,sys; a=json.load(sys.stdin); v=[e for e in a if e["action"]=="void-stale"]
assert len(v)==1 and json.loads(v[0]["detail"])["count"]==7, v' || fail "void-stale entry"
pass "reserved-then-killed serials voided and audited"

# 2. kill -9 in the middle of issuing 3000 certificates in batches of 1000, a few times
for delay in 0.4 1.1 2.3; do
  "$SEED" --seed "$OFFCA_HOME" 3000 >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  check "after kill -9 at ${delay}s"
done
pass "kill -9 during batch commits: store consistent every time"
