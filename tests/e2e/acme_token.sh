#!/usr/bin/env bash
# offca-acme with the ACME account key on a PKCS#11 token (SoftHSM2): account new --key-uri,
# issue signed by the token, wrong PIN, rollover refused. The key never exists as a file.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_SRC/tests/lib/acme_env.sh"
A=${OFFCA_ACME:?}
[ -x "$A" ] || { echo "skip: offca-acme not built" >&2; exit 77; }
need pkcs11-tool
acme_env_start
S=$T/state
e2e_token acme 123456
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label acme --login --pin 123456 --keypairgen \
  --key-type EC:prime256v1 --label acct --id 01 >/dev/null 2>&1 || fail "keypairgen on SoftHSM2"
URI="pkcs11:token=acme;object=acct"

"$A" --state "$S" --ca-bundle "$ACME_CA_BUNDLE" --pin-file "$T/acme.pin" account new --directory "$ACME_DIR" \
  --key-uri "$URI" --email t@example.test > "$T/new.out" || fail "account new with a token key"
[ ! -e "$S/account/key.pem" ] || fail "a key file was written although the key is on the token"
grep -q '"key_uri"' "$S/account/account.json" || fail "key_uri not recorded"
! grep -q 123456 "$S/account/account.json" || fail "PIN stored"
pass "account on a token key: $(cat "$T/new.out")"

"$A" --state "$S" --pin-file "$T/acme.pin" issue --domain tok.example.test --generate-key --dns rfc2136 \
  --dns-server "$DNS_SERVER" --tsig-key "$TSIG_NAME" --tsig-secret-file "$TSIG_SECRET_FILE" >/dev/null 2>&1 || fail "issue with the token key"
[ -s "$S/live/tok.example.test/fullchain.pem" ] || fail "no certificate"
acme_no_stray_txt tok.example.test
pass "issuance with JWS signed on the token"

(umask 077; echo 000000 > "$T/bad.pin")
expect_fail "wrong PIN" "$A" --state "$S" --pin-file "$T/bad.pin" account show
expect_err_match 'PIN'
expect_fail "rollover of a token key" "$A" --state "$S" --pin-file "$T/acme.pin" account rollover
expect_err_match 'on a token'
"$A" --state "$S" --pin-file "$T/acme.pin" account show | grep -q 'status:  valid' || fail "account show"
pass "wrong PIN refused, rollover refused, show works"
