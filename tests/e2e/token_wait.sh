#!/usr/bin/env bash
# offca token wait: against a real pcscd (private socket, private reader.conf.d with vsmartcard's
# vpcd driver on a free port) and a virtual card (tests/lib/vpcd_card.py), and by slot polling
# with SoftHSM2. Proves: timeout with no card (non-zero exit, clear message), a card connecting
# ends the wait with the reader's name, a removed card is gone again, and pcscd missing is said
# plainly.
source "$(dirname "$0")/../lib/e2e.sh"
need pcscd
need python3
VPCD_DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
[ -e "$VPCD_DRIVER" ] || { echo "skip: vsmartcard-vpcd not installed" >&2; exit 77; }
OPENSC=""
for m in /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so /usr/lib/aarch64-linux-gnu/opensc-pkcs11.so /usr/lib/opensc-pkcs11.so; do
  if [ -e "$m" ]; then OPENSC=$m; break; fi
done
[ -n "$OPENSC" ] || { echo "skip: opensc-pkcs11 not installed" >&2; exit 77; }
CARD="$OFFCA_SRC/tests/lib/vpcd_card.py"

# A free TCP port P with P+1 also free (vpcd opens two readers, on P and P+1). vpcd's server mode
# listens on every interface (its driver has no bind address); the card connects via 127.0.0.1 and
# the port lives only as long as this test's pcscd. (vpcd's reverse mode, which would let the card
# listen on 127.0.0.1 instead, crashes Debian 12's pcscd while no card is connected.)
free_port() {
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

export PCSCLITE_CSOCK_NAME="$T/pcscd.comm"
start_pcscd() {
  local try
  for try in 1 2 3; do
    PORT=$(free_port)
    mkdir -p "$T/reader.conf.d"
    printf 'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:0x%X\nLIBPATH %s\nCHANNELID 0x%X\n' \
      "$PORT" "$VPCD_DRIVER" "$PORT" > "$T/reader.conf.d/vpcd"
    rm -f "$PCSCLITE_CSOCK_NAME"
    python3 "$CARD" --pcscd "$PCSCLITE_CSOCK_NAME" -- pcscd -f -i -c "$T/reader.conf.d" > "$T/pcscd.log" 2>&1 &
    PCSCD_PID=$!
    e2e_bg "$PCSCD_PID"
    for _ in $(seq 50); do
      grep -q "daemon ready" "$T/pcscd.log" && break
      sleep 0.1
    done
    if grep -q "daemon ready" "$T/pcscd.log" && ! grep -q "Could not initialize" "$T/pcscd.log"; then
      return 0
    fi
    kill "$PCSCD_PID" 2>/dev/null || true; wait "$PCSCD_PID" 2>/dev/null || true
  done
  cat "$T/pcscd.log" >&2
  fail "pcscd with vpcd did not start"
}
start_pcscd
pass "private pcscd with vpcd on port $PORT"

# 1. no card: times out, non-zero, one clear line
start=$(date +%s)
expect_fail "wait without a card" "$OFFCA" token wait --timeout 2 --module "$OPENSC"
expect_err_match "timed out"
[ $(( $(date +%s) - start )) -ge 2 ] || fail "wait returned before its timeout"

# 2. a card arrives while offca waits: it prints the reader and exits 0
"$OFFCA" token wait --timeout 20 --module "$OPENSC" > "$T/wait.out" 2> "$T/wait.err" &
WAIT_PID=$!
sleep 1
kill -0 "$WAIT_PID" 2>/dev/null || fail "wait ended before a card was there: $(cat "$T/wait.err")"
python3 "$CARD" --connect "127.0.0.1:$PORT" > "$T/card.log" 2>&1 &
CARD_PID=$!
e2e_bg "$CARD_PID"
if ! wait "$WAIT_PID"; then fail "wait failed after the card arrived: $(cat "$T/wait.err")"; fi
grep -q "^reader: Virtual PCD" "$T/wait.out" || fail "wait did not name the reader: $(cat "$T/wait.out")"
pass "card arrival -> $(head -n1 "$T/wait.out")"

# 3. the card is present: wait returns at once
"$OFFCA" token wait --timeout 5 --module "$OPENSC" > "$T/wait2.out" || fail "wait with a card present failed"
pass "card already present"

# 4. card removed: waiting times out again
kill "$CARD_PID"; wait "$CARD_PID" 2>/dev/null || true
sleep 1
expect_fail "wait after the card left" "$OFFCA" token wait --timeout 1 --module "$OPENSC"
expect_err_match "timed out"
# OpenSC lists the empty reader as a slot (listing with the virtual card in takes OpenSC ~25 s of
# probing card drivers against a card that answers nothing)
"$OFFCA" token list --module "$OPENSC" --json > "$T/list.json" || fail "token list with OpenSC"
grep -q '"slot_description": "Virtual PCD 00 00' "$T/list.json" || fail "OpenSC slot missing: $(cat "$T/list.json")"
pass "token list --module opensc shows the reader"

# 5. no pcscd behind the socket: a clear message
PCSCLITE_CSOCK_NAME="$T/nothing-here.comm" expect_fail "wait without pcscd" \
  "$OFFCA" token wait --timeout 1 --module "$OPENSC"
expect_err_match "pcscd"

# 6. slot polling (SoftHSM2): a named token that appears later ends the wait
TIMEFORMAT=%U
cpu=$( { time "$OFFCA" token wait --timeout 2 --token "pkcs11:token=late" 2>"$T/last.err" >/dev/null; } 2>&1 ) \
  && fail "wait for an absent SoftHSM token succeeded"
expect_err_match "timed out"
awk -v c="$cpu" 'BEGIN { exit !(c < 1.0) }' || fail "polling wait burnt ${cpu}s of CPU in 2 s (spinning?)"
pass "wait for an absent SoftHSM token times out, ${cpu}s CPU"
"$OFFCA" token wait --timeout 20 --token "pkcs11:token=late" > "$T/wait3.out" 2> "$T/wait3.err" &
WAIT_PID=$!
sleep 1
e2e_token late
if ! wait "$WAIT_PID"; then fail "polling wait failed: $(cat "$T/wait3.err")"; fi
grep -q "^token: late" "$T/wait3.out" || fail "polling wait did not name the token: $(cat "$T/wait3.out")"
pass "SoftHSM token arrival -> $(tr '\n' ' ' < "$T/wait3.out")"

"$OFFCA" token wait --help | grep -q -- "--timeout" || fail "token wait --help"
pass "done"
