#!/usr/bin/env bash
# e2e: a full CA store (OFFCA_STORE_MAPSIZE caps the LMDB map at what is already used, so every
# growing write hits MDB_MAP_FULL): each write fails with one "full" line and exit 75, nothing is
# committed, reads still work and the audit log still verifies.
source "$(dirname "$0")/../lib/e2e.sh"
SEED="$OFFCA_BUILD/bench/bench_store_bench"
[ -x "$SEED" ] || { echo "skip: $SEED not built" >&2; exit 77; }
export OFFCA_HOME="$T/ca"
"$OFFCA" init >/dev/null
"$SEED" --seed "$OFFCA_HOME" 5 > "$T/serials"
S=$(head -n1 "$T/serials")
before=$("$OFFCA" audit verify)

# growing writes fail cleanly
set +e
OFFCA_STORE_MAPSIZE=1 "$OFFCA" revoke "$S" --reason keyCompromise >"$T/out" 2>"$T/err"; rc=$?
set -e
[ "$rc" = 75 ] || fail "revoke on a full store: exit $rc (want 75): $(cat "$T/err")"
[ "$(wc -l < "$T/err")" = 1 ] || fail "more than one error line: $(cat "$T/err")"
grep -q "full" "$T/err" || fail "error does not say the store is full: $(cat "$T/err")"
pass "revoke on a full store -> $(cat "$T/err")"
set +e
OFFCA_STORE_MAPSIZE=1 "$SEED" --seed "$OFFCA_HOME" 50 >/dev/null 2>"$T/err"; rc=$?
set -e
[ "$rc" != 0 ] || fail "issuing 50 more certificates into a full store succeeded"
grep -q "full" "$T/err" || fail "seed error: $(cat "$T/err")"
pass "issuing into a full store fails"

# nothing was committed, reads work, the chain verifies
OFFCA_STORE_MAPSIZE=1 "$OFFCA" show "$S" --json | grep -q '"status": "valid"' || fail "revocation was half-committed"
n=$(OFFCA_STORE_MAPSIZE=1 "$OFFCA" list | tail -n +2 | wc -l)
[ "$n" = 7 ] || fail "list on a full store shows $n certificates, want 7"
after=$("$OFFCA" audit verify)
[ "$before" = "$after" ] || fail "audit log changed: '$before' -> '$after'"
pass "nothing committed; list/show work; $after"

# with room again, the same operations succeed
"$OFFCA" revoke "$S" --reason keyCompromise >/dev/null
"$OFFCA" audit verify | grep -q "audit log OK" || fail "audit verify after recovery"
pass "recovers when there is room again"

# init into a store that cannot hold even its databases: fails, leaves nothing that blocks a retry
set +e
OFFCA_STORE_MAPSIZE=8192 "$OFFCA" init --home "$T/small" >/dev/null 2>"$T/err"; rc=$?
set -e
[ "$rc" = 75 ] || fail "init on a full store: exit $rc: $(cat "$T/err")"
[ -z "$(ls -A "$T/small")" ] || fail "failed init left files: $(ls -A "$T/small")"
"$OFFCA" init --home "$T/small" >/dev/null || fail "init after a failed init"
pass "a failed init leaves an empty directory; init then succeeds"
