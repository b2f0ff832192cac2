#!/usr/bin/env bash
# e2e: offca export --format p12 (certificate, chain and root as trusted entries): read by
# `openssl pkcs12` (modern AES-256/PBKDF2 and --legacy) and listed by Java's keytool as
# trustedCertEntry; wrong passphrase refused by both; bad input refused with nothing written.
source "$(dirname "$0")/../lib/e2e.sh"
source "$(dirname "$0")/../lib/export_env.sh"
need keytool
export_env_ca
S=$(export_env_leaf web "DNS:web.example.com")
(umask 077; printf 'correct horse battery\n' > "$T/pass")
"$OFFCA" export "$S" --format p12 --out "$T/web.p12" --passphrase-file "$T/pass" || fail "export p12"
openssl pkcs12 -in "$T/web.p12" -passin pass:'correct horse battery' -nokeys -info -out "$T/p12.pem" 2>"$T/info" \
  || fail "openssl pkcs12: $(cat "$T/info")"
grep -q "PBES2, PBKDF2, AES-256-CBC" "$T/info" && grep -q "MAC: sha256" "$T/info" || fail "algorithms: $(cat "$T/info")"
[ "$(grep -c 'BEGIN CERTIFICATE' "$T/p12.pem")" = 3 ] || fail "expected leaf, intermediate and root"
grep -q "PRIVATE KEY" "$T/p12.pem" && fail "a key in a trust bundle"
"$OFFCA" export "$S" --layout certbot --out-dir "$T/l" >/dev/null
keytool -list -keystore "$T/web.p12" -storetype PKCS12 -storepass 'correct horse battery' > "$T/kt" 2>&1 || fail "keytool: $(cat "$T/kt")"
for f in cert.pem chain.pem ca.crt; do
  fp=$(openssl x509 -in "$T/l/web.example.com/$f" -noout -fingerprint -sha256 | cut -d= -f2)
  grep -q "$fp" "$T/kt" || fail "keytool does not list $f ($fp)"
  grep -q "$fp" <(openssl crl2pkcs7 -nocrl -certfile "$T/p12.pem" | openssl pkcs7 -print_certs | \
    awk '/BEGIN/{c++} {print > "'"$T"'/c" c ".pem"}'; for c in "$T"/c[0-9].pem; do openssl x509 -in "$c" -noout -fingerprint -sha256 | cut -d= -f2; done) \
    || fail "openssl pkcs12 does not hold $f"
done
[ "$(grep -c trustedCertEntry "$T/kt")" = 3 ] || fail "keytool: $(cat "$T/kt")"
pass "p12: openssl reads 3 certificates (AES-256/PBKDF2, SHA-256 MAC); keytool lists 3 trustedCertEntry"

expect_fail "openssl, wrong passphrase" openssl pkcs12 -in "$T/web.p12" -passin pass:wrong-passphrase -nokeys
if keytool -list -keystore "$T/web.p12" -storetype PKCS12 -storepass wrong-passphrase >"$T/kt.bad" 2>&1; then
  fail "keytool accepted a wrong passphrase"
fi
grep -qi "password" "$T/kt.bad" || fail "keytool, wrong passphrase: $(cat "$T/kt.bad")"

"$OFFCA" export "$S" --format p12 --legacy --out "$T/legacy.p12" --passphrase-file "$T/pass" 2>"$T/leg.err" || fail "legacy"
grep -q "WARNING: --legacy" "$T/leg.err" || fail "--legacy without its warning"
openssl pkcs12 -in "$T/legacy.p12" -passin pass:'correct horse battery' -nokeys -info -legacy -out /dev/null 2>"$T/info2" \
  || fail "openssl pkcs12 -legacy: $(cat "$T/info2")"
grep -q "pbeWithSHA1And3-KeyTripleDES-CBC" "$T/info2" || fail "legacy algorithms: $(cat "$T/info2")"
keytool -list -keystore "$T/legacy.p12" -storetype PKCS12 -storepass 'correct horse battery' | grep -c trustedCertEntry \
  | grep -qx 3 || fail "keytool on the legacy PKCS#12"
pass "p12 --legacy: 3DES/SHA-1 read by openssl -legacy and keytool"

sum=$(sha256sum < "$T/web.p12")
expect_fail "existing output" "$OFFCA" export "$S" --format p12 --out "$T/web.p12" --passphrase-file "$T/pass"
expect_err_match "exists: refusing to overwrite"
[ "$(sha256sum < "$T/web.p12")" = "$sum" ] || fail "existing PKCS#12 changed"
(umask 077; printf 'short\n' > "$T/short")
expect_fail "short passphrase" "$OFFCA" export "$S" --format p12 --out "$T/s.p12" --passphrase-file "$T/short"
[ ! -e "$T/s.p12" ] || fail "PKCS#12 written with a refused passphrase"
expect_fail "p12 without --out" "$OFFCA" export "$S" --format p12 --passphrase-file "$T/pass"
expect_fail "unknown format" "$OFFCA" export "$S" --format jks --out "$T/x"
pass "p12 bad input: existing output, short passphrase, no --out, unknown format"
