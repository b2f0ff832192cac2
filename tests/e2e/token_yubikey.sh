#!/usr/bin/env bash
# A YubiKey's PIV slot 9c as a CA key (docs/yubikey.md), one script for two cards:
# - a real YubiKey when OFFCA_TEST_YUBIKEY_URI names a prepared 9c key (pkcs11:serial=...;id=%02;
#   type=private) and OFFCA_TEST_YUBIKEY_PIN_FILE its PIN file (0600): reads and signs only (a touch
#   per signature with touch policy ALWAYS); never generates, imports or deletes anything;
# - otherwise the PIV card emulator (tests/lib/piv_card.py) behind a private pcscd, driven by the
#   real yubico-piv-tool, OpenSC and ykcs11: the common part below, then what only a card we own
#   may undergo (key generation, attestation, PIN per signature from a file and a prompt, touch and
#   its timeout, wrong PINs down to a locked PIN and the PUK unblocking it).
source "$(dirname "$0")/../lib/e2e.sh"
EMULATED=0
if [ -n "${OFFCA_TEST_YUBIKEY_URI:-}" ] && [ -n "${OFFCA_TEST_YUBIKEY_PIN_FILE:-}" ]; then
  OPENSC=""
  for m in /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so /usr/lib/aarch64-linux-gnu/opensc-pkcs11.so; do
    [ -e "$m" ] && { OPENSC=$m; break; }
  done
  [ -n "$OPENSC" ] || { echo "skip: opensc-pkcs11 not installed" >&2; exit 77; }
  unset PCSCLITE_CSOCK_NAME
else
  EMULATED=1
  source "$OFFCA_SRC/tests/lib/piv_env.sh"
  piv_start_pcscd
  piv_insert
  MK=010203040506070801020304050607080102030405060708 # the factory management key
  # docs/yubikey.md step 2 and 3, with yubico-piv-tool
  PIV_TOOL -k"$MK" -a generate -s 9c -A ECCP384 --pin-policy=always --touch-policy=always \
    -o "$T/root-pub.pem" > "$T/gen.out" 2>&1 || fail "yubico-piv-tool generate: $(cat "$T/gen.out")"
  PIV_TOOL -a attest -s 9c -o "$T/attest-9c.pem" > "$T/att.out" 2>&1 || fail "attest: $(cat "$T/att.out")"
  PIV_TOOL -a read-certificate -s f9 -o "$T/attest-f9.pem" > "$T/f9.out" 2>&1 || fail "read f9: $(cat "$T/f9.out")"
  openssl verify -CAfile "$PIV_STATE/attestation-root.pem" -untrusted "$T/attest-f9.pem" "$T/attest-9c.pem" \
    > /dev/null || fail "the attestation does not chain to the emulator's attestation root"
  spki() { openssl pkey -pubin -outform DER | openssl dgst -sha256 | awk '{print $NF}'; }
  [ "$(openssl x509 -in "$T/attest-9c.pem" -noout -pubkey | spki)" = "$(spki < "$T/root-pub.pem")" ] ||
    fail "the attested key is not the generated key"
  # 1.3.6.1.4.1.41482.3.8: PIN policy always (3), touch policy always (2)
  openssl asn1parse -in "$T/attest-9c.pem" | grep -A1 '1.3.6.1.4.1.41482.3.8' | grep -q '\[HEX DUMP\]:0302' ||
    fail "attested policies are not always/always"
  pass "yubico-piv-tool: P-384 in 9c (PIN always, touch always), attested, chain verified"
  piv_placeholder_cert "$T/root-pub.pem" "$T/placeholder.pem"
  PIV_TOOL -k"$MK" -a import-certificate -s 9c -i "$T/placeholder.pem" > "$T/imp.out" 2>&1 ||
    fail "import-certificate: $(cat "$T/imp.out")"
  pass "yubico-piv-tool: placeholder certificate imported into 9c"
  (umask 077; echo 123456 > "$T/pin")
  OFFCA_TEST_YUBIKEY_PIN_FILE="$T/pin"
  serial=$("$OFFCA" token list --module "$OPENSC" --json | sed -n 's/.*"serial": "\([0-9a-f]\{6,\}\)".*/\1/p' | head -n1)
  [ -n "$serial" ] || fail "no serial from OpenSC"
  OFFCA_TEST_YUBIKEY_URI="pkcs11:serial=$serial;id=%02;type=private"
  piv_autotouch_start
fi

# ---- the common part: a real YubiKey or the emulator
"$OFFCA" token wait --timeout 30 --module "$OPENSC" > "$T/wait.out" || fail "no YubiKey within 30 s"
pass "$(head -n1 "$T/wait.out")"
"$OFFCA" token list --module "$OPENSC" --json > "$T/list.json" || fail "token list"
grep -q '"removable": true' "$T/list.json" || fail "no removable token listed"
[ "$EMULATED" = 1 ] || echo "touch the YubiKey if it blinks" >&2
"$OFFCA" token show-key "$OFFCA_TEST_YUBIKEY_URI" --module "$OPENSC" --pin-file "$OFFCA_TEST_YUBIKEY_PIN_FILE" \
  --selftest > "$T/show.txt" || fail "show-key --selftest on the YubiKey"
grep -q "^selftest: ok" "$T/show.txt" || fail "selftest"
pass "9c key: $(grep '^sha256:' "$T/show.txt")"
[ "$EMULATED" = 1 ] || exit 0

# ---- the emulator only
grep -q "^sha256: $(spki < "$T/root-pub.pem")" "$T/show.txt" || fail "show-key shows another key"
[ "$(wc -l < "$T/touches")" -ge 1 ] || fail "the selftest signature was not touched"

# token list through both modules
"$OFFCA" token list --module "$OPENSC" > "$T/l1.txt" || fail "token list (OpenSC)"
grep -q "slot 0: Yubico YubiKey OTP+FIDO+CCID 00 00" "$T/l1.txt" && grep -q "manufacturer: piv_II" "$T/l1.txt" ||
  fail "OpenSC does not show the card: $(cat "$T/l1.txt")"
"$OFFCA" token list --module "$YKCS11" > "$T/l2.txt" || fail "token list (ykcs11)"
card_serial=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["serial"])' "$PIV_STATE/state.json")
grep -q "token: YubiKey PIV #$card_serial  serial: $card_serial  manufacturer: Yubico (www.yubico.com)  model: YubiKey YK5" \
  "$T/l2.txt" || fail "ykcs11 does not show the card: $(cat "$T/l2.txt")"
pass "token list: OpenSC (PIV_II, serial $serial) and ykcs11 (YubiKey PIV #$card_serial)"

# offca ca root with the 9c key: the PIN from a file, for the login and again for the signature
export OFFCA_HOME="$T/ca"
"$OFFCA" init > /dev/null || fail "init"
v0=$(piv_count verify); s0=$(piv_count sign)
"$OFFCA" ca root --module "$OPENSC" --key "$OFFCA_TEST_YUBIKEY_URI" --pin-file "$T/pin" \
  --subject "CN=Emulated YubiKey Root" --days 30 --out "$T/root.pem" 2> "$T/root.err" ||
  fail "ca root on the 9c key: $(cat "$T/root.err")"
[ "$(openssl x509 -in "$T/root.pem" -noout -pubkey | spki)" = "$(spki < "$T/root-pub.pem")" ] ||
  fail "the root is not certified for the 9c key"
openssl verify -CAfile "$T/root.pem" "$T/root.pem" > /dev/null || fail "the root's self-signature does not verify"
v1=$(piv_count verify); s1=$(piv_count sign)
[ $((s1 - s0)) -ge 1 ] && [ $((v1 - v0)) -ge $((s1 - s0)) ] ||
  fail "ca root: $((s1 - s0)) signatures, $((v1 - v0)) PIN verifications"
pass "ca root on 9c via OpenSC: $((s1 - s0)) signature(s), $((v1 - v0)) PIN verifications, self-signature verifies"
PIV_TOOL -k"$MK" -a import-certificate -s 9c -i "$T/root.pem" > "$T/imp2.out" 2>&1 ||
  fail "importing the root into 9c: $(cat "$T/imp2.out")"
# OpenSC names the token after the certificate in 9a/9c: the URI by serial still finds it
KEY="pkcs11:serial=$serial;id=%02;type=private"

# offca sign: three certificates in one batch, each signature with its own PIN verification and touch
"$OFFCA" ca list > "$T/ca.list" || fail "ca list"
grep -q "pkcs11:serial=$serial;id=%02" "$T/ca.list" ||
  fail "the root's key URI does not name the token by its serial: $(cat "$T/ca.list")"
for i in 1 2 3; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/leaf$i.key" \
    -subj "/CN=host$i.example.com" -addext "subjectAltName=DNS:host$i.example.com" -out "$T/leaf$i.csr" 2>/dev/null
done
mkdir "$T/out"
v0=$(piv_count verify); s0=$(piv_count sign); t0=$(wc -l < "$T/touches")
"$OFFCA" sign --module "$OPENSC" --pin-file "$T/pin" --csr "$T/leaf1.csr" "$T/leaf2.csr" "$T/leaf3.csr" \
  --profile server --days 10 --out-dir "$T/out" > "$T/sign.out" 2> "$T/sign.err" || fail "sign on the 9c key: $(cat "$T/sign.err")"
v1=$(piv_count verify); s1=$(piv_count sign); t1=$(wc -l < "$T/touches")
[ "$(ls "$T/out" | wc -l)" = 3 ] || fail "three certificates expected in $T/out"
for c in "$T"/out/*.pem; do openssl verify -CAfile "$T/root.pem" "$c" > /dev/null || fail "$c does not verify"; done
# three certificates, then the session's signed audit checkpoint (docs/store.md): four signatures
[ $((s1 - s0)) = 4 ] || fail "4 signatures expected (3 certificates + the audit checkpoint), the card made $((s1 - s0))"
[ $((v1 - v0)) -ge 4 ] || fail "PIN verified $((v1 - v0)) times for 4 signatures"
[ $((t1 - t0)) = 4 ] || fail "4 touches expected, got $((t1 - t0))"
pass "sign: 3 certificates + the audit checkpoint, 4 signatures, $((v1 - v0)) PIN verifications, 4 touches"

# the PIN from the prompt (pty), asked for the login and again for each signature; the touch
# prompt (config touch: always) announces each signature before the card waits, and the script
# touches only after it has seen the prompt (no finger in the background)
jq '.defaults.touch = "always" | .defaults.touch_timeout = 20' "$OFFCA_HOME/config.json" > "$T/config.new"
cat "$T/config.new" > "$OFFCA_HOME/config.json"
piv_autotouch_stop
touches0=$(grep -c "touched" "$T/piv-apdu.log" || true)
cat > "$T/pty.script" <<'EOF'
expect PIN for token '[^']*':
send 123456
expect Touch the YubiKey '[^']*' now to approve signing the certificate for CN=host1.example.com
expect PIN for key '[^']*' \(asked for every signature\):
send 123456
shell python3 "$OFFCA_SRC/tests/lib/piv_card.py" --touch "$PIV_STATE" 10
expect Touch the YubiKey '[^']*' now to approve signing the audit checkpoint
expect PIN for key '[^']*' \(asked for every signature\):
send 123456
shell python3 "$OFFCA_SRC/tests/lib/piv_card.py" --touch "$PIV_STATE" 10
EOF
python3 "$OFFCA_SRC/tests/lib/pty_drive.py" "$T/pty.script" -- "$OFFCA" sign --yes --module "$OPENSC" \
  --csr "$T/leaf1.csr" --profile server --days 10 --out "$T/prompted.pem" > "$T/pty.out" 2>&1 ||
  fail "sign with the PIN typed at the prompt: $(cat "$T/pty.out")"
openssl verify -CAfile "$T/root.pem" "$T/prompted.pem" > /dev/null || fail "prompted certificate does not verify"
[ "$(grep -c "touched" "$T/piv-apdu.log")" = $((touches0 + 2)) ] || fail "the pty script's touches were not used"
pass "sign with the PIN from the prompt (login, then again for the certificate and the audit checkpoint), touched from the pty script"

# no touch: the card gives up (6982 after its timeout, as a YubiKey after ~15 s)
echo 1 > "$PIV_STATE/touch-timeout"
s0=$(piv_count sign)
expect_fail "sign without a touch" "$OFFCA" sign --module "$OPENSC" --pin-file "$T/pin" --csr "$T/leaf2.csr" \
  --profile server --days 10 --out "$T/untouched.pem"
[ ! -e "$T/untouched.pem" ] || fail "a certificate was written without a touch"
# OpenSC itself sends the refused GENERAL AUTHENTICATE a second time (on 6982 its PKCS#15 layer
# retries the operation): two attempts reach the card, so a missed touch on a real YubiKey costs
# two 15 s waits. offca asks once.
[ $(( $(piv_count sign) - s0 )) -le 2 ] || fail "the untouched signature was tried $(( $(piv_count sign) - s0 )) times"
grep -q "no touch: timeout" "$T/piv-apdu.log" || fail "the card did not time out waiting for a touch"

# with touch: always the wait is offca's: "no touch within N s" (exit 21) before the card gives up,
# nothing written, the serial voided
echo 6 > "$PIV_STATE/touch-timeout"
nt0=$(grep -c "no touch: timeout" "$T/piv-apdu.log" || true)
jq '.defaults.touch_timeout = 2' "$OFFCA_HOME/config.json" > "$T/config.new"
cat "$T/config.new" > "$OFFCA_HOME/config.json"
rc=0
"$OFFCA" sign --module "$OPENSC" --pin-file "$T/pin" --csr "$T/leaf2.csr" --profile server --days 10 \
  --out "$T/untouched2.pem" > "$T/last.out" 2> "$T/last.err" || rc=$?
[ "$rc" = 21 ] || fail "no touch with touch: always: exit $rc, expected 21: $(cat "$T/last.err")"
grep -q "^Touch the YubiKey '[^']*' now to approve signing the certificate for CN=host2.example.com" "$T/last.err" ||
  fail "no touch prompt before the signature: $(cat "$T/last.err")"
expect_err_match "no touch within 2 s"
[ ! -e "$T/untouched2.pem" ] || fail "a certificate was written without a touch"
# the card gives up by itself 6 s after the request (offca has left): wait for it before going on
for _ in $(seq 100); do [ "$(grep -c "no touch: timeout" "$T/piv-apdu.log")" -gt "$nt0" ] && break; sleep 0.1; done
pass "touch: always, no touch: 'no touch within 2 s' (exit 21), nothing written"
jq 'del(.defaults.touch) | del(.defaults.touch_timeout)' "$OFFCA_HOME/config.json" > "$T/config.new"
cat "$T/config.new" > "$OFFCA_HOME/config.json"
rm -f "$PIV_STATE/touch-timeout"
piv_autotouch_start

# wrong PINs, through both modules: one VERIFY per attempt (offca never retries a PIN), the tries
# left as each module reports them (ykcs11: count low at 2 of 3; OpenSC sets no flag at 2 of 3,
# only final try at 1), locked at 0 (exit 8), then the PUK unblocks the PIN (docs/yubikey.md)
(umask 077; echo 999999 > "$T/wrong")
wrong_pin() { # MODULE URI EXPECTED_EXIT REGEX
  local v0 rc=0
  v0=$(piv_count verify)
  "$OFFCA" token show-key "$2" --module "$1" --pin-file "$T/wrong" > "$T/last.out" 2> "$T/last.err" || rc=$?
  [ "$rc" = "$3" ] || fail "wrong PIN: exit $rc, expected $3: $(cat "$T/last.err")"
  [ "$(grep -c . "$T/last.err")" = 1 ] || fail "wrong PIN: not one error line: $(cat "$T/last.err")"
  expect_err_match "$4"
  [ $(( $(piv_count verify) - v0 )) -le 1 ] || fail "offca tried the PIN $(( $(piv_count verify) - v0 )) times"
  pass "$(basename "$1"), wrong PIN -> exit $rc: $(cat "$T/last.err")"
}
unblock() { # MODULE URI
  PIV_TOOL -a verify-pin -P 123456 > "$T/v.out" 2>&1 && fail "the locked PIN still verifies"
  # docs/yubikey.md: ykman piv access unblock-pin, here its yubico-piv-tool twin
  PIV_TOOL -a unblock-pin -P 12345678 -N 123456 > "$T/unblock.out" 2>&1 || fail "unblock-pin: $(cat "$T/unblock.out")"
  "$OFFCA" token show-key "$2" --module "$1" --pin-file "$T/pin" --selftest > "$T/show2.txt" ||
    fail "show-key after unblocking"
  grep -q "^selftest: ok" "$T/show2.txt" || fail "selftest after unblocking"
  pass "$(basename "$1"): PIN unblocked with the PUK; the key signs again"
}
wrong_pin "$OPENSC" "$KEY" 7 "': wrong PIN$"
wrong_pin "$OPENSC" "$KEY" 7 "wrong PIN \(final try"
wrong_pin "$OPENSC" "$KEY" 8 "PIN is locked"
wrong_pin "$OPENSC" "$KEY" 8 "PIN is locked"
unblock "$OPENSC" "$KEY"
YKEY="pkcs11:serial=$card_serial;id=%02;type=private"
wrong_pin "$YKCS11" "$YKEY" 7 "wrong PIN \(count low"
wrong_pin "$YKCS11" "$YKEY" 7 "wrong PIN \(final try"
wrong_pin "$YKCS11" "$YKEY" 8 "PIN is locked"
unblock "$YKCS11" "$YKEY"

# RSA-2048 in 9a (OpenSC lets 9d, the key management slot, only decrypt), made on the card: its 256-byte signature input travels in chained APDUs and its
# certificate and signature come back through GET RESPONSE; both modules sign with it
PIV_TOOL -k"$MK" -a generate -s 9a -A RSA2048 -o "$T/9a.pub" > "$T/gen9a.out" 2>&1 || fail "generate 9a: $(cat "$T/gen9a.out")"
piv_placeholder_cert "$T/9a.pub" "$T/9a.crt"
PIV_TOOL -k"$MK" -a import-certificate -s 9a -i "$T/9a.crt" > "$T/imp9a.out" 2>&1 || fail "import 9a: $(cat "$T/imp9a.out")"
for m in "$OPENSC" "$YKCS11"; do
  "$OFFCA" token show-key "pkcs11:serial=$([ "$m" = "$OPENSC" ] && echo "$serial" || echo "$card_serial");id=%01;type=private" \
    --module "$m" --pin-file "$T/pin" --selftest > "$T/show9a.txt" 2> "$T/show9a.err" ||
    fail "RSA 9a through $(basename "$m"): $(cat "$T/show9a.err")"
  grep -q "^selftest: ok" "$T/show9a.txt" || fail "RSA 9a selftest through $(basename "$m")"
  grep -q "^sha256: $(spki < "$T/9a.pub")" "$T/show9a.txt" || fail "RSA 9a: another key"
done
grep -q '^ *[0-9.]* > 10 87 07 9A' "$T/piv-apdu.log" || fail "no chained RSA signature command seen"
pass "RSA-2048 in 9a: generated on the card, signs through OpenSC and ykcs11 (chained APDUs)"
