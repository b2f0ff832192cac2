#!/usr/bin/env bash
# Pattern 5, what must be refused: a tampered object, one encrypted to another endpoint, one signed
# by another CA, a replayed older object, a relay answering 500 or garbage (agent); an uploader
# certificate the relay does not trust, a file that is no relay object, a tampered bundle (relay
# push). Each: one clear line, non-zero exit; the endpoint keeps its working certificate and files.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_SRC/tests/lib/relay_env.sh"
relay_setup

H=$(relay_hash "$D/privkey.pem")
OBJ=$RELAY_ROOT/relay/$H
snap() { (cd "$D" && sha256sum cert.pem chain.pem fullchain.pem privkey.pem && readlink current) > "$T/snap.$1"; }
same_as() { snap now; cmp -s "$T/snap.$1" "$T/snap.now" || fail "the endpoint's files changed: $(diff "$T/snap.$1" "$T/snap.now")"; }
pull_refused() { # pull_refused CODE REGEX WHAT
  set +e; relay_pull > "$T/last.out" 2>"$T/last.err"; local rc=$?; set -e
  [ $rc -eq "$1" ] || fail "$3: exit $rc, expected $1: $(cat "$T/last.out" "$T/last.err")"
  [ "$(grep -c . "$T/last.err")" = 1 ] || fail "$3: not one error line: $(cat "$T/last.err")"
  grep -Eq "$2" "$T/last.err" || fail "$3: '$(cat "$T/last.err")' does not match /$2/"
  grep -q "installed certificate" "$T/last.out" && fail "$3: something was installed"
  same_as good
  pass "$3 -> exit $rc: $(cat "$T/last.err")"
}

# sequence 1 published and installed: the known-good state
relay_renew_same_key
"$OFFCA" publish --out-dir "$T/pub1" --pin-file "$T/ca.pin" >/dev/null 2>&1 || fail "publish 1"
relay_push "$T/pub1/$H" >/dev/null 2>&1 || fail "push 1"
relay_pull > "$T/pull1.out" 2>&1 || fail "pull 1: $(cat "$T/pull1.out")"
relay_renew_same_key
"$OFFCA" publish --out-dir "$T/pub2" --pin-file "$T/ca.pin" >/dev/null 2>&1 || fail "publish 2"
relay_push "$T/pub2/$H" >/dev/null 2>&1 || fail "push 2"
relay_pull > "$T/pull2.out" 2>&1 || fail "pull 2: $(cat "$T/pull2.out")"
grep -q "sequence 2" "$T/pull2.out" || fail "pull 2: $(cat "$T/pull2.out")"
snap good

# tampered: one byte flipped in the ciphertext, in the middle, at the end (GCM tag)
for at in middle end; do
  python3 - "$T/pub2/$H" "$OBJ" "$at" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = len(b) // 2 if sys.argv[3] == "middle" else len(b) - 3
b[i] ^= 0x01
open(sys.argv[2], "wb").write(b)
PY
  pull_refused 4 "does not decrypt with this endpoint's key|not a CMS object" "tampered object ($at)"
done

# encrypted to another endpoint (the relay's TLS key), put under this endpoint's name
cp "$T/pub2/$(relay_hash "$T/relay.key")" "$OBJ"
pull_refused 4 "does not decrypt with this endpoint's key \(encrypted to another endpoint" "object for another endpoint"

# signed by another CA: a second CA home with its own root signs this endpoint's key and publishes
"$OFFCA" token keygen --token "pkcs11:token=ca" --label other --type ec-p256 --pin-file "$T/ca.pin" >/dev/null || fail "keygen other"
"$OFFCA" init --home "$T/home2" >/dev/null || fail "init home2"
"$OFFCA" ca root --home "$T/home2" --key "pkcs11:token=ca;object=other;type=private" --subject "CN=Other Root" --days 30 \
  --pin-file "$T/ca.pin" --out "$T/other-root.pem" >/dev/null 2>&1 || fail "other root"
"$OFFCA" sign --home "$T/home2" --csr "$T/renew.csr" --profile server --days 20 --out "$T/other.crt" --pin-file "$T/ca.pin" \
  >/dev/null 2>&1 || fail "other CA signs"
"$OFFCA" publish --home "$T/home2" --out-dir "$T/pub-other" --pin-file "$T/ca.pin" >/dev/null 2>&1 || fail "other publish"
cp "$T/pub-other/$H" "$OBJ"
pull_refused 4 "signature does not verify to the pinned root \(signed by another CA" "object signed by another CA"

# replayed: the older sequence 1 object served again
cp "$T/pub1/$H" "$OBJ"
pull_refused 4 "replayed or older relay object refused \(sequence 1, installed 2\)" "replayed older object"

# the relay itself fails or lies
RU=$RELAY_URL
RELAY_URL="https://127.0.0.1:$RELAY_PORT/broken"
pull_refused 5 "relay answered HTTP 500" "relay answering 500"
RELAY_URL="https://127.0.0.1:$RELAY_PORT/garbage"
pull_refused 4 "not a CMS object" "relay serving garbage"
RELAY_URL="https://127.0.0.1:1/relay"
pull_refused 5 "relay https://127.0.0.1:1/relay/$H: " "relay unreachable"
RELAY_URL=$RU

# relay push: an uploader the relay does not trust (self-signed), nothing written on the relay
cp "$T/pub2/$H" "$OBJ"
before=$(sha256sum "$RELAY_ROOT"/relay/* | sha256sum)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/rogue.key" -subj "/CN=rogue" -days 2 \
  -out "$T/rogue.crt" 2>/dev/null
expect_fail "uploader certificate the relay does not trust" "$GATEWAY" relay push --url "$RELAY_URL" \
  --client-cert "$T/rogue.crt" --client-key "$T/rogue.key" --cacert "$T/root.pem" "$T/pub1/$H"
expect_err_match "the relay refused this client \(HTTP 400"
expect_fail "upload without a client certificate" curl -sS -f --cacert "$T/root.pem" -T "$T/pub1/$H" "$RELAY_URL/$H"
expect_err_match "403"
[ "$(sha256sum "$RELAY_ROOT"/relay/* | sha256sum)" = "$before" ] || fail "the relay's files changed"
# a file that is no relay object, under an object's name; a bundle whose bytes were changed
mkdir -p "$T/junk"; cp "$T/root.pem" "$T/junk/$H"
expect_fail "relay push of a file that is no relay object" relay_push "$T/junk/$H"
expect_err_match "is not a relay object"
"$OFFCA" bundle create --direction out --out "$T/b.offca" --pin-file "$T/ca.pin" "other:$T/pub1/$H" >/dev/null 2>&1 \
  || fail "bundle create"
python3 -c "import sys; b=bytearray(open(sys.argv[1],'rb').read()); b[-40]^=1; open(sys.argv[2],'wb').write(b)" "$T/b.offca" "$T/bad.offca"
expect_fail "relay push of a tampered bundle" relay_push --ca-chain "$T/chain.pem" "$T/bad.offca"
[ "$(sha256sum "$RELAY_ROOT"/relay/* | sha256sum)" = "$before" ] || fail "the relay's files changed"
pass "relay push refused them all; the relay is unchanged"

# options that do not belong to --relay
set +e; relay_pull --force > /dev/null 2>"$T/last.err"; rc=$?; set -e
[ $rc = 2 ] && grep -q "run --relay takes --out-dir, --relay-cacert, --relay-client-auth, --pin-file and --deploy-hook only" "$T/last.err" \
  || fail "run --relay --force: exit $rc: $(cat "$T/last.err")"
set +e; "$AGENT" enroll --relay "$RELAY_URL" --out-dir "$T/x" > /dev/null 2>"$T/last.err"; rc=$?; set -e
[ $rc = 2 ] && grep -q "relay belongs to run" "$T/last.err" || fail "enroll --relay: exit $rc: $(cat "$T/last.err")"
pass "run --relay refuses renewal options, enroll refuses --relay (exit 2)"

# after all that, the good object still installs nothing new and the endpoint works
relay_pull > "$T/end.out" 2>&1 || fail "final pull: $(cat "$T/end.out")"
grep -q "sequence 2 is installed" "$T/end.out" || fail "final pull: $(cat "$T/end.out")"
openssl verify -CAfile "$T/root.pem" -untrusted "$D/chain.pem" "$D/cert.pem" >/dev/null || fail "working certificate"
same_as good
pass "the endpoint kept its working certificate through every refusal"
