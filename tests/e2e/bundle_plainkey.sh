#!/usr/bin/env bash
# e2e: bundle create refuses an item that is a private key anyone can read (PEM PRIVATE KEY,
# EC/RSA PRIVATE KEY, DER, OpenSSH without passphrase, PKCS#12 with an unencrypted key or an empty
# passphrase) unless --allow-plaintext-key; encrypted keys pass. Nothing is written when refused.
source "$(dirname "$0")/../lib/e2e.sh"
need openssl
cd "$T"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout pk8.pem -subj /CN=k -days 1 -out cert.pem 2>/dev/null
openssl ec -in pk8.pem -out ec.pem 2>/dev/null
openssl genrsa -traditional -out rsa.pem 2048 2>/dev/null
openssl pkey -in pk8.pem -outform DER -out key.der
openssl pkcs12 -export -in cert.pem -inkey pk8.pem -passout pass: -out empty.p12 2>/dev/null
openssl pkcs12 -export -in cert.pem -inkey pk8.pem -keypbe NONE -certpbe NONE -passout pass:secretpass -out nokeyenc.p12 2>/dev/null
openssl pkcs12 -export -in cert.pem -inkey pk8.pem -passout pass:secretpass -out good.p12 2>/dev/null
openssl pkcs8 -topk8 -in pk8.pem -passout pass:secretpass -out enc8.pem 2>/dev/null
openssl rsa -in rsa.pem -traditional -aes256 -passout pass:secretpass -out rsaenc.pem 2>/dev/null
grep -q "Proc-Type: 4,ENCRYPTED" rsaenc.pem || fail "openssl did not write a traditional encrypted key"
plain=(pk8.pem ec.pem rsa.pem key.der empty.p12 nokeyenc.p12)
if command -v ssh-keygen >/dev/null; then
  ssh-keygen -q -t ed25519 -N "" -f ssh_plain >/dev/null && ssh-keygen -q -t ed25519 -N secretpass -f ssh_enc >/dev/null
  plain+=(ssh_plain)
fi
for f in "${plain[@]}"; do
  expect_fail "plaintext key $f" "$OFFCA" bundle create --out "$T/b-$f.bundle" cert.pem "$f"
  expect_err_match "unencrypted private key"
  [ ! -e "$T/b-$f.bundle" ] || fail "a bundle was written for $f"
  expect_fail "plaintext key other:$f" "$OFFCA" bundle create --out "$T/b-$f.bundle" "other:$f"
done
pass "plain keys refused (PEM PKCS#8, EC, RSA traditional, DER, PKCS#12 empty passphrase and unencrypted key bag${plain[6]:+, OpenSSH})"
ok=(enc8.pem rsaenc.pem good.p12)
[ -e ssh_enc ] && ok+=(ssh_enc)
"$OFFCA" bundle create --out "$T/ok.bundle" cert.pem "${ok[@]}" >/dev/null || fail "encrypted keys refused"
"$OFFCA" bundle verify "$T/ok.bundle" >/dev/null || fail "bundle verify"
pass "encrypted keys accepted: ${ok[*]}"
"$OFFCA" bundle create --allow-plaintext-key --out "$T/forced.bundle" "${plain[@]}" >/dev/null || fail "--allow-plaintext-key"
pass "--allow-plaintext-key lets them through"
