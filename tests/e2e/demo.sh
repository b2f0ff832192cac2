#!/usr/bin/env bash
# The README's demo, run against the built binary: tokens, CSR in as a QR image, the ceremony
# (root, intermediate, signing session), transcript verification, certificate out as a signed
# bundle, openssl verify, then the delivery as a certbot layout and a SOPS/age Secret (its data key
# opened by the age CLI). Fails if any demo step fails or an expected output is missing.
source "$(dirname "$0")/../lib/e2e.sh"
unset OFFCA_PKCS11_MODULE SOFTHSM2_CONF
bash "$OFFCA_SRC/scripts/demo-run.sh" "$OFFCA" "$T/demo" > "$T/demo.log" 2>&1 || { tail -30 "$T/demo.log" >&2; fail "demo failed"; }
D="$T/demo"
for f in ceremony-out/transcript.jsonl ceremony-out/transcript.pdf ceremony-out/root.pem \
         ceremony-out/intermediate.pem outbox.offca; do
  [ -s "$D/$f" ] || fail "demo did not produce $f"
done
cert=$(ls "$D"/ceremony-out/certs/*.pem)
openssl x509 -in "$cert" -noout -ext subjectAltName | grep -q "DNS:www.demo.test" || fail "issued cert lacks the CSR's SAN"
# the key stayed on the endpoint: the certificate's public key is the endpoint key's
[ "$(openssl x509 -in "$cert" -noout -pubkey)" = "$(openssl pkey -in "$D/endpoint/web.key" -pubout)" ] || fail "public key mismatch"
"$OFFCA" ceremony verify "$D/ceremony-out/transcript.jsonl" --ca "$D/ceremony-out/root.pem" >/dev/null || fail "transcript does not verify"
L="$D/delivery/www.demo.test"
for f in cert.pem chain.pem fullchain.pem ca.crt metadata.json README.txt; do [ -s "$L/$f" ] || fail "demo layout lacks $f"; done
cmp -s "$L/cert.pem" "$cert" || fail "the delivered cert.pem is not the issued certificate"
openssl verify -CAfile "$L/ca.crt" -untrusted "$L/chain.pem" "$L/cert.pem" >/dev/null || fail "delivered layout does not verify"
S="$D/delivery/www-demo-tls.sops.yaml"
grep -qxF "    encrypted_regex: ^(data|stringData)$" "$S" && ! grep -q "LS0tLS1CRUdJTi" "$S" || fail "SOPS Secret"
python3 -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["sops"]["age"][0]["enc"],end="")' "$S" > "$T/enc.age"
age -d -i "$D/cluster-age-identity.txt" -o "$T/dk" "$T/enc.age" && [ "$(stat -c %s "$T/dk")" = 32 ] || fail "age -d of the demo Secret's data key"
grep -q "Where everything is" "$D/../demo.log" || fail "demo summary missing"
# pattern 4: the endpoint enrolled through offca-gateway after the ceremony
openssl verify -CAfile "$D/ceremony-out/root.pem" -untrusted "$D/endpoint/api/chain.pem" "$D/endpoint/api/cert.pem" >/dev/null \
  || fail "the endpoint enrolled through the gateway has no valid certificate"
[ "$(openssl x509 -in "$D/endpoint/api/cert.pem" -noout -pubkey)" = "$(openssl pkey -in "$D/endpoint/api/privkey.pem" -pubout)" ] \
  || fail "gateway-enrolled certificate is not for the endpoint's key"
pass "demo ran end to end"
