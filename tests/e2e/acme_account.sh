#!/usr/bin/env bash
# offca-acme accounts against pebble with External Account Binding required: EAB (key from a 0600
# file), find, contact update, key rollover (old key refused afterwards), deactivation.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_SRC/tests/lib/acme_env.sh"
A=${OFFCA_ACME:?}
[ -x "$A" ] || { echo "skip: offca-acme not built" >&2; exit 77; }
PEBBLE_EAB=1 acme_env_start
S=$T/state

expect_fail "untrusted CA without --ca-bundle" "$A" --state "$T/notrust" account new --directory "$ACME_DIR"
expect_err_match 'ca-bundle'
expect_fail "EAB required" "$A" --state "$T/noeab" --ca-bundle "$ACME_CA_BUNDLE" account new --directory "$ACME_DIR"
expect_err_match 'externalAccountRequired|External|external'
chmod 644 "$T/eab.key"
expect_fail "EAB key readable by others" "$A" --state "$T/s0" --ca-bundle "$ACME_CA_BUNDLE" account new --directory "$ACME_DIR" --eab-kid kid-1 --eab-hmac-key-file "$T/eab.key"
expect_err_match 'readable by others'
chmod 600 "$T/eab.key"
# certbot's --eab-hmac-key takes the key itself: refused, and a key given as a file name is never echoed
KEYLIKE=zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W
expect_fail "--eab-hmac-key (certbot's spelling) refused" "$A" --state "$T/s0" account new --directory "$ACME_DIR" --eab-kid kid-1 --eab-hmac-key "$KEYLIKE"
expect_err_match 'eab-hmac-key-file'
! grep -q "$KEYLIKE" "$T/last.err" || fail "the key was echoed"
expect_fail "a key given to --eab-hmac-key-file" "$A" --state "$T/s0" --ca-bundle "$ACME_CA_BUNDLE" account new --directory "$ACME_DIR" --eab-kid kid-1 --eab-hmac-key-file "$KEYLIKE"
expect_err_match 'names no readable file'
! grep -q "$KEYLIKE" "$T/last.err" || fail "the key was echoed"
"$A" --state "$S" --ca-bundle "$ACME_CA_BUNDLE" account new --directory "$ACME_DIR" --email a@example.test \
  --eab-kid kid-1 --eab-hmac-key-file "$T/eab.key" > "$T/new.out" || fail "account new with EAB"
url=$(sed -n 's/^account //p' "$T/new.out")
pass "account with EAB: $url"

"$A" --state "$S" account find --directory "$ACME_DIR" | grep -qF "$url" || fail "account find"
pass "account find (onlyReturnExisting)"

"$A" --state "$S" account update --email b@example.test > /dev/null || fail "account update"
"$A" --state "$S" account show | grep -q 'mailto:b@example.test' || fail "contact not updated"
pass "contact update"

cp "$S/account/key.pem" "$T/old.key"
"$A" --state "$S" account rollover > "$T/roll.out" || fail "rollover"
cmp -s "$T/old.key" "$S/account/key.pem" && fail "key file unchanged after rollover"
[ "$(stat -c %a "$S/account/key.pem")" = 600 ] || fail "new key not 0600"
"$A" --state "$S" account show | grep -qF "$url" || fail "account show with the new key"
mkdir -p "$T/oldstate/account"; cp "$T/old.key" "$T/oldstate/account/key.pem"; chmod 600 "$T/oldstate/account/key.pem"
expect_fail "old key no longer finds the account" "$A" --state "$T/oldstate" --ca-bundle "$ACME_CA_BUNDLE" account find --directory "$ACME_DIR"
pass "key rollover"

"$A" --state "$S" account deactivate > /dev/null || fail "deactivate"
expect_fail "deactivated account refused" "$A" --state "$S" account show
expect_fail "issue with deactivated account" "$A" --state "$S" issue --domain x.example.test --generate-key --dns-hook true
expect_err_match 'deactivated'
pass "deactivate"

# a new account after deactivation: the old key is kept aside, a new one is registered
"$A" --state "$S" account new --directory "$ACME_DIR" --eab-kid kid-1 --eab-hmac-key-file "$T/eab.key" > "$T/new2.out" || fail "account new after deactivate"
ls "$S"/account/key.pem.deactivated.* >/dev/null 2>&1 || fail "old key not kept aside"
grep -qF "$url" "$T/new2.out" && fail "the deactivated account came back"
"$A" --state "$S" account show | grep -q 'status:  valid' || fail "new account not valid"
pass "new account after deactivation"

# RSA account key (RS256)
"$A" --state "$T/rsa" --ca-bundle "$ACME_CA_BUNDLE" account new --directory "$ACME_DIR" --key-type rsa \
  --eab-kid kid-1 --eab-hmac-key-file "$T/eab.key" >/dev/null || fail "RSA account"
openssl pkey -in "$T/rsa/account/key.pem" -noout -text 2>/dev/null | grep -q 'Private-Key: (3072 bit' || fail "not an RSA-3072 key"
"$A" --state "$T/rsa" account show | grep -q 'status:  valid' || fail "RSA account show"
"$A" --state "$T/rsa" account rollover --key-type ec > /dev/null || fail "rollover RSA -> EC"
"$A" --state "$T/rsa" account show | grep -q 'status:  valid' || fail "account show after RSA->EC rollover"
pass "RS256 account, rollover to ES256"
