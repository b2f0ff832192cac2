#!/usr/bin/env bash
# offca publish killed (SIGKILL) while it writes objects: the sequence numbers were saved first and
# stay valid; no object file is half-written (a reader sees none or a complete one); the next run
# gives the same certificates the same numbers (a number always means one content) and a renewed
# endpoint the next one, writes every object and leaves no temporaries; the objects open with
# `openssl cms`.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_SRC/tests/lib/est_env.sh"
need python3
SEED="$OFFCA_BUILD/bench/bench_relay_seed"
[ -x "$SEED" ] || { echo "skip: $SEED not built" >&2; exit 77; }
est_ca
INT=$("$OFFCA" ca list | awk '$1 == "*" { print $2; exit }')
"$SEED" "$OFFCA_HOME" "$INT" 1500 || fail "seed"
SEQ=$OFFCA_HOME/relay/sequence.json
GWH=$(openssl pkey -in "$T/gw.key" -pubout -outform DER | sha256sum | cut -d' ' -f1)

"$OFFCA" publish --out-dir "$T/pub" --pin-file "$T/ca.pin" >/dev/null 2>"$T/p1.err" &
P=$!
for i in $(seq 1 600); do
  compgen -G "$T/pub/.*.tmp" >/dev/null && break
  kill -0 "$P" 2>/dev/null || break
  sleep 0.05
done
kill -9 "$P" 2>/dev/null || fail "publish ended before it could be killed (too fast: seed more)"
wait "$P" 2>/dev/null || true
[ -s "$SEQ" ] || fail "no sequence file after the crash"
python3 - "$SEQ" "$GWH" 1 <<'PY' || fail "sequence file after the crash"
import json, sys
m = json.load(open(sys.argv[1]))
assert len(m) == 1501, len(m)
assert all(v["seq"] == int(sys.argv[3]) for v in m.values()), set(v["seq"] for v in m.values())
assert sys.argv[2] in m
PY
n_obj=$(find "$T/pub" -maxdepth 1 -type f ! -name '.*' | wc -l)
[ "$n_obj" = 0 ] || fail "$n_obj objects named before the run committed them"
pass "killed while writing objects: numbers saved (1 for all 1501 endpoints), no object named yet"

# the gateway's endpoint is renewed (same key) before the next run
openssl req -new -key "$T/gw.key" -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -out "$T/gw2.csr" 2>/dev/null
sleep 1
"$OFFCA" sign --csr "$T/gw2.csr" --profile server --days 30 --out "$T/gw2.crt" --pin-file "$T/ca.pin" >/dev/null 2>&1 \
  || fail "renew the gateway's certificate"
"$OFFCA" publish --out-dir "$T/pub" --pin-file "$T/ca.pin" > "$T/p2.out" 2>"$T/p2.err" || fail "publish again: $(cat "$T/p2.err")"
grep -q "1501 relay objects for issuer '$INT' (1500 with their number unchanged)" "$T/p2.out" \
  || fail "second run: $(cat "$T/p2.out")"
python3 - "$SEQ" "$GWH" <<'PY' || fail "sequence file after the second run"
import json, sys
m = json.load(open(sys.argv[1]))
assert m.pop(sys.argv[2])["seq"] == 2, "the renewed endpoint"
assert all(v["seq"] == 1 for v in m.values()), set(v["seq"] for v in m.values())
PY
[ -z "$(find "$T/pub" -maxdepth 1 -name '.*.tmp')" ] || fail "temporaries left after a good run"
openssl cms -decrypt -inform DER -in "$T/pub/$GWH" -inkey "$T/gw.key" -binary -out "$T/sd.der" 2>/dev/null || fail "decrypt"
openssl cms -verify -inform DER -in "$T/sd.der" -CAfile "$T/root.pem" -purpose any -binary -out "$T/c.der" 2>/dev/null \
  || fail "verify"
python3 -c "
import sys; b = open(sys.argv[1], 'rb').read()
i = 4 + 3 + 34  # SEQUENCE hdr (30 82 LL LL), version (02 01 01), endpoint (04 20 + 32)
assert b[i] == 2 and b[i + 1] == 1 and b[i + 2] == 2, b[i:i + 3].hex()" "$T/c.der" || fail "the object does not carry sequence 2"
cmp -s <(openssl x509 -in "$T/gw2.crt" -outform DER) <(python3 -c "
import sys; b = open(sys.argv[1], 'rb').read(); i = 4 + 3 + 34 + 3
l = int.from_bytes(b[i + 2:i + 4], 'big') + 4; sys.stdout.buffer.write(b[i:i + l])" "$T/c.der") \
  || fail "the object does not carry the renewed certificate"
pass "the next run: the same certificates kept number 1, the renewed endpoint got 2 with its new certificate; all objects written, no temporaries"
