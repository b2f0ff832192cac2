#!/usr/bin/env bash
# The gateway's queue crosses the gap as QR frames too: the signed inbound bundle is shown as
# ur:offca-bundle frames and read back byte for byte on the CA (the operator's signature and the
# provenance survive), and the CA's outbound bundle comes back the same way to `queue import`.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_SRC/tests/lib/est_env.sh"
need zbarimg
est_ca
est_gateway_start
tok=$(est_token client q.example.test)
D=$T/ep
set +e; "$AGENT" enroll --server "$GW_URL" --root-sha256 "$ROOT_FP" --token-file "$tok" --san q.example.test \
  --out-dir "$D" > "$T/e1.out" 2>&1; rc=$?; set -e
[ $rc -eq 75 ] || fail "enroll: $rc $(cat "$T/e1.out")"

gw_cmd queue export --out "$T/in.offca" --sign-key-file "$T/op.key" --signer-cert "$T/op.pem" >/dev/null || fail "export"
"$OFFCA" qr encode "$T/in.offca" --out-dir "$T/qr-in" >/dev/null || fail "qr encode (in)"
"$OFFCA" qr decode "$T"/qr-in/*.png --out "$T/in-scanned.offca" >/dev/null || fail "qr decode (in)"
cmp "$T/in.offca" "$T/in-scanned.offca" || fail "the bundle changed through QR"
"$OFFCA" bundle import "$T/in-scanned.offca" --require-signed >/dev/null || fail "bundle import"
"$OFFCA" pending list | grep -q "est token=.* profile=client; bundle .* operator gateway" || fail "provenance lost"
mkdir -p "$T/issued"
"$OFFCA" sign --pending-all --profile requested --days 30 --out-dir "$T/issued" --pin-file "$T/ca.pin" >/dev/null || fail "sign"
"$OFFCA" bundle export --out "$T/out.offca" --since 2000-01-01 --pin-file "$T/ca.pin" >/dev/null || fail "bundle export"
"$OFFCA" qr encode "$T/out.offca" --out-dir "$T/qr-out" >/dev/null || fail "qr encode (out)"
"$OFFCA" qr decode "$T"/qr-out/*.png --out "$T/out-scanned.offca" >/dev/null || fail "qr decode (out)"
gw_cmd queue import "$T/out-scanned.offca" | grep -q "imported 1 certificates" || fail "queue import"
"$AGENT" enroll --server "$GW_URL" --root-sha256 "$ROOT_FP" --token-file "$tok" --san q.example.test \
  --out-dir "$D" > "$T/e2.out" 2>&1 || fail "poll: $(cat "$T/e2.out")"
openssl x509 -in "$D/cert.pem" -noout -ext extendedKeyUsage | grep -q "TLS Web Client" || fail "client profile"
pass "the queue crossed the gap as QR frames both ways; the endpoint installed its client certificate"
