#!/usr/bin/env bash
# The YubiKey pulled in the middle of a signing batch, with the PIV card emulator
# (tests/lib/piv_card.py) behind OpenSC: the card disconnects from the reader at the third of five
# signatures, instead of answering it. The batch stops with one error line and a non-zero exit;
# nothing is released (no certificate file, no certificate record); every serial the batch
# reserved is voided and audited (reserved = signed + voided), the audit chain verifies; with the
# card back, the same batch signs. The SoftHSM2 counterpart is docs/store.md's crash table.
source "$(dirname "$0")/../lib/e2e.sh"
source "$OFFCA_SRC/tests/lib/piv_env.sh"
piv_start_pcscd
piv_insert
MK=010203040506070801020304050607080102030405060708
PIV_TOOL -k"$MK" -a generate -s 9c -A ECCP256 --pin-policy=once --touch-policy=never -o "$T/pub.pem" \
  > "$T/gen.out" 2>&1 || fail "generate: $(cat "$T/gen.out")"
piv_placeholder_cert "$T/pub.pem" "$T/ph.pem"
PIV_TOOL -k"$MK" -a import-certificate -s 9c -i "$T/ph.pem" > "$T/imp.out" 2>&1 || fail "import: $(cat "$T/imp.out")"
(umask 077; echo 123456 > "$T/pin")
serial=$("$OFFCA" token list --module "$OPENSC" --json | sed -n 's/.*"serial": "\([0-9a-f]\{6,\}\)".*/\1/p' | head -n1)
[ -n "$serial" ] || fail "no serial from OpenSC"
export OFFCA_HOME="$T/ca"
"$OFFCA" init > /dev/null || fail "init"
"$OFFCA" ca root --module "$OPENSC" --key "pkcs11:serial=$serial;id=%02;type=private" --pin-file "$T/pin" \
  --subject "CN=Pulled Card Root" --days 30 --out "$T/root.pem" 2> "$T/root.err" || fail "ca root: $(cat "$T/root.err")"
for i in 1 2 3 4 5; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -subj "/CN=h$i.example.com" -addext "subjectAltName=DNS:h$i.example.com" -out "$T/h$i.csr" 2>/dev/null
done
CSRS=("$T"/h1.csr "$T"/h2.csr "$T"/h3.csr "$T"/h4.csr "$T"/h5.csr)

accounting() { # WHAT EXPECTED-RECORDS
  # only a writable open voids a dead (killed) run's reservations (docs/store.md): pending list is one
  "$OFFCA" pending list > /dev/null || fail "$1: a writable open failed"
  "$OFFCA" audit verify > /dev/null 2> "$T/av.err" || fail "$1: audit verify: $(cat "$T/av.err")"
  "$OFFCA" audit show --json > "$T/audit.json"
  "$OFFCA" list --json > "$T/list.json"
  python3 - "$T/audit.json" "$T/list.json" "$1" "$2" <<'PY' || fail "$1: accounting"
import json, sys
audit = json.load(open(sys.argv[1])); certs = json.load(open(sys.argv[2])); what = sys.argv[3]
reserved = sum(json.loads(e["detail"])["count"] for e in audit if e["action"] == "reserve")
voided = sum(json.loads(e["detail"])["count"] for e in audit if e["action"] in ("void", "void-stale"))
signed = [json.loads(e["detail"])["serial"] for e in audit if e["action"] == "sign"]
assert reserved == len(signed) + voided, (what, reserved, len(signed), voided)
assert sorted(signed) == sorted(c["serial"] for c in certs), (what, "sign entries != records")
assert len(certs) == int(sys.argv[4]), (what, len(certs))
print(f"{what}: reserved {reserved} = signed {len(signed)} + voided {voided}")
PY
}

# the card leaves during the 3rd signature of the batch (no answer), then after the 2nd (between two
# signatures); signatures are counted from the card's reinsertion
pull_batch() { # PIV_CARD-OPTION WHAT EXPECTED-EXIT
  local rc=0
  piv_pull
  piv_insert "$1"
  mkdir -p "$T/out"
  # a watchdog: OpenSC 0.23 can deadlock inside C_Login when the card leaves between two
  # signatures (the per-signature login of a CKA_ALWAYS_AUTHENTICATE key; cf. OpenSC#2707): then
  # the operator's only way out is to kill offca, so that is tested too
  timeout -s KILL 15 "$OFFCA" sign --module "$OPENSC" --pin-file "$T/pin" --csr "${CSRS[@]}" \
    --profile server --days 10 --out-dir "$T/out" > "$T/last.out" 2> "$T/last.err" || rc=$?
  [ "$rc" != 0 ] || fail "the batch succeeded although the card was pulled"
  grep -q "card pulled" "$T/piv-apdu.log" || fail "the card was not pulled during the batch"
  sed -i 's/card pulled/card was pulled/' "$T/piv-apdu.log"
  [ -z "$(ls -A "$T/out")" ] || fail "certificates were released: $(ls "$T/out")"
  if [ "$rc" = 137 ]; then
    pass "pulled $2: offca hung inside OpenSC and was killed"
  else
    [ "$(grep -c . "$T/last.err")" = 1 ] || fail "not one error line: $(cat "$T/last.err")"
    [ "$rc" = "$3" ] || fail "pulled $2: exit $rc, expected $3: $(cat "$T/last.err")"
    pass "pulled $2: exit $rc, $(head -n1 "$T/last.err")"
  fi
  accounting "pulled $2" 1 # the root's record only
  pass "pulled $2: nothing released, the batch's serials voided"
  wait "$PIV_PID" 2>/dev/null || true
}
# during a signature vpcd loses the card in the middle of a transmission: pcscd says "not
# transacted" and OpenSC a general error (exit 10, token error); between two signatures pcscd has
# seen the card go and OpenSC says CKR_DEVICE_REMOVED (exit 9, token not present)
pull_batch --pull-at-sign=3 "during the 3rd signature" 10
pull_batch --pull-after-sign=2 "after the 2nd signature" 9
v=$(python3 -c 'import json,sys; print(sum(json.loads(e["detail"])["count"] for e in json.load(open(sys.argv[1])) if e["action"] in ("void", "void-stale")))' "$T/audit.json")
[ "$v" = 10 ] || fail "10 serials voided expected (2 batches of 5), the audit says $v"

# the card back: the batch signs, with new serials
piv_insert
"$OFFCA" sign --module "$OPENSC" --pin-file "$T/pin" --csr "${CSRS[@]}" --profile server --days 10 \
  --out-dir "$T/out" > "$T/sign.out" 2> "$T/sign.err" || fail "sign with the card back: $(cat "$T/sign.err")"
[ "$(ls "$T/out" | wc -l)" = 5 ] || fail "five certificates expected"
for c in "$T"/out/*.pem; do openssl verify -CAfile "$T/root.pem" "$c" > /dev/null || fail "$c does not verify"; done
accounting "card back" 6
pass "card back: the batch signs 5 certificates"
