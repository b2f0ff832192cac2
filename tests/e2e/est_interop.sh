#!/usr/bin/env bash
# EST interop without offca-agent: curl and openssl as the client. cacerts (PKCS#7 certs-only,
# base64), simpleenroll with HTTP Basic (202 + Retry-After, then 200 after the gap is crossed),
# simplereenroll with a client certificate, csrattrs 204; every answer decoded by openssl pkcs7.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_SRC/tests/lib/est_env.sh"
need python3
python3 -c "import cryptography" 2>/dev/null || { echo "skip: python3-cryptography missing" >&2; exit 77; }
est_ca
est_gateway_start
EST=$GW_URL/.well-known/est
C=(curl -sS --cacert "$T/root.pem")

# p7_certs FILE : the subjects in a base64 PKCS#7 answer, read by openssl alone
p7_certs() { base64 -d < "$1" | openssl pkcs7 -inform DER -print_certs -noout | grep '^subject'; }

"${C[@]}" -D "$T/h" -o "$T/cacerts.b64" "$EST/cacerts" || fail "GET cacerts"
grep -qi '^content-type: application/pkcs7-mime; smime-type=certs-only' "$T/h" || fail "cacerts content type: $(cat "$T/h")"
p7_certs "$T/cacerts.b64" > "$T/cacerts.txt"
grep -q "EST Test Root" "$T/cacerts.txt" && grep -q "EST Test Int" "$T/cacerts.txt" || fail "cacerts: $(cat "$T/cacerts.txt")"
pass "cacerts: the pinned chain as PKCS#7 certs-only"

code=$("${C[@]}" -o /dev/null -w '%{http_code}' "$EST/csrattrs")
[ "$code" = 204 ] || fail "csrattrs: $code"
code=$("${C[@]}" -o /dev/null -w '%{http_code}' "$EST/nothing")
[ "$code" = 404 ] || fail "unknown operation: $code"
pass "csrattrs 204, unknown operation 404"

tok=$(est_token mtls dev1.example.test)
IFS=: read -r id sec < "$tok"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/dev1.key" -subj /CN=dev1.example.test \
  -addext subjectAltName=DNS:dev1.example.test -outform DER -out "$T/dev1.der" 2>/dev/null
base64 -w 64 "$T/dev1.der" > "$T/dev1.b64"
post() { "${C[@]}" -H 'Content-Type: application/pkcs10' --data-binary @"$1" -D "$T/h" -o "$T/answer.b64" \
  -w '%{http_code}' "${@:3}" "$EST/$2"; }
code=$(post "$T/dev1.b64" simpleenroll -u "$id:$sec")
[ "$code" = 202 ] || fail "simpleenroll: $code $(cat "$T/answer.b64")"
grep -qi '^retry-after: 1' "$T/h" || fail "no Retry-After: $(cat "$T/h")"
pass "simpleenroll with HTTP Basic: 202 + Retry-After"
est_cross
code=$(post "$T/dev1.b64" simpleenroll -u "$id:$sec")
[ "$code" = 200 ] || fail "simpleenroll poll: $code $(cat "$T/answer.b64")"
grep -qi '^content-type: application/pkcs7-mime; smime-type=certs-only' "$T/h" || fail "content type"
p7_certs "$T/answer.b64" | grep -q "CN = dev1.example.test" || fail "answer: $(p7_certs "$T/answer.b64")"
base64 -d < "$T/answer.b64" | openssl pkcs7 -inform DER -print_certs > "$T/dev1-all.pem"
# the leaf: the certificate whose subject is the endpoint's (a SET OF has no order to rely on)
leaf_of() { awk -v cn="$2" '/^subject=/{keep = index($0, "CN = " cn) > 0} keep' "$1" | openssl x509; }
leaf_of "$T/dev1-all.pem" dev1.example.test > "$T/dev1.crt"
# a strict DER reader (Python's cryptography) reads the answer without falling back to BER
python3 - "$T/answer.b64" <<'PY2' || fail "the PKCS#7 answer is not strict DER"
import base64, sys, warnings
warnings.simplefilter("error")
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.hazmat.primitives.serialization import Encoding
certs = pkcs7.load_der_pkcs7_certificates(base64.b64decode(open(sys.argv[1]).read()))
assert len(certs) == 2, certs
ders = [c.public_bytes(Encoding.DER) for c in certs]   # in the order of the SET OF
assert ders == sorted(ders), "SET OF certificates not in DER order"
PY2
[ "$(openssl x509 -in "$T/dev1.crt" -noout -pubkey)" = "$(openssl pkey -in "$T/dev1.key" -pubout)" ] || fail "key"
openssl verify -CAfile "$T/root.pem" -untrusted "$T/dev1-all.pem" "$T/dev1.crt" >/dev/null || fail "verify"
openssl x509 -in "$T/dev1.crt" -noout -ext extendedKeyUsage | grep -q "TLS Web Client" || fail "mtls profile"
pass "simpleenroll poll: 200, PKCS#7 (strict DER) decoded by openssl and Python's cryptography, chains to the root, profile mtls as the token asked"

# simplereenroll: the client certificate authenticates; same subject and names, a new key
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/dev1b.key" -subj /CN=dev1.example.test \
  -addext subjectAltName=DNS:dev1.example.test -outform DER -out "$T/dev1b.der" 2>/dev/null
base64 -w 64 "$T/dev1b.der" > "$T/dev1b.b64"
cat "$T/dev1.crt" "$T/int.pem" > "$T/dev1-chain.pem"
code=$(post "$T/dev1b.b64" simplereenroll --cert "$T/dev1-chain.pem" --key "$T/dev1.key")
[ "$code" = 202 ] || fail "simplereenroll: $code $(cat "$T/answer.b64")"
code=$(post "$T/dev1b.b64" simplereenroll)
[ "$code" = 401 ] || fail "simplereenroll poll without a client certificate: $code"
est_cross
code=$(post "$T/dev1b.b64" simplereenroll --cert "$T/dev1-chain.pem" --key "$T/dev1.key")
[ "$code" = 200 ] || fail "simplereenroll poll: $code $(cat "$T/answer.b64")"
base64 -d < "$T/answer.b64" | openssl pkcs7 -inform DER -print_certs > "$T/dev1b-all.pem"
leaf_of "$T/dev1b-all.pem" dev1.example.test | openssl x509 -noout -pubkey > "$T/new.pub"
[ "$(cat "$T/new.pub")" = "$(openssl pkey -in "$T/dev1b.key" -pubout)" ] || fail "re-enrolled certificate key"
pass "simplereenroll with a client certificate: 202, then 200 with the new key's certificate"
