#!/usr/bin/env bash
# Pattern 5 end to end on 127.0.0.1: an endpoint enrolled once through EST; the CA renews it for
# the same key, offca publish makes relay objects, they cross the gap in an outbound bundle signed
# by the CA, offca-gateway relay push PUTs them to nginx (DAV, client certificate required) and
# offca-agent run --relay installs the new certificate and runs the deploy hook; pushing again
# changes nothing; an issuer-generated key is delivered too; a revoked endpoint gets nothing; the
# relay's files hold no certificate or key in the clear.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_SRC/tests/lib/relay_env.sh"
relay_setup

H=$(relay_hash "$D/privkey.pem")
old_serial=$(openssl x509 -in "$D/cert.pem" -noout -serial | cut -d= -f2)
relay_pull > "$T/pull0.out" 2>&1 || fail "pull with nothing published: $(cat "$T/pull0.out")"
grep -q "nothing new on the relay for this endpoint ($H)" "$T/pull0.out" || fail "404 output: $(cat "$T/pull0.out")"
pass "nothing published yet: 404 is 'nothing new', exit 0"

relay_renew_same_key
"$OFFCA" publish --out-dir "$T/pub" --bundle-dir "$T/out" --pin-file "$T/ca.pin" > "$T/pub.out" 2>"$T/pub.err" \
  || fail "publish: $(cat "$T/pub.err")"
[ -s "$T/pub/$H" ] || fail "no object named by the endpoint's key hash $H: $(ls "$T/pub")"
# one object per endpoint key: the endpoint, the gateway's and relay's TLS keys, the uploader
[ "$(ls "$T/pub" | wc -l)" = 4 ] || fail "expected 4 objects: $(ls "$T/pub")"
grep -q "4 relay objects for issuer" "$T/pub.out" || fail "publish output: $(cat "$T/pub.out")"
grep -q "audit head" "$T/pub.err" || fail "publish should end with an audit checkpoint: $(cat "$T/pub.err")"
"$OFFCA" audit show > "$T/audit.out" 2>&1 || true
grep -q "relay-publish" "$T/audit.out" || fail "no relay-publish audit entry"
pass "publish: one object per endpoint key, named by its SHA-256, audited"

ls "$T"/out/relay-*-001.offca > /dev/null 2>&1 || fail "no bundle in --bundle-dir: $(ls "$T/out")"
mv "$T"/out/relay-*-001.offca "$T/pub.offca"
"$OFFCA" bundle verify "$T/pub.offca" --ca "$T/root.pem" > "$T/bv.out" 2>&1 || fail "bundle verify: $(cat "$T/bv.out")"
[ "$(grep -c "other" "$T/bv.out")" -ge 4 ] || fail "bundle items: $(cat "$T/bv.out")"
# across the gap as QR frames: the scanned bundle is the same bytes
"$OFFCA" qr encode "$T/pub.offca" --out-dir "$T/qr" >/dev/null || fail "qr encode"
"$OFFCA" qr decode "$T"/qr/*.png --out "$T/pub-scanned.offca" >/dev/null || fail "qr decode"
cmp "$T/pub.offca" "$T/pub-scanned.offca" || fail "the bundle changed through QR"
relay_push --ca-chain "$T/chain.pem" "$T/pub-scanned.offca" > "$T/push1.out" 2>&1 || fail "push: $(cat "$T/push1.out")"
grep -q "relay push: 4 created, 0 updated, 0 unchanged" "$T/push1.out" || fail "push summary: $(cat "$T/push1.out")"
cmp "$T/pub/$H" "$RELAY_ROOT/relay/$H" || fail "the relay holds other bytes than published"
relay_push --ca-chain "$T/chain.pem" "$T/pub.offca" > "$T/push2.out" 2>&1 || fail "push again: $(cat "$T/push2.out")"
grep -q "relay push: 0 created, 0 updated, 4 unchanged" "$T/push2.out" || fail "second push: $(cat "$T/push2.out")"
pass "the bundle crossed (as QR frames, byte-identical); relay push created 4, then left all 4 unchanged"

hook="echo hook >> $T/hook.log"
relay_pull --deploy-hook "$hook" > "$T/pull1.out" 2>&1 || fail "pull: $(cat "$T/pull1.out")"
grep -q "installed certificate from the relay (sequence 1)" "$T/pull1.out" || fail "pull output: $(cat "$T/pull1.out")"
[ "$(openssl x509 -in "$D/cert.pem" -noout -serial | cut -d= -f2)" = "$RENEWED" ] || fail "not the renewed certificate"
openssl verify -CAfile "$T/root.pem" -untrusted "$D/chain.pem" "$D/cert.pem" >/dev/null || fail "installed chain"
[ "$(relay_hash "$D/privkey.pem")" = "$H" ] || fail "the endpoint's key changed"
[ "$(grep -c hook "$T/hook.log")" = 1 ] || fail "deploy hook should have run once"
relay_pull --deploy-hook "$hook" > "$T/pull2.out" 2>&1 || fail "pull again: $(cat "$T/pull2.out")"
grep -q "nothing new on the relay (sequence 1 is installed)" "$T/pull2.out" || fail "pull2: $(cat "$T/pull2.out")"
[ "$(grep -c hook "$T/hook.log")" = 1 ] || fail "deploy hook ran without an install"
pass "agent run --relay installed the renewal (sequence 1), hook once; again: nothing new"

# a relay serving objects only to enrolled endpoints (GET with a client certificate)
set +e
"$AGENT" run --relay "https://127.0.0.1:$RELAY_PORT/private" --relay-cacert "$T/root.pem" --out-dir "$D" > /dev/null 2>"$T/priv.err"
rc=$?; set -e
[ $rc = 3 ] && grep -q "HTTP 403" "$T/priv.err" || fail "anonymous GET of /private: exit $rc: $(cat "$T/priv.err")"
"$AGENT" run --relay "https://127.0.0.1:$RELAY_PORT/private" --relay-cacert "$T/root.pem" --relay-client-auth --out-dir "$D" \
  > "$T/priv.out" 2>&1 || fail "GET with the endpoint's certificate: $(cat "$T/priv.out")"
grep -q "sequence 1 is installed" "$T/priv.out" || fail "private pull: $(cat "$T/priv.out")"
pass "--relay-client-auth: the endpoint's certificate opens a relay closed to anonymous GETs (403 -> exit 3 without it)"

# publishing again without a change keeps the numbers; a new certificate moves this one to 2
"$OFFCA" publish --out-dir "$T/pub2" --pin-file "$T/ca.pin" > "$T/pub2.out" 2>/dev/null || fail "publish 2"
grep -q "(4 with their number unchanged)" "$T/pub2.out" || fail "numbers should stay: $(cat "$T/pub2.out")"
relay_push "$T"/pub2/* > "$T/push3.out" 2>&1 || fail "push 3: $(cat "$T/push3.out")"
grep -q "relay push: 0 created, 4 updated, 0 unchanged" "$T/push3.out" || fail "push 3 summary: $(cat "$T/push3.out")"
relay_pull > "$T/pull3.out" 2>&1 || fail "pull 3"
grep -q "sequence 1 is installed" "$T/pull3.out" || fail "pull3: $(cat "$T/pull3.out")"
sleep 1; since=$(date +%s)
relay_renew_same_key
"$OFFCA" publish --out-dir "$T/pub3" --since "@$since" --pin-file "$T/ca.pin" > "$T/pub3.out" 2>/dev/null \
  || fail "publish 3"
[ "$(ls "$T/pub3")" = "$H" ] || fail "--since should select only the renewed endpoint: $(ls "$T/pub3")"
relay_push "$T/pub3/$H" >/dev/null 2>&1 || fail "push 4"
relay_pull > "$T/pull4.out" 2>&1 || fail "pull 4: $(cat "$T/pull4.out")"
grep -q "sequence 2" "$T/pull4.out" || fail "pull4: $(cat "$T/pull4.out")"
[ "$(openssl x509 -in "$D/cert.pem" -noout -serial | cut -d= -f2)" = "$RENEWED" ] || fail "second renewal not installed"
pass "same content keeps its number (re-encrypted: updated, 'nothing new'); --since; a new certificate is sequence 2"

# an issuer-generated key, delivered to the endpoint holding the current certificate
"$OFFCA" issue --generate-key --subject "CN=web.example.test" --san web.example.test --profile server --days 30 \
  --layout certbot --out-dir "$T/gen" --pin-file "$T/ca.pin" >/dev/null 2>"$T/gen.err" || fail "issue --generate-key: $(cat "$T/gen.err")"
GK=$T/gen/web.example.test/privkey.pem
"$OFFCA" publish --out-dir "$T/pub4" --deliver-key "$GK" --to "$RENEWED" --pin-file "$T/ca.pin" > "$T/pub4.out" 2>&1 \
  || fail "publish --deliver-key: $(cat "$T/pub4.out")"
[ "$(ls "$T/pub4")" = "$H" ] || fail "the delivered key goes to the current key's object: $(ls "$T/pub4")"
relay_push "$T/pub4/$H" >/dev/null 2>&1 || fail "push 5"
relay_pull --deploy-hook "$hook" > "$T/pull5.out" 2>&1 || fail "pull 5: $(cat "$T/pull5.out")"
grep -q "with the key the CA generated" "$T/pull5.out" || fail "pull5: $(cat "$T/pull5.out")"
[ "$(relay_hash "$D/privkey.pem")" = "$(relay_hash "$GK")" ] || fail "the delivered key is not installed"
[ "$(stat -L -c %a "$D/privkey.pem")" = 600 ] || fail "delivered key mode"
openssl x509 -in "$D/cert.pem" -noout -pubkey | cmp -s - <(openssl pkey -in "$GK" -pubout) || fail "certificate/key mismatch"
[ ! -e "$D/relay-key.pem" ] || fail "the delivered key's temporary file stayed"
H2=$(relay_hash "$D/privkey.pem")
relay_pull > "$T/pull6.out" 2>&1 || fail "pull 6"
grep -q "nothing new on the relay for this endpoint ($H2)" "$T/pull6.out" || fail "pull6 should ask for the new key's hash"
pass "issuer-generated key delivered: installed 0600 with its certificate; the endpoint now pulls by the new key"

# a revoked endpoint gets nothing
"$OFFCA" revoke "$(openssl x509 -in "$T/relay.crt" -noout -serial | cut -d= -f2)" --reason keyCompromise >/dev/null 2>&1 \
  || fail "revoke"
"$OFFCA" publish --out-dir "$T/pub5" --pin-file "$T/ca.pin" > "$T/pub5.out" 2>/dev/null || fail "publish 5"
[ ! -e "$T/pub5/$(relay_hash "$T/relay.key")" ] || fail "a revoked endpoint got an object"
grep -q "nothing for 1 revoked" "$T/pub5.out" || fail "publish 5 output: $(cat "$T/pub5.out")"
expect_fail "a key delivered to a revoked endpoint" "$OFFCA" publish --out-dir "$T/pub6" --deliver-key "$GK" \
  --to "$(openssl x509 -in "$T/relay.crt" -noout -serial | cut -d= -f2)" --pin-file "$T/ca.pin"
expect_err_match "is revoked: its endpoint gets nothing"
[ -z "$(ls -A "$T/pub6" 2>/dev/null)" ] || fail "an object was written for a revoked endpoint"
pass "a revoked endpoint gets nothing, not even a delivered key"

# the relay's files, as bytes: no PEM, no certificate DER, no key
python3 - "$RELAY_ROOT" "$D" "$GK" "$T/renewed.pem" <<'PY' || fail "plaintext on the relay"
import glob, os, subprocess, sys
root, d, gk, renewed = sys.argv[1:]
def der(args): return subprocess.run(args, capture_output=True, check=True).stdout
needles = {
  "the installed certificate": der(["openssl", "x509", "-in", os.path.join(d, "cert.pem"), "-outform", "DER"]),
  "a renewed certificate": der(["openssl", "x509", "-in", renewed, "-outform", "DER"]),
  "the delivered key (PKCS#8)": der(["openssl", "pkey", "-in", gk, "-outform", "DER"]),
  "the intermediate": der(["openssl", "x509", "-in", os.path.join(d, "chain.pem"), "-outform", "DER"]),
}
# the private scalars of the delivered EC key and of the endpoint's first (own) key
def scalar(path):
    txt = subprocess.run(["openssl", "pkey", "-in", path, "-noout", "-text"], capture_output=True, text=True, check=True).stdout
    return bytes.fromhex("".join(l.strip() for l in txt.split("priv:")[1].split("pub:")[0].splitlines()).replace(":", ""))[-32:]
needles["the delivered key's private scalar"] = scalar(gk)
needles["the endpoint's own key's private scalar"] = scalar(os.path.join(d, "archive", "1", "privkey.pem"))
needles["the endpoint's own key (PKCS#8)"] = der(["openssl", "pkey", "-in", os.path.join(d, "archive", "1", "privkey.pem"), "-outform", "DER"])
files = [f for f in glob.glob(os.path.join(root, "**"), recursive=True) if os.path.isfile(f)]
assert len(files) >= 4, files
for f in files:
  b = open(f, "rb").read()
  for m in (b"-----BEGIN", b"PRIVATE KEY", b"web.example.test"):
    assert m not in b, (f, m)
  for what, n in needles.items():
    assert n not in b, (f, what)
print("checked", len(files), "files")
PY
pass "the DAV root holds no PEM, no certificate DER, no names, no key bytes"
