#!/usr/bin/env bash
# Hardware test (docs/yubikey.md): runs only when a YubiKey with a prepared PIV 9c key is plugged in
# and named by OFFCA_TEST_YUBIKEY_URI (pkcs11:serial=...;id=%02;type=private), its PIN in the 0600
# file OFFCA_TEST_YUBIKEY_PIN_FILE. Reads and signs only (a touch per signature with touch policy
# ALWAYS); never generates, imports or deletes anything.
source "$(dirname "$0")/../lib/e2e.sh"
if [ -z "${OFFCA_TEST_YUBIKEY_URI:-}" ] || [ -z "${OFFCA_TEST_YUBIKEY_PIN_FILE:-}" ]; then
  echo "skip: no YubiKey named (OFFCA_TEST_YUBIKEY_URI, OFFCA_TEST_YUBIKEY_PIN_FILE)" >&2
  exit 77
fi
OPENSC=""
for m in /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so /usr/lib/aarch64-linux-gnu/opensc-pkcs11.so; do
  [ -e "$m" ] && { OPENSC=$m; break; }
done
[ -n "$OPENSC" ] || { echo "skip: opensc-pkcs11 not installed" >&2; exit 77; }
unset PCSCLITE_CSOCK_NAME

"$OFFCA" token wait --timeout 30 --module "$OPENSC" > "$T/wait.out" || fail "no YubiKey within 30 s"
pass "$(head -n1 "$T/wait.out")"
"$OFFCA" token list --module "$OPENSC" --json > "$T/list.json" || fail "token list"
grep -q '"removable": true' "$T/list.json" || fail "no removable token listed"
echo "touch the YubiKey if it blinks" >&2
"$OFFCA" token show-key "$OFFCA_TEST_YUBIKEY_URI" --module "$OPENSC" --pin-file "$OFFCA_TEST_YUBIKEY_PIN_FILE" \
  --selftest > "$T/show.txt" || fail "show-key --selftest on the YubiKey"
grep -q "^selftest: ok" "$T/show.txt" || fail "selftest"
pass "9c key: $(grep '^sha256:' "$T/show.txt")"
