#!/usr/bin/env bash
# e2e: offca init, list, show, revoke, export, audit against a real store. Certificates are put in
# by bench_store_bench --seed (a real root -> intermediate -> leaf chain made with software keys),
# so this test does not depend on the token or on 'offca sign'.
source "$(dirname "$0")/../lib/e2e.sh"
need openssl
need python3
SEED="$OFFCA_BUILD/bench/bench_store_bench"
[ -x "$SEED" ] || { echo "skip: $SEED not built" >&2; exit 77; }

H="$T/ca"
# ---- help ----
for c in init list show revoke export audit; do
  "$OFFCA" "$c" --help | grep -q "usage: offca $c" || fail "$c --help"
done
pass "--help of every inventory command"

# ---- init ----
"$OFFCA" init --home "$H" >/dev/null
[ "$(stat -c %a "$H")" = 700 ] || fail "home mode $(stat -c %a "$H")"
[ "$(stat -c %a "$H/store")" = 700 ] || fail "store dir mode"
[ "$(stat -c %a "$H/outbox")" = 700 ] || fail "outbox mode"
for f in "$H/store/data.mdb" "$H/store/lock.mdb" "$H/config.json" "$H/lock"; do
  [ "$(stat -c %a "$f")" = 600 ] || fail "$f mode $(stat -c %a "$f")"
done
pass "init: 0700 directories, 0600 files"
expect_fail "init on an existing home" "$OFFCA" init --home "$H"
expect_err_match "not empty"
mkdir "$T/other" && echo x > "$T/other/file"
expect_fail "init in a non-empty directory" "$OFFCA" init --home "$T/other"
[ ! -e "$T/other/store" ] || fail "init left a store in a non-empty directory"
expect_fail "list without a home" env -u OFFCA_HOME "$OFFCA" list
expect_err_match "OFFCA_HOME"
expect_fail "list on a missing home" "$OFFCA" list --home "$T/nothere"
expect_err_match "offca init"
[ ! -e "$T/nothere" ] || fail "list created a home"

# ---- seed: root, int, 5 leaves (validity 1..5 days minus one hour) ----
"$SEED" --seed "$H" 5 > "$T/serials"
[ "$(wc -l < "$T/serials")" = 5 ] || fail "seed"
S1=$(sed -n 1p "$T/serials"); S2=$(sed -n 2p "$T/serials"); S3=$(sed -n 3p "$T/serials")

# ---- list ----
export OFFCA_HOME="$H"
n=$("$OFFCA" list | tail -n +2 | wc -l); [ "$n" = 7 ] || fail "list shows $n rows, want 7"
n=$("$OFFCA" list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'); [ "$n" = 7 ] || fail "list --json: $n"
n=$("$OFFCA" list --issuer int | tail -n +2 | wc -l); [ "$n" = 5 ] || fail "list --issuer int: $n"
n=$("$OFFCA" list --issuer root | tail -n +2 | wc -l); [ "$n" = 2 ] || fail "list --issuer root: $n"
# leaves expire after 1, 2, 3, 4, 5 days (minus 1h): --expiring 3 gives the first three, soonest first
# (exit 1: something is expiring, for cron and monitoring)
rc=0; "$OFFCA" list --expiring 3 > "$T/exp.out" || rc=$?
[ "$rc" = 1 ] || fail "list --expiring 3 listing three exits $rc, want 1"
tail -n +2 "$T/exp.out" | awk '{print $1}' > "$T/exp"
printf '%s\n%s\n%s\n' "$S1" "$S2" "$S3" | diff - "$T/exp" >/dev/null || fail "list --expiring 3: $(cat "$T/exp")"
expect_fail "list --expiring junk" "$OFFCA" list --expiring soon
pass "list (table, --json, --issuer, --expiring)"

# ---- show ----
"$OFFCA" show "$S2" > "$T/show"
grep -q "^serial: *$S2" "$T/show" || fail "show serial"
grep -q "DNS:host1.example" "$T/show" || fail "show SANs"
grep -q "BEGIN CERTIFICATE" "$T/show" || fail "show PEM"
FP=$(grep '^sha256:' "$T/show" | awk '{print $2}')
"$OFFCA" export "$S2" --format der --out "$T/s2.der"
FP2=$(openssl dgst -sha256 -c "$T/s2.der" | awk '{print toupper($2)}')
[ "$FP" = "$FP2" ] || fail "fingerprint $FP != openssl $FP2"
"$OFFCA" show "$FP" | grep -q "^serial: *$S2" || fail "show by fingerprint"
"$OFFCA" show "$(echo "$S2" | tr A-F a-f)" --json | python3 -c '
import json,sys; j=json.load(sys.stdin)
assert j["status"]=="valid" and j["issuer"]=="int" and j["profile"]=="server", j
assert "DNS:host1.example" in j["sans"] and j["pem"].startswith("-----BEGIN CERTIFICATE-----")' || fail "show --json"
expect_fail "show unknown serial" "$OFFCA" show 0123456789ABCDEF
expect_err_match "no certificate with serial"
expect_fail "show garbage" "$OFFCA" show not-a-serial
pass "show (serial, fingerprint, --json)"

# ---- export ----
"$OFFCA" export "$S1" --format pem > "$T/s1.pem"
openssl x509 -in "$T/s1.pem" -noout -serial | grep -qi "$S1" || fail "export pem serial"
ROOT=$("$OFFCA" list --issuer root | awk '$4=="root"{print $1}')
INT=$("$OFFCA" list --issuer root | awk '$4=="intermediate"{print $1}')
"$OFFCA" export "$ROOT" --format pem --out "$T/root.pem"
"$OFFCA" export "$S1" --format chain --out "$T/chain.pem"
"$OFFCA" export "$S1" --format fullchain --out "$T/fullchain.pem"
[ "$(grep -c 'BEGIN CERT' "$T/chain.pem")" = 1 ] || fail "chain.pem should hold only the intermediate"
[ "$(grep -c 'BEGIN CERT' "$T/fullchain.pem")" = 2 ] || fail "fullchain.pem should hold leaf + intermediate"
openssl x509 -in "$T/chain.pem" -noout -subject | grep -q "intermediate" || fail "chain is not the intermediate"
openssl verify -x509_strict -purpose sslserver -CAfile "$T/root.pem" -untrusted "$T/chain.pem" "$T/s1.pem" >/dev/null \
  || fail "openssl verify of the exported chain"
# the intermediate's chain is the root itself (its issuer); a self-signed root has none
"$OFFCA" export "$INT" --format chain | openssl x509 -noout -subject | grep -q "bench root" || fail "chain of intermediate"
expect_fail "chain of a root" "$OFFCA" export "$ROOT" --format chain
cp "$T/chain.pem" "$T/chain.before"
expect_fail "export --out an existing file" "$OFFCA" export "$S1" --format pem --out "$T/chain.pem"
expect_err_match "exists"
cmp -s "$T/chain.pem" "$T/chain.before" || fail "existing file was changed"
expect_fail "export bad format" "$OFFCA" export "$S1" --format p12
expect_fail "export unknown serial" "$OFFCA" export 42 --format pem
pass "export pem/der/chain/fullchain, verified by openssl"

# ---- revoke ----
"$OFFCA" revoke "$S3" --reason keyCompromise | grep -q "revoked $S3" || fail "revoke"
expect_fail "revoke twice" "$OFFCA" revoke "$S3" --reason superseded
expect_err_match "already revoked"
expect_fail "revoke with an unknown reason" "$OFFCA" revoke "$S2" --reason bored
expect_fail "revoke unknown serial" "$OFFCA" revoke 0AA
[ "$("$OFFCA" list --revoked | tail -n +2 | awk '{print $1}')" = "$S3" ] || fail "list --revoked"
"$OFFCA" show "$S3" --json | python3 -c '
import json,sys; j=json.load(sys.stdin); assert j["status"]=="revoked" and j["reason"]=="keyCompromise", j' \
  || fail "revoked record"
pass "revoke (reason, double revoke refused)"

# ---- audit ----
"$OFFCA" audit verify > "$T/av"
grep -Eq "^audit log OK: [0-9]+ entries$" "$T/av" || fail "audit verify: $(cat "$T/av")"
"$OFFCA" audit show --json | python3 -c '
import json,sys; a=json.load(sys.stdin)
acts=[e["action"] for e in a]
assert acts[0]=="init" and acts.count("sign")==7 and acts.count("revoke")==1, acts
assert all(a[i]["prevHash"]==a[i-1]["hash"] for i in range(1,len(a)))' || fail "audit show --json"
"$OFFCA" audit show | tail -1 | grep -q "^head: #" || fail "audit show head"
pass "audit verify/show"

# tamper with one entry through lmdb-utils: verify must fail and name it
if command -v mdb_dump >/dev/null && command -v mdb_load >/dev/null; then
  mdb_dump -s audit "$H/store" > "$T/audit.dump"
  python3 - "$T/audit.dump" "$T/audit.bad" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
start = lines.index("HEADER=END") + 1
# records: key line, value line; entry 2 is the second pair
k, v = start + 2, start + 3
b = bytearray.fromhex(lines[v].strip())
b[len(b) - 70] ^= 0x01  # inside the detail text (before prev_hash and hash)
lines[v] = " " + b.hex()
open(sys.argv[2], "w").write("\n".join(lines))
PY
  mdb_load -s audit -f "$T/audit.bad" "$H/store"
  expect_fail "audit verify after tampering" "$OFFCA" audit verify
  expect_err_match "entry #2 .*modified"
else
  echo "note [store_inventory]: lmdb-utils (mdb_dump/mdb_load) missing: tampering part skipped" >&2
fi
