#!/usr/bin/env bash
# offca-agent with the endpoint's key on a PKCS#11 token (a SoftHSM2 token of its own), in the EST
# loop: enroll --key pkcs11:... makes the key on the token (sensitive, never extractable), signs the
# CSR there; after the gap the certificate is installed with key.uri instead of privkey.pem and no
# private key anywhere in the agent's directory; the certificate's public key is the token key's.
# Renewal authenticates /simplereenroll with mutual TLS from the token key, makes a new key on the
# token and deletes the old one only after the new certificate is installed; --reuse-key keeps it.
# Bad input: no --pin-file, a PIN file with a wrong PIN or open to others, a token that is absent:
# one clear error, exit 8 (2 for usage), the installed certificate and the token's keys unchanged.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_SRC/tests/lib/est_env.sh"
need pkcs11-tool
est_ca
est_gateway_start
e2e_token ep 4321

D=$T/endpoint
KEY="pkcs11:token=ep;object=web"
tok=$(est_token server tok.example.test)
enroll() { "$AGENT" enroll --server "$GW_URL" --root-sha256 "$ROOT_FP" --token-file "$tok" --san tok.example.test \
  --out-dir "$D" "$@"; }
# the private (or with $1 = pubkey, public) keys' labels on the endpoint's token, sorted (read by
# OpenSC, not by offca)
tok_keys() {
  pkcs11-tool --module "$SOFTHSM_MODULE" --token-label ep --login --pin 4321 --list-objects --type "${1:-privkey}" \
    2>/dev/null | awk '$1 == "label:" { print $2 }' | sort | tr '\n' ' '
}
# the public key (PEM) of the token key URI $1, as offca's token layer reads it off the token
tok_pub() { "$OFFCA" token show-key "$1" --pin-file "$T/ep.pin" | sed -n '/BEGIN PUBLIC KEY/,/END PUBLIC KEY/p'; }
cert_pub() { openssl x509 -in "$D/cert.pem" -noout -pubkey; }
# the certificate's key is the token's public-key object labelled $1, read by OpenSC: its CKA_EC_POINT
# (a DER OCTET STRING: skip the 2-byte header) ends the certificate's SubjectPublicKeyInfo
cert_is_token_key() {
  local point spki
  point=$(pkcs11-tool --module "$SOFTHSM_MODULE" --token-label ep --login --pin 4321 --list-objects --type pubkey \
    2>/dev/null | awk -v l="$1" '/^Public Key Object/ { pt = "" } /^ *EC_POINT:/ { pt = $2 }
                                   $1 == "label:" && $2 == l { print substr(pt, 5) }')
  spki=$(cert_pub | openssl pkey -pubin -outform DER | od -An -v -tx1 | tr -d ' \n')
  [ -n "$point" ] && [[ $spki == *"$point" ]] || fail "the certificate's key is not the token's key $1 ($point)"
}
# the object= label of a key URI
uri_label() { sed -n 's/.*;object=\([^;?]*\).*/\1/p' <<<"$1"; }
no_private_key_in_dir() {
  if grep -rl "PRIVATE KEY" "$D" >/dev/null 2>&1; then fail "a private key in $D: $(grep -rl "PRIVATE KEY" "$D")"; fi
  [ -z "$(find "$D" -name 'privkey.pem' -o -name 'key.pem')" ] || fail "key files in $D: $(find "$D" -name '*key.pem')"
}

# ---- bad input before anything exists ----
expect_fail "a token key without --pin-file" enroll --key "$KEY"
expect_err_match "needs --pin-file"
[ "$(tok_keys)" = "" ] || fail "a key was made without a PIN file: $(tok_keys)"
(umask 077; echo 9999 > "$T/wrong.pin")
set +e; enroll --key "$KEY" --pin-file "$T/wrong.pin" >"$T/last.out" 2>"$T/last.err"; rc=$?; set -e
[ $rc -eq 8 ] || fail "wrong PIN: exit 8 expected, got $rc: $(cat "$T/last.err")"
[ "$(grep -c . "$T/last.err")" = 1 ] || fail "wrong PIN: one error line expected: $(cat "$T/last.err")"
expect_err_match "wrong PIN"
pass "wrong PIN file -> $(cat "$T/last.err")"
echo 4321 > "$T/open.pin"; chmod 644 "$T/open.pin"
set +e; enroll --key "$KEY" --pin-file "$T/open.pin" >"$T/last.out" 2>"$T/last.err"; rc=$?; set -e
[ $rc -eq 8 ] || fail "PIN file 0644: exit 8 expected, got $rc: $(cat "$T/last.err")"
pass "PIN file readable by others -> $(cat "$T/last.err")"
set +e; enroll --key "pkcs11:token=nosuch;object=web" --pin-file "$T/ep.pin" >"$T/last.out" 2>"$T/last.err"; rc=$?; set -e
[ $rc -eq 8 ] || fail "absent token: exit 8 expected, got $rc: $(cat "$T/last.err")"
expect_err_match "nosuch"
pass "absent token -> $(cat "$T/last.err")"
[ "$(tok_keys)" = "" ] || fail "failed enrollments left keys: $(tok_keys)"
gw_cmd token list | grep -Eq "unused +server" || fail "a failed enrollment used the token: $(gw_cmd token list)"

# ---- enrollment: the key is made on the token, the CSR signed there ----
set +e; enroll --key "$KEY" --pin-file "$T/ep.pin" > "$T/enroll1.out" 2>&1; rc=$?; set -e
[ $rc -eq 75 ] || fail "first enroll should wait (75), got $rc: $(cat "$T/enroll1.out")"
grep -q "made the key pkcs11:token=ep;id=.*;object=web;type=private on the token" "$T/enroll1.out" \
  || fail "enroll output: $(cat "$T/enroll1.out")"
[ "$(tok_keys)" = "web " ] || fail "token keys after enroll: '$(tok_keys)'"
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label ep --login --pin 4321 --list-objects --type privkey 2>/dev/null \
  | grep -q "never extractable" || fail "the endpoint key is extractable"
[ -s "$D/pending/key.uri" ] && [ ! -e "$D/pending/key.pem" ] || fail "pending holds: $(ls "$D/pending")"
no_private_key_in_dir
web_uri=$(cat "$D/pending/key.uri")
grep -q '"key_label":"web"' "$D/agent.json" || fail "agent.json: $(cat "$D/agent.json")"
pass "enroll --key pkcs11: made the key on the token (never extractable), request queued, no key file"

est_cross
enroll --key "$KEY" --pin-file "$T/ep.pin" > "$T/enroll2.out" 2>&1 || fail "second enroll: $(cat "$T/enroll2.out")"
grep -q "installed certificate" "$T/enroll2.out" || fail "enroll2 output: $(cat "$T/enroll2.out")"
for f in cert.pem chain.pem fullchain.pem key.uri; do [ -s "$D/$f" ] || fail "$f missing"; done
[ ! -e "$D/privkey.pem" ] || fail "privkey.pem with a token key"
[ "$(cat "$D/key.uri")" = "$web_uri" ] || fail "key.uri: $(cat "$D/key.uri") (expected $web_uri)"
openssl verify -CAfile "$T/root.pem" -untrusted "$D/chain.pem" "$D/cert.pem" >/dev/null || fail "openssl verify"
[ "$(cert_pub)" = "$(tok_pub "$web_uri")" ] || fail "the certificate's public key is not the token key's"
cert_is_token_key web
no_private_key_in_dir
pass "installed: key.uri names the token key, cert public key = token key's public key, no private key on disk"
# ---- relay (pattern 5): the object is encrypted to the token key and decrypted on the token ----
"$OFFCA" publish --out-dir "$T/pub" --pin-file "$T/ca.pin" > "$T/pub.out" 2>&1 || fail "publish: $(cat "$T/pub.out")"
H=$(cert_pub | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
[ -s "$T/pub/$H" ] || fail "no relay object $H for the token-key endpoint: $(ls "$T/pub")"
mkdir "$T/srv" && cp "$T/pub/$H" "$T/srv/$H"
RP=$(acme_port)
python3 -m http.server --bind 127.0.0.1 --directory "$T/srv" "$RP" >/dev/null 2>&1 &
e2e_bg $!
acme_wait_tcp "$RP" || fail "http.server did not start"
"$AGENT" run --relay "http://127.0.0.1:$RP" --out-dir "$D" > "$T/relay1.out" 2>&1 || fail "run --relay: $(cat "$T/relay1.out")"
grep -q "sequence 1 holds the installed certificate" "$T/relay1.out" || fail "run --relay: $(cat "$T/relay1.out")"
no_private_key_in_dir
set +e; "$AGENT" run --relay "http://127.0.0.1:$RP" --out-dir "$D" --pin-file "$T/wrong.pin" >"$T/last.out" 2>"$T/last.err"; rc=$?; set -e
[ $rc -eq 8 ] && [ "$(wc -l < "$T/last.err")" -eq 1 ] || fail "run --relay, wrong PIN: exit $rc: $(cat "$T/last.err")"
python3 - "$T/srv/$H" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[-40] ^= 1; open(sys.argv[1], "wb").write(b)
PY
set +e; "$AGENT" run --relay "http://127.0.0.1:$RP" --out-dir "$D" >"$T/last.out" 2>"$T/last.err"; rc=$?; set -e
[ $rc -eq 4 ] && [ "$(wc -l < "$T/last.err")" -eq 1 ] || fail "run --relay, tampered object: exit $rc: $(cat "$T/last.err")"
set +e; "$AGENT" run --relay "http://127.0.0.1:$RP" --relay-client-auth --out-dir "$D" >"$T/last.out" 2>"$T/last.err"; rc=$?; set -e
[ $rc -eq 2 ] && [ "$(wc -l < "$T/last.err")" -eq 1 ] && grep -q "relay-client-auth with a key on a token" "$T/last.err" \
  || fail "run --relay --relay-client-auth with a token key: exit $rc: $(cat "$T/last.err")"
pass "run --relay: the object decrypts with the token key on the token (sequence 1, the installed certificate); wrong PIN -> 8, tampered -> 4: $(cat "$T/last.err")"

# ---- renewal: mutual TLS with the token key, a new key on the token, the old one deleted after ----
cert1=$(sha256sum < "$D/cert.pem")
set +e; "$AGENT" run --out-dir "$D" --renew-at 0 > "$T/run1.out" 2>&1; rc=$?; set -e
[ $rc -eq 75 ] || fail "renewal should wait (75), got $rc: $(cat "$T/run1.out")"
gw_cmd queue list | grep -Eq "waiting +renew +serial=" || fail "renewal not queued: $(gw_cmd queue list)"
grep -q "mutual TLS" "$T/gw.log" && fail "gateway refused the client: $(cat "$T/gw.log")"
keys=$(tok_keys)
[[ "$keys" =~ ^web\ web-[0-9]+\ $ ]] || fail "during the renewal the token should hold web and web-<time>: '$keys'"
new_uri=$(cat "$D/pending/key.uri")
[ "$new_uri" != "$web_uri" ] || fail "renewal reused the key"
pass "run: /simplereenroll accepted over mutual TLS from the token key; new key on the token, old kept meanwhile"

# a wrong PIN file while a renewal is pending: exit 8, nothing lost (pending request and certificate kept)
set +e; "$AGENT" run --out-dir "$D" --pin-file "$T/wrong.pin" >"$T/last.out" 2>"$T/last.err"; rc=$?; set -e
[ $rc -eq 8 ] || fail "run with a wrong PIN: exit 8 expected, got $rc: $(cat "$T/last.err")"
expect_err_match "wrong PIN"
[ -s "$D/pending/key.uri" ] && [ "$(sha256sum < "$D/cert.pem")" = "$cert1" ] || fail "wrong PIN lost state"
pass "run with a wrong PIN file -> $(cat "$T/last.err")"

est_cross
sleep 1
"$AGENT" run --out-dir "$D" > "$T/run2.out" 2>&1 || fail "renewal poll: $(cat "$T/run2.out")"
grep -q "installed certificate" "$T/run2.out" || fail "run2 output: $(cat "$T/run2.out")"
grep -q "deleted the replaced key $web_uri" "$T/run2.out" || fail "run2 output: $(cat "$T/run2.out")"
[ "$(sha256sum < "$D/cert.pem")" != "$cert1" ] || fail "same certificate after renewal"
[ "$(cat "$D/key.uri")" = "$new_uri" ] || fail "key.uri after renewal: $(cat "$D/key.uri")"
[ "$(cert_pub)" = "$(tok_pub "$new_uri")" ] || fail "renewed certificate's key is not the new token key"
cert_is_token_key "$(uri_label "$new_uri")"
keys=$(tok_keys)
[[ "$keys" =~ ^web-[0-9]+\ $ ]] || fail "after the install only the new key should remain: '$keys'"
[ "$(tok_keys pubkey)" = "$keys" ] || fail "public keys after the install: '$(tok_keys pubkey)' (expected '$keys')"
no_private_key_in_dir
pass "renewal installed: new token key in the certificate, old key deleted from the token after the install"

# ---- the token absent at renewal time: exit 8, the certificate kept ----
cert2=$(sha256sum < "$D/cert.pem")
mv "$T/tokens" "$T/tokens.away"; mkdir "$T/tokens"
set +e; "$AGENT" run --out-dir "$D" --renew-at 0 >"$T/last.out" 2>"$T/last.err"; rc=$?; set -e
rmdir "$T/tokens"; mv "$T/tokens.away" "$T/tokens"
[ $rc -eq 8 ] || fail "run without the token: exit 8 expected, got $rc: $(cat "$T/last.err")"
[ "$(grep -c . "$T/last.err")" = 1 ] || fail "absent token: one error line expected: $(cat "$T/last.err")"
expect_err_match "token"
[ "$(sha256sum < "$D/cert.pem")" = "$cert2" ] && [ ! -e "$D/pending" ] || fail "absent token changed state"
pass "run with the token absent -> $(cat "$T/last.err")"

# ---- --reuse-key keeps the token key ----
set +e; "$AGENT" run --out-dir "$D" --renew-at 0 --reuse-key > "$T/run3.out" 2>&1; rc=$?; set -e
[ $rc -eq 75 ] || fail "reuse-key renewal should wait (75), got $rc: $(cat "$T/run3.out")"
[ "$(cat "$D/pending/key.uri")" = "$new_uri" ] || fail "--reuse-key made a new key"
est_cross
sleep 1
"$AGENT" run --out-dir "$D" > "$T/run4.out" 2>&1 || fail "reuse-key poll: $(cat "$T/run4.out")"
grep -q "deleted" "$T/run4.out" && fail "--reuse-key deleted a key: $(cat "$T/run4.out")"
[ "$(sha256sum < "$D/cert.pem")" != "$cert2" ] || fail "no new certificate with --reuse-key"
[ "$(cert_pub)" = "$(tok_pub "$new_uri")" ] || fail "--reuse-key certificate's key differs"
[ "$(tok_keys)" = "$keys" ] || fail "--reuse-key changed the token's keys: '$(tok_keys)'"
pass "--reuse-key renews with the same token key"
grep -q "refused" "$T/gw.log" && fail "unexpected refusals: $(grep refused "$T/gw.log")"

# ---- a revoked certificate: the gateway refuses the renewal, its new key is deleted, the rest kept ----
cert3=$(sha256sum < "$D/cert.pem")
"$OFFCA" revoke "$(openssl x509 -in "$D/cert.pem" -noout -serial | cut -d= -f2)" --reason keyCompromise >/dev/null \
  || fail "offca revoke"
# the CRL crosses to the gateway in an outbound bundle (nothing waits in the queue)
"$OFFCA" crl --out "$T/revoked.crl" --pin-file "$T/ca.pin" >/dev/null || fail "crl"
"$OFFCA" bundle export --out "$T/crl.offca" --since 2000-01-01 --pin-file "$T/ca.pin" >/dev/null || fail "bundle export"
gw_cmd queue import "$T/crl.offca" >/dev/null || fail "queue import of the CRL"
set +e; "$AGENT" run --out-dir "$D" --renew-at 0 >"$T/last.out" 2>"$T/last.err"; rc=$?; set -e
[ $rc -eq 3 ] || fail "renewal of a revoked certificate: exit 3 expected, got $rc: $(cat "$T/last.err")"
expect_err_match "revoked"
grep -q "deleted the refused request's key pkcs11:token=ep;.*object=web-" "$T/last.out" \
  || fail "the refused request's new key should be deleted: $(cat "$T/last.out")"
[ "$(tok_keys)" = "$keys" ] && [ "$(tok_keys pubkey)" = "$keys" ] || fail "token keys after the refusal: '$(tok_keys)'"
[ "$(sha256sum < "$D/cert.pem")" = "$cert3" ] && [ ! -e "$D/pending" ] || fail "the refusal changed the installed state"
pass "revoked certificate -> $(head -n1 "$T/last.err"); the new key deleted, the installed key and certificate kept"

# ---- an existing key, named by its id, the module named in the URI (no $OFFCA_PKCS11_MODULE) ----
pre_uri=$("$OFFCA" token keygen --token "pkcs11:token=ep" --label pre --type ec-p256 --pin-file "$T/ep.pin") || fail "keygen pre"
pre_id=$(sed -n 's/.*;id=\([^;]*\);.*/\1/p' <<<"$pre_uri")
tok_e=$(est_token server pre.example.test)
set +e
env -u OFFCA_PKCS11_MODULE "$AGENT" enroll --server "$GW_URL" --root-sha256 "$ROOT_FP" --token-file "$tok_e" \
  --san pre.example.test --out-dir "$T/ep-pre" --key "pkcs11:token=ep;id=$pre_id?module-path=$SOFTHSM_MODULE" \
  --pin-file "$T/ep.pin" > "$T/pre.out" 2>&1; rc=$?
set -e
[ $rc -eq 75 ] || fail "enroll with an existing key: rc $rc $(cat "$T/pre.out")"
grep -q "made the key" "$T/pre.out" && fail "an existing key was made again: $(cat "$T/pre.out")"
[ "$(cat "$T/ep-pre/pending/key.uri")" = "$pre_uri?module-path=$SOFTHSM_MODULE" ] \
  || fail "pending key.uri: $(cat "$T/ep-pre/pending/key.uri") (expected $pre_uri?module-path=$SOFTHSM_MODULE)"
[ "$(tok_keys)" = "pre $keys" ] || fail "token keys: '$(tok_keys)'"
pass "enroll with an existing key named by id=, module from the URI: used as is, the URI keeps module-path"
expect_fail "a missing key named by id= is not made" env -u OFFCA_PKCS11_MODULE "$AGENT" enroll --server "$GW_URL" \
  --root-sha256 "$ROOT_FP" --token-file "$tok_e" --san pre.example.test --out-dir "$T/ep-none" \
  --key "pkcs11:token=ep;id=%01%02?module-path=$SOFTHSM_MODULE" --pin-file "$T/ep.pin"
expect_err_match "no such key|not found|no private key"
[ "$(tok_keys)" = "pre $keys" ] || fail "token keys: '$(tok_keys)'"

true
