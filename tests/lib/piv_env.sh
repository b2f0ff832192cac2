# shellcheck shell=bash
# tests/lib/piv_env.sh - sourced after tests/lib/e2e.sh by the tests that drive the PIV card
# emulator (tests/lib/piv_card.py) through the real middleware: a private pcscd (own socket, own
# reader.conf.d with vsmartcard's vpcd driver on free ports) whose virtual reader is named like a
# YubiKey's, and the card inserted into it. Skips (77) when a piece is not installed.
#   piv_start_pcscd            pcscd up; sets PIV_PORT, exports PCSCLITE_CSOCK_NAME
#   piv_insert [ARGS...]       the card in (state in $PIV_STATE, APDU log $T/piv-apdu.log); extra
#                              arguments go to piv_card.py (--touch-timeout S, --pull-at-sign N)
#   piv_pull                   the card out (the emulator ends; its state stays)
#   piv_touch                  waits until the card waits for a touch, then touches
# OPENSC and YKCS11 name the two PKCS#11 modules; PIV_TOOL runs yubico-piv-tool on this reader.
need pcscd
need python3
need yubico-piv-tool
python3 -c 'import cryptography' 2>/dev/null || { echo "skip: python3-cryptography not installed" >&2; exit 77; }
VPCD_DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
[ -e "$VPCD_DRIVER" ] || { echo "skip: vsmartcard-vpcd not installed" >&2; exit 77; }
OPENSC=""
YKCS11=""
for d in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib; do
  [ -z "$OPENSC" ] && [ -e "$d/opensc-pkcs11.so" ] && OPENSC=$d/opensc-pkcs11.so
  [ -z "$YKCS11" ] && [ -e "$d/libykcs11.so" ] && YKCS11=$d/libykcs11.so
done
[ -n "$OPENSC" ] || { echo "skip: opensc-pkcs11 not installed" >&2; exit 77; }
[ -n "$YKCS11" ] || { echo "skip: ykcs11 not installed" >&2; exit 77; }
PIV_CARD="$OFFCA_SRC/tests/lib/piv_card.py"
PIV_STATE="$T/card"
PIV_READER="Yubico YubiKey OTP+FIDO+CCID"
PIV_PID=""
# OpenSC: no file cache, no stray configuration from the machine
export HOME="$T/user-home"
mkdir -p "$HOME"
export PCSCLITE_CSOCK_NAME="$T/pcscd.comm"

# A free TCP port P with P+1 also free (vpcd opens two readers, on P and P+1); see token_wait.sh.
piv_free_port() {
  python3 - <<'EOF'
import socket, random
for _ in range(200):
    p = random.randint(20000, 60000)
    try:
        a = socket.socket(); a.bind(("0.0.0.0", p))
        b = socket.socket(); b.bind(("0.0.0.0", p + 1))
        a.close(); b.close(); print(p); break
    except OSError:
        pass
EOF
}

piv_start_pcscd() {
  local try
  for try in 1 2 3; do
    PIV_PORT=$(piv_free_port)
    mkdir -p "$T/reader.conf.d"
    printf 'FRIENDLYNAME "%s"\nDEVICENAME /dev/null:0x%X\nLIBPATH %s\nCHANNELID 0x%X\n' \
      "$PIV_READER" "$PIV_PORT" "$VPCD_DRIVER" "$PIV_PORT" > "$T/reader.conf.d/vpcd"
    rm -f "$PCSCLITE_CSOCK_NAME"
    python3 "$OFFCA_SRC/tests/lib/vpcd_card.py" --pcscd "$PCSCLITE_CSOCK_NAME" -- \
      pcscd -f -i -c "$T/reader.conf.d" > "$T/pcscd.log" 2>&1 &
    PIV_PCSCD_PID=$!
    e2e_bg "$PIV_PCSCD_PID"
    for _ in $(seq 50); do
      grep -q "daemon ready" "$T/pcscd.log" && break
      sleep 0.1
    done
    if grep -q "daemon ready" "$T/pcscd.log" && ! grep -q "Could not initialize" "$T/pcscd.log"; then
      return 0
    fi
    kill "$PIV_PCSCD_PID" 2>/dev/null || true; wait "$PIV_PCSCD_PID" 2>/dev/null || true
  done
  cat "$T/pcscd.log" >&2
  fail "pcscd with vpcd did not start"
}

piv_insert() {
  local seen
  seen=$(grep -c "Card inserted into" "$T/pcscd.log" || true)
  PIV_REMOVALS=$(grep -c "Card Removed From" "$T/pcscd.log" || true)
  rm -f "$PIV_STATE/inserted"
  python3 "$PIV_CARD" --connect "127.0.0.1:$PIV_PORT" --state "$PIV_STATE" --log "$T/piv-apdu.log" "$@" \
    >> "$T/piv-card.log" 2>&1 &
  PIV_PID=$!
  e2e_bg "$PIV_PID"
  for _ in $(seq 100); do
    [ -e "$PIV_STATE/inserted" ] && break
    kill -0 "$PIV_PID" 2>/dev/null || { cat "$T/piv-card.log" >&2; fail "the PIV emulator ended"; }
    sleep 0.1
  done
  [ -e "$PIV_STATE/inserted" ] || fail "the PIV emulator did not reach vpcd"
  # pcscd sees the card within its polling interval
  for _ in $(seq 100); do
    [ "$(grep -c "Card inserted into" "$T/pcscd.log" || true)" -gt "$seen" ] && return 0
    sleep 0.05
  done
  fail "pcscd did not see the PIV emulator"
}

piv_pull() {
  local seen=${PIV_REMOVALS:-0}
  [ -n "$PIV_PID" ] && { kill "$PIV_PID" 2>/dev/null || true; wait "$PIV_PID" 2>/dev/null || true; }
  PIV_PID=""
  for _ in $(seq 100); do
    [ "$(grep -c "Card Removed From" "$T/pcscd.log" || true)" -gt "$seen" ] && return 0
    sleep 0.05
  done
}

# piv_touch [SECONDS]: wait (default 20 s) for the card to wait for a touch, then touch it.
piv_touch() {
  local i
  for i in $(seq $(( ${1:-20} * 20 ))); do
    [ -e "$PIV_STATE/touch-waiting" ] && { : > "$PIV_STATE/touch"; return 0; }
    sleep 0.05
  done
  return 1
}

# yubico-piv-tool on the emulator's reader (it finds readers by name: "Yubico")
PIV_TOOL() { yubico-piv-tool -r Yubico "$@"; }

# piv_placeholder_cert PUB.pem OUT.pem: a certificate for the slot's public key, so OpenSC's PIV
# driver finds the key (docs/yubikey.md step 2). yubico-piv-tool 2.2.0's selfsign-certificate fails
# under OpenSSL 3 before it sends any APDU (Yubico/yubico-piv-tool#388), so the placeholder is
# signed by a throwaway key here: only its public key matters to the middleware.
piv_placeholder_cert() {
  python3 - "$1" "$2" <<'PYEOF'
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
pub = serialization.load_pem_public_key(open(sys.argv[1], "rb").read())
now = datetime.datetime.now(datetime.timezone.utc)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "offca root key (placeholder)")])
c = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(pub)
     .serial_number(x509.random_serial_number()).not_valid_before(now)
     .not_valid_after(now + datetime.timedelta(days=30))
     .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256()))
open(sys.argv[2], "wb").write(c.public_bytes(serialization.Encoding.PEM))
PYEOF
}

# piv_autotouch_start / piv_autotouch_stop: a finger that touches whenever the card waits for a
# touch (each touch is a line in $T/touches).
piv_autotouch_start() {
  : > "$T/touches"
  ( while :; do
      if [ -e "$PIV_STATE/touch-waiting" ] && [ ! -e "$PIV_STATE/touch" ]; then
        : > "$PIV_STATE/touch"; echo touch >> "$T/touches"; sleep 0.2
      fi
      sleep 0.05
    done ) &
  PIV_AUTOTOUCH=$!
  e2e_bg "$PIV_AUTOTOUCH"
}
piv_autotouch_stop() { kill "$PIV_AUTOTOUCH" 2>/dev/null || true; wait "$PIV_AUTOTOUCH" 2>/dev/null || true; }

# piv_count WHAT: how many commands of a kind the card has received so far (APDU log):
# verify (VERIFY with a PIN), sign (GENERAL AUTHENTICATE to a key slot), attest
piv_count() {
  case $1 in
    verify) grep -c '> 00 20 00 80 (8 bytes)' "$T/piv-apdu.log" || true ;;
    sign) grep -Ec '> 00 87 (11|14|07) (9A|9C|9D|9E)' "$T/piv-apdu.log" || true ;;
    attest) grep -Ec '> 00 F9 ' "$T/piv-apdu.log" || true ;;
  esac
}

# For a pty_drive.py script that expects a touch prompt and then touches (the prompt must come
# before the card waits: the touch only happens once the prompt was seen):
#   expect Touch the YubiKey
#   shell python3 "$OFFCA_SRC/tests/lib/piv_card.py" --touch "$PIV_STATE"
export PIV_STATE OFFCA_SRC
