#!/usr/bin/env bash
# Relay objects read by OpenSSL's command line alone (no offca): every published object opens with
# `openssl cms -decrypt` and the endpoint's key, the SignedData inside passes `openssl cms -verify`
# against the root, and the content is the RelayContent of docs/formats.md (endpoint hash, sequence,
# certificate, chain). EC P-256, EC P-384 and RSA endpoints: ECDH with the SHA-256 KDF, RSA-OAEP
# with SHA-256, AES-256-GCM.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_SRC/tests/lib/est_env.sh"
need python3
est_ca

# endpoints: keys made here, certificates signed by the CA
declare -A KEY
mk() { # mk NAME KEYGEN-ARGS...
  local n=$1; shift
  openssl genpkey "$@" -out "$T/$n.key" 2>/dev/null || fail "key $n"
  openssl req -new -key "$T/$n.key" -subj "/CN=$n.example.test" -addext "subjectAltName=DNS:$n.example.test" \
    -out "$T/$n.csr" 2>/dev/null || fail "CSR $n"
  "$OFFCA" sign --csr "$T/$n.csr" --profile server --days 30 --out "$T/$n.crt" --pin-file "$T/ca.pin" >/dev/null \
    || fail "sign $n"
  KEY[$(openssl pkey -in "$T/$n.key" -pubout -outform DER | sha256sum | cut -d' ' -f1)]=$n
}
mk p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
mk p384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384
mk rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048
KEY[$(openssl pkey -in "$T/gw.key" -pubout -outform DER | sha256sum | cut -d' ' -f1)]=gw
"$OFFCA" publish --out-dir "$T/pub" --pin-file "$T/ca.pin" >/dev/null 2>&1 || fail "publish"
[ "$(ls "$T/pub" | wc -l)" = 4 ] || fail "expected 4 objects: $(ls "$T/pub")"

for f in "$T"/pub/*; do
  h=$(basename "$f"); n=${KEY[$h]:-}
  [ -n "$n" ] || fail "object $h is named by no endpoint's key"
  openssl cms -decrypt -inform DER -in "$f" -inkey "$T/$n.key" -binary -out "$T/$n.sd" 2>"$T/err" \
    || fail "openssl cms -decrypt ($n): $(cat "$T/err")"
  openssl cms -verify -inform DER -in "$T/$n.sd" -CAfile "$T/root.pem" -purpose any -binary -out "$T/$n.content" \
    2>"$T/err" || fail "openssl cms -verify ($n): $(cat "$T/err")"
  grep -q "Verification successful" "$T/err" || fail "cms -verify said: $(cat "$T/err")"
  openssl cms -cmsout -print -inform DER -in "$f" > "$T/$n.print"
  grep -q "id-smime-ct-authEnvelopedData" "$T/$n.print" || fail "$n: not AuthEnvelopedData"
  grep -q "aes-256-gcm" "$T/$n.print" || fail "$n: not AES-256-GCM"
  case $n in
    rsa) grep -q "rsaesOaep" "$T/$n.print" && grep -q "sha256" "$T/$n.print" || fail "RSA endpoint without OAEP-SHA-256" ;;
    *) grep -q "dhSinglePass-stdDH-sha256kdf-scheme" "$T/$n.print" || fail "$n: ECDH without the SHA-256 KDF" ;;
  esac
  openssl cms -cmsout -print -inform DER -in "$T/$n.sd" | grep -q "CN=EST Test Int" || fail "$n: signer is not the intermediate"
  # the content, field by field, with Python's own DER reader (no offca, no OpenSSL structures)
  python3 - "$T/$n.content" "$h" "$T/$n.crt" "$T/int.pem" <<'PY' || fail "RelayContent of $n"
import base64, sys
content, h, crt, inter = sys.argv[1:]
def tlv(b, i):
    t = b[i]; l = b[i + 1]; i += 2
    if l & 0x80:
        k = l & 0x7f; l = int.from_bytes(b[i:i + k], "big"); i += k
    return t, b[i:i + l], i + l
def pem_der(p):
    return base64.b64decode("".join(l for l in open(p).read().splitlines() if "-----" not in l))
b = open(content, "rb").read()
t, body, end = tlv(b, 0)
assert t == 0x30 and end == len(b), "one SEQUENCE"
fields, i = [], 0
while i < len(body):
    t, v, j = tlv(body, i); fields.append((t, v, body[i:j])); i = j
assert [f[0] for f in fields[:5]] == [0x02, 0x04, 0x02, 0x30, 0x30], [hex(f[0]) for f in fields]
assert fields[0][1] == b"\x01", "version 1"
assert fields[1][1].hex() == h, "endpoint = object name"
assert int.from_bytes(fields[2][1], "big") == 1, "first sequence number"
assert fields[3][2] == pem_der(crt), "the endpoint's certificate"
assert fields[4][1] == pem_der(inter), "chain = the intermediate alone (the root left out)"
assert len(fields) == 5, "no key for an endpoint-owned key"
PY
  pass "$n: openssl cms -decrypt / -verify read it; RelayContent v1, endpoint = name, sequence 1, certificate, chain"
done
