#!/usr/bin/env bash
# offca token: bad input gives one clear line on stderr and a non-zero exit. Wrong PIN (and
# SoftHSM2's "count low" after a failure), unsafe PIN file, missing token, missing key, bad URIs,
# pin-value refused, missing or bogus module, no PIN source without a terminal, usage errors.
source "$(dirname "$0")/../lib/e2e.sh"
need setsid
e2e_token ca
KEY=$("$OFFCA" token keygen --token "pkcs11:token=ca" --label root --type ec-p256 --pin-file "$T/ca.pin") || fail "keygen"
(umask 077; echo 000000 > "$T/wrong.pin")

one_line() { [ "$(grep -c . "$T/last.err")" = 1 ] || fail "expected one line on stderr, got: $(cat "$T/last.err")"; }

# wrong PIN; SoftHSM2 then reports CKF_USER_PIN_COUNT_LOW (it never locks the user PIN)
expect_fail "wrong PIN" "$OFFCA" token show-key "$KEY" --pin-file "$T/wrong.pin"
expect_err_match "wrong PIN"; one_line
expect_fail "wrong PIN again" "$OFFCA" token show-key "$KEY" --pin-file "$T/wrong.pin"
expect_err_match "wrong PIN \(count low"; one_line
"$OFFCA" token list --json | grep -q '"user_pin_count_low": true' || fail "list does not show count low"
"$OFFCA" token show-key "$KEY" --pin-file "$T/ca.pin" > /dev/null || fail "right PIN after wrong ones"
expect_fail "keygen with a wrong PIN" "$OFFCA" token keygen --token "pkcs11:token=ca" --label k2 --type ec-p256 \
  --pin-file "$T/wrong.pin"
expect_err_match "wrong PIN"

# PIN files must not be readable by others; pin-source in the URI works like --pin-file
chmod 644 "$T/wrong.pin"
expect_fail "world-readable PIN file" "$OFFCA" token show-key "$KEY" --pin-file "$T/wrong.pin"
one_line
expect_fail "missing PIN file" "$OFFCA" token show-key "$KEY" --pin-file "$T/nope.pin"
expect_fail "wrong PIN via pin-source" "$OFFCA" token show-key "$KEY?pin-source=file:$T/wrong.pin"

# no PIN source and no terminal: a clear error, no hang
expect_fail "no PIN and no terminal" setsid -w "$OFFCA" token show-key "$KEY" < /dev/null
expect_err_match "terminal|tty|PIN"

# missing token / key
expect_fail "missing token" "$OFFCA" token show-key "pkcs11:token=nope;object=root" --pin-file "$T/ca.pin"
expect_err_match "no token matching token=nope"; one_line
expect_fail "keygen on a missing token" "$OFFCA" token keygen --token "pkcs11:token=nope" --label x --type ec-p256 \
  --pin-file "$T/ca.pin"
expect_err_match "no token matching"
expect_fail "missing key" "$OFFCA" token show-key "pkcs11:token=ca;object=nope" --pin-file "$T/ca.pin"
expect_err_match "no private key labelled 'nope'"

# bad URIs
expect_fail "not a pkcs11 URI" "$OFFCA" token show-key "https://ca.example/key" --pin-file "$T/ca.pin"
expect_err_match "not a pkcs11: URI"
expect_fail "unencoded space" "$OFFCA" token show-key "pkcs11:token=my token" --pin-file "$T/ca.pin"
expect_err_match "percent-encoded"
expect_fail "bad percent escape" "$OFFCA" token show-key "pkcs11:token=%zz" --pin-file "$T/ca.pin"
expect_err_match "percent-escape"
expect_fail "unknown attribute" "$OFFCA" token show-key "pkcs11:tokn=ca" --pin-file "$T/ca.pin"
expect_err_match "unknown path attribute 'tokn'"
expect_fail "pin-value in a URI" "$OFFCA" token show-key "pkcs11:token=ca;object=root?pin-value=123456"
expect_err_match "pin-value is refused"
grep -q 123456 "$T/last.err" && fail "the PIN was echoed in the error"
expect_fail "URI naming a certificate" "$OFFCA" token show-key "pkcs11:token=ca;object=root;type=cert" \
  --pin-file "$T/ca.pin"
expect_err_match "type=cert"

# modules
expect_fail "missing module (--module)" "$OFFCA" token list --module "$T/no-such-module.so"
expect_err_match "not found"; one_line
OFFCA_PKCS11_MODULE="$T/none.so" expect_fail "missing module (env)" "$OFFCA" token list
expect_err_match "OFFCA_PKCS11_MODULE"
expect_fail "missing module (module-path)" "$OFFCA" token show-key "pkcs11:token=ca;object=root?module-path=$T/x.so" \
  --pin-file "$T/ca.pin"
expect_err_match "module-path"
printf 'not a library\n' > "$T/bogus.so"
expect_fail "a file that is not a PKCS#11 module" "$OFFCA" token list --module "$T/bogus.so"
expect_err_match "cannot be loaded"; one_line

# usage
for sub in list keygen wait show-key objects; do
  "$OFFCA" token "$sub" --help | grep -q "usage: offca token $sub" || fail "token $sub --help"
done
"$OFFCA" token --help | grep -q "offca token keygen" || fail "token --help"
"$OFFCA" help token > /dev/null || fail "offca help token"
set +e
"$OFFCA" token keygen --token "pkcs11:token=ca" --label x --type dsa-1024 --pin-file "$T/ca.pin" 2> "$T/last.err"; rc=$?
set -e
[ "$rc" = 2 ] || fail "bad --type: exit $rc, want 2"
expect_err_match "ec-p256"
expect_fail "keygen without --label" "$OFFCA" token keygen --token "pkcs11:token=ca" --type ec-p256
expect_fail "unknown subcommand" "$OFFCA" token frobnicate
expect_fail "unknown option" "$OFFCA" token list --frob
expect_fail "bad timeout" "$OFFCA" token wait --timeout soon
pass "done"
