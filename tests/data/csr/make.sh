#!/usr/bin/env bash
# Regenerates the test CSRs in this directory with real tools (openssl, certtool, keytool) and,
# for malformed ones, openssl asn1parse -genconf + openssl dgst -sign (no hand-written DER).
# Keys are throwaway and not kept. Expected outcomes: README.md.
set -euo pipefail
cd "$(dirname "$0")"
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT

ec()  { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:"$1" -pkeyopt ec_param_enc:named_curve -out "$W/$2.key" 2>/dev/null; }
rsa() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:"$1" -out "$W/$2.key" 2>/dev/null; }
req() { local key=$1 out=$2; shift 2; openssl req -new -key "$W/$key.key" -out "$out" "$@"; }

# ---- good: OpenSSL ----
ec P-256 k256; ec P-384 k384; rsa 2048 r2048; rsa 1024 r1024
req k256 ok_openssl_ec256.pem -subj /CN=www.example.com/O=Example -addext "subjectAltName=DNS:www.example.com,DNS:example.com"
openssl req -in ok_openssl_ec256.pem -outform DER -out ok_openssl_ec256.der
req k384 ok_openssl_ec384.pem -subj /CN=api.example.com -addext "subjectAltName=DNS:api.example.com"
req r2048 ok_openssl_rsa2048.pem -subj /CN=rsa.example.com -addext "subjectAltName=DNS:rsa.example.com"
req k256 ok_openssl_wildcard.pem -subj /CN=*.apps.example.com -addext "subjectAltName=DNS:*.apps.example.com"
req k256 ok_openssl_ip.pem -subj /CN=10.0.0.1 -addext "subjectAltName=IP:10.0.0.1,DNS:host.example.com"
req k256 ok_openssl_mixedcase.pem -subj /CN=Mixed.Example.COM -addext "subjectAltName=DNS:Mixed.Example.COM"
# asks for CA:TRUE and odd extensions: must be ignored (the certificate is CA:FALSE)
req k256 ok_openssl_asks_ca.pem -subj /CN=sneaky.example.com -addext "subjectAltName=DNS:sneaky.example.com" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
# certbot style: empty subject, SAN only (certbot/acme build CSRs like this)
req k256 ok_certbot_empty_subject.pem -subj / -addext "subjectAltName=DNS:bot.example.com,DNS:www.bot.example.com"

# ---- good: GnuTLS certtool (text before the PEM block, critical keyUsage/EKU requested) ----
certtool --generate-privkey --ecc --curve secp256r1 --outfile "$W/ct.key" 2>/dev/null
cat > "$W/ct.tmpl" <<T
cn = "gnutls.example.com"
organization = "Example"
dns_name = "gnutls.example.com"
tls_www_server
signing_key
T
certtool --generate-request --load-privkey "$W/ct.key" --template "$W/ct.tmpl" --outfile ok_certtool_ec256.pem 2>/dev/null

# ---- keytool (JDK): label NEW CERTIFICATE REQUEST ----
KS="$W/ks.p12"
keytool -genkeypair -keystore "$KS" -storetype PKCS12 -storepass changeit -alias a -keyalg EC -groupname secp256r1 \
  -dname "CN=java.example.com, O=Example" -validity 1 >/dev/null 2>&1
keytool -certreq -keystore "$KS" -storepass changeit -alias a -file ok_keytool_cn_only.pem >/dev/null 2>&1
keytool -certreq -keystore "$KS" -storepass changeit -alias a -ext SAN=dns:java.example.com -file ok_keytool_san.pem >/dev/null 2>&1
keytool -genkeypair -keystore "$KS" -storetype PKCS12 -storepass changeit -alias r -keyalg RSA -keysize 2048 \
  -dname "CN=javarsa.example.com" -validity 1 >/dev/null 2>&1
keytool -certreq -keystore "$KS" -storepass changeit -alias r -ext SAN=dns:javarsa.example.com -file ok_keytool_rsa.pem >/dev/null 2>&1

# ---- bad: keys ----
req r1024 bad_rsa1024.pem -subj /CN=weak.example.com -addext "subjectAltName=DNS:weak.example.com" 2>/dev/null
openssl ecparam -name prime192v1 -genkey -noout -out "$W/p192.key" 2>/dev/null
req p192 bad_p192.pem -subj /CN=p192.example.com -addext "subjectAltName=DNS:p192.example.com"
openssl ecparam -name secp256k1 -genkey -noout -out "$W/k1.key" 2>/dev/null
req k1 bad_secp256k1.pem -subj /CN=k1.example.com -addext "subjectAltName=DNS:k1.example.com"
openssl genpkey -algorithm ED25519 -out "$W/ed.key"
req ed bad_ed25519.pem -subj /CN=ed.example.com -addext "subjectAltName=DNS:ed.example.com"

# ---- bad: SANs and names ----
req k256 bad_wildcard_middle.pem -subj /CN=www.x.example.com -addext "subjectAltName=DNS:www.*.example.com"
req k256 bad_wildcard_partial.pem -subj /CN=w.example.com -addext "subjectAltName=DNS:w*.example.com"
req k256 bad_wildcard_tld.pem -subj "/CN=*.com" -addext "subjectAltName=DNS:*.com"
req k256 bad_empty_label.pem -subj /CN=a..example.com -addext "subjectAltName=DNS:a..example.com"
req k256 bad_underscore.pem -subj /CN=a_b.example.com -addext "subjectAltName=DNS:a_b.example.com"
req k256 bad_long_label.pem -subj /CN=x.example.com -addext "subjectAltName=DNS:x.example.com,DNS:$(printf 'a%.0s' $(seq 64)).example.com"
req k256 bad_trailing_dot.pem -subj /CN=x.example.com -addext "subjectAltName=DNS:x.example.com,DNS:dot.example.com."
req k256 bad_cn_not_in_san.pem -subj /CN=other.example.com -addext "subjectAltName=DNS:www.example.com"
req k256 bad_email_san.pem -subj /CN=m.example.com -addext "subjectAltName=DNS:m.example.com,email:a@example.com"
req k256 bad_uri_san.pem -subj /CN=u.example.com -addext "subjectAltName=DNS:u.example.com,URI:spiffe://example.com/x"
req k256 bad_no_name.pem -subj / -addext "keyUsage=digitalSignature"
# self-signed with broken digests (Boulder refuses them too)
req k256 bad_sha1.pem -sha1 -subj /CN=s1.example.com -addext "subjectAltName=DNS:s1.example.com"
req r2048 bad_md5.pem -md5 -subj /CN=m5.example.com -addext "subjectAltName=DNS:m5.example.com"
# U+202E RIGHT-TO-LEFT OVERRIDE in O: what a reader sees is not what is signed
req k256 bad_bidi_subject.pem -utf8 -subj "/CN=bidi.example.com/O=invoice$(printf '\xe2\x80\xae')fdp.exe" \
  -addext "subjectAltName=DNS:bidi.example.com"

# ---- bad: structure ----
req k256 bad_unknown_critical.pem -subj /CN=c.example.com -addext "subjectAltName=DNS:c.example.com" -addext "1.3.6.1.4.1.99999.1=critical,DER:05:00"
cat ok_openssl_ec256.pem ok_openssl_ec384.pem > bad_two_blocks.pem
cp ok_openssl_ec256.der bad_trailing_garbage.der; printf '\x00\x00garbage' >> bad_trailing_garbage.der
head -c 120 ok_openssl_ec256.der > bad_truncated.der
python3 - <<'P'
import pathlib
d = bytearray(pathlib.Path("ok_openssl_ec256.der").read_bytes())
# bad signature: flip a bit near the end (inside the ECDSA signature)
b = bytearray(d); b[-5] ^= 0x01; pathlib.Path("bad_signature.der").write_bytes(b)
# non-minimal outer length: 30 8n LL.. -> 30 8(n+1) 00 LL.. (same content; valid BER, not DER)
assert d[0] == 0x30 and d[1] & 0x80
n = d[1] & 0x7f
pathlib.Path("bad_nonminimal_length.der").write_bytes(bytes([0x30, 0x80 | (n + 1), 0x00]) + d[2:])
P

# version 2 and a duplicated SAN extension: the CertificationRequestInfo is written as an
# openssl asn1parse -genconf description, encoded, signed with openssl dgst, and the request is
# assembled by -genconf again from the same sections plus the signature.
point_hex=$(openssl pkey -in "$W/k256.key" -pubout -outform DER | tail -c 65 | od -An -v -tx1 | tr -d ' \n')
craft() { # craft NAME VERSION NSAN
  local name=$1 ver=$2 nsan=$3 i exts=""
  for i in $(seq 1 "$nsan"); do exts="$exts"$'\n'"e$i=SEQUENCE:san$i"; done
  cat > "$W/$name.info.cnf" <<C
[info]
version=INTEGER:$ver
subject=SEQUENCE:subj
spki=SEQUENCE:spki
attrs=IMPLICIT:0,SET:attrset
[subj]
rdn=SET:cnset
[cnset]
cn=SEQUENCE:cnattr
[cnattr]
t=OID:commonName
v=UTF8:v.example.com
[spki]
alg=SEQUENCE:alg
key=FORMAT:HEX,BITSTRING:$point_hex
[alg]
a=OID:id-ecPublicKey
b=OID:prime256v1
[attrset]
a=SEQUENCE:extreq
[extreq]
t=OID:1.2.840.113549.1.9.14
v=SET:extset
[extset]
s=SEQUENCE:exts
[exts]$exts
C
  for i in $(seq 1 "$nsan"); do
    printf '[san%s]\nid=OID:subjectAltName\nv=OCTWRAP,SEQUENCE:gn%s\n[gn%s]\nd=IMPLICIT:2,IA5:v.example.com\n' "$i" "$i" "$i" >> "$W/$name.info.cnf"
  done
  { echo "asn1=SEQUENCE:info"; cat "$W/$name.info.cnf"; } > "$W/$name.tbs.cnf"
  openssl asn1parse -genconf "$W/$name.tbs.cnf" -noout -out "$W/$name.tbs" >/dev/null
  openssl dgst -sha256 -sign "$W/k256.key" -out "$W/$name.sig" "$W/$name.tbs"
  { echo "asn1=SEQUENCE:req"; echo "[req]"; echo "info=SEQUENCE:info"; echo "alg=SEQUENCE:sigalg"
    echo "sig=FORMAT:HEX,BITSTRING:$(od -An -v -tx1 "$W/$name.sig" | tr -d ' \n')"
    echo "[sigalg]"; echo "a=OID:ecdsa-with-SHA256"; cat "$W/$name.info.cnf"; } > "$W/$name.req.cnf"
  openssl asn1parse -genconf "$W/$name.req.cnf" -noout -out "$name.der" >/dev/null
}
craft bad_version2 1 1
craft bad_dup_san 0 2
craft ok_crafted_v1 0 1   # control: same construction, valid, must be accepted
for f in bad_version2 bad_dup_san ok_crafted_v1; do
  openssl req -inform DER -in $f.der -out $f.pem; rm $f.der
done
echo "generated $(ls *.pem *.der | wc -l) files"
