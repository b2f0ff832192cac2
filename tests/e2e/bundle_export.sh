#!/usr/bin/env bash
# The demo's way out: a CA made with `offca ca` on a SoftHSM2 token signs (from the pending queue) a
# CSR that came in as a bundle; `offca bundle export` writes an outbound bundle signed with the intermediate's key (key
# URI from the store); the "online side" verifies it against the root and extracts the certificate.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_TEST_DATA/bundles/pki.sh"
for c in ca sign crl; do
  out=$("$OFFCA" $c --help 2>&1 || true)
  if grep -q "not implemented" <<<"$out"; then echo "skip: offca $c not implemented yet" >&2; exit 77; fi
done
bundle_pki
bundle_home
for k in root int2; do
  "$OFFCA" token keygen --token "pkcs11:token=ca" --label "$k" --type ec-p256 --pin-file "$T/ca.pin" >/dev/null \
    || fail "keygen $k"
done
"$OFFCA" ca root --key "pkcs11:token=ca;object=root;type=private" --subject "CN=Export Test Root" --days 400 \
  --pin-file "$T/ca.pin" >/dev/null || fail "offca ca root"
"$OFFCA" ca intermediate --key "pkcs11:token=ca;object=int2;type=private" --subject "CN=Export Test Int" \
  --days 200 --pin-file "$T/ca.pin" >/dev/null || fail "offca ca intermediate"

# in: a CSR arrives as a bundle; the CA signs it
"$OFFCA" bundle create --out "$T/in.offca" "$T/csr1.pem" >/dev/null || fail "create inbound"
"$OFFCA" bundle import "$T/in.offca" >/dev/null || fail "import"
mkdir -p "$T/issued"
"$OFFCA" sign --pending-all --profile server --days 30 --out-dir "$T/issued" --pin-file "$T/ca.pin" >/dev/null \
  || fail "sign the pending CSR"
pending_empty "sign --pending-all"
cp "$T"/issued/*.pem "$T/csr1.crt"
"$OFFCA" crl --out "$T/int.crl" --pin-file "$T/ca.pin" >/dev/null || fail "crl"

# out: export since a date long ago, signed on the token with the key URI on record
"$OFFCA" bundle export --out "$T/out.offca" --since 2000-01-01 --pin-file "$T/ca.pin" > "$T/export.out" \
  || fail "export"
grep -q "1 certificate, 1 CRL" "$T/export.out" || fail "export output: $(cat "$T/export.out")"
expect_fail "export never overwrites" "$OFFCA" bundle export --out "$T/out.offca" --pin-file "$T/ca.pin"

# online side: the root comes from the chain item (in real life: from the root ceremony)
"$OFFCA" bundle extract "$T/out.offca" --out-dir "$T/online" >/dev/null || fail "extract"
chain=$(ls "$T/online"/*-chain-*.pem)
openssl crl2pkcs7 -nocrl -certfile "$chain" | openssl pkcs7 -print_certs | \
  awk '/BEGIN/{n++} n==2' | sed -n '/BEGIN/,/END/p' > "$T/root.pem"
grep -q "BEGIN CERTIFICATE" "$T/root.pem" || fail "no root in the chain item"
"$OFFCA" bundle verify "$T/out.offca" --ca "$T/root.pem" > "$T/verify.out" || fail "verify --ca root"
grep -q "Export Test Int" "$T/verify.out" || fail "verify does not name the signer"
expect_fail "verify against another root" "$OFFCA" bundle verify "$T/out.offca" --ca "$T/other.pem"
crt=$(ls "$T/online"/*-[0-9A-F]*.pem | grep -v chain | grep -v crl | head -n1)
cmp <(openssl x509 -in "$crt" -outform DER) <(openssl x509 -in "$T/csr1.crt" -outform DER) || fail "certificate differs"
openssl verify -CAfile "$T/root.pem" -untrusted "$chain" "$crt" >/dev/null || fail "openssl verify of the exported certificate"
# a later --since leaves the certificate out
"$OFFCA" bundle export --out "$T/later.offca" --since "@$(( $(date +%s) + 3600 ))" --pin-file "$T/ca.pin" \
  | grep -q "0 certificates" || fail "since in the future"
# bundle create on the CA: signer certificate, chain and key URI come from the store
"$OFFCA" bundle create --out "$T/manual.offca" --direction out --pin-file "$T/ca.pin" "$T/csr1.crt" \
  | grep -q "signed" || fail "create --direction out with the CA home"
"$OFFCA" bundle verify "$T/manual.offca" --ca "$T/root.pem" | grep -q "Export Test Int" || fail "manual bundle signer"
"$OFFCA" bundle create --out "$T/root.offca" --direction out --issuer root --pin-file "$T/ca.pin" "$T/int.crl" \
  >/dev/null || fail "create signed by the root"
"$OFFCA" bundle verify "$T/root.offca" --ca "$T/root.pem" | grep -q "signer .*Export Test Root" || fail "root signer"
# --sign-key names the issuer by its key: any URI that names the recorded key will do, not only
# the exact canonical string the store recorded
"$OFFCA" bundle create --out "$T/byuri.offca" --direction out --sign-key "pkcs11:token=ca;object=root" \
  --pin-file "$T/ca.pin" "$T/int.crl" >/dev/null || fail "create --sign-key with a short URI"
"$OFFCA" bundle verify "$T/byuri.offca" --ca "$T/root.pem" | grep -q "signer .*Export Test Root" || fail "short-URI signer"
expect_fail "sign-key naming no issuer" "$OFFCA" bundle create --out "$T/nokey.offca" --direction out \
  --sign-key "pkcs11:token=ca;object=nosuch" --pin-file "$T/ca.pin" "$T/int.crl"
expect_err_match "no single issuer"
[ ! -e "$T/nokey.offca" ] || fail "a bundle was written for an unknown key"
"$OFFCA" audit verify >/dev/null 2>&1 || fail "audit chain after exports"
pass "export -> verify --ca -> extract"
