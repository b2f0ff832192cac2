#!/usr/bin/env bash
# ca_hierarchy: root and intermediate on SoftHSM2 tokens, signing CSRs made by openssl, certtool,
# keytool and certbot-style; then other people's verifiers: openssl verify -x509_strict with
# -purpose, GnuTLS certtool --verify-chain, a real mutual-TLS handshake (s_server -Verify /
# s_client), CRL revocation (-crl_check_all), name constraints, PKCS#12 from offca issue.
source "$(dirname "$0")/../lib/e2e.sh"
need openssl; need certtool

D=${OFFCA_TEST_DATA:-$OFFCA_SRC/tests/data}/csr
export OFFCA_HOME="$T/home"
e2e_token rootca; e2e_token intca
RP="$T/rootca.pin"; IP="$T/intca.pin"

"$OFFCA" init >/dev/null
RK=$("$OFFCA" token keygen --token "pkcs11:token=rootca" --label root --type ec-p384 --pin-file "$RP")
IK=$("$OFFCA" token keygen --token "pkcs11:token=intca" --label int --type ec-p256 --pin-file "$IP")

# OpenSSL's slash form is in DER order (O first); RFC 4514 below lists the most specific RDN first
"$OFFCA" ca root --key "$RK" --subject "/O=offca tests/CN=E2E Root" --days 3650 --pin-file "$RP" --out "$T/root.pem"
openssl x509 -in "$T/root.pem" -noout -text > "$T/root.txt"
grep -A1 "Basic Constraints: critical" "$T/root.txt" | grep -q "CA:TRUE" || fail "root: basicConstraints"
grep -q "pathlen" "$T/root.txt" && fail "root: pathlen without --path-len"
grep -A1 "Key Usage: critical" "$T/root.txt" | grep -q "Certificate Sign, CRL Sign" || fail "root: keyUsage"
grep -q "ecdsa-with-SHA384" "$T/root.txt" || fail "root: P-384 key must sign with SHA-384"
pass "root on token rootca"

# the intermediate key is on another token: its PIN and the root's PIN come from different files
"$OFFCA" ca intermediate --key "$IK" --subject "CN=E2E Intermediate,O=offca tests" --days 1825 --path-len 0 \
  --permit-dns example.com --permit-dns example.net --name int1 --pin-file "$IP" --issuer-pin-file "$RP" --out "$T/int.pem"
openssl x509 -in "$T/int.pem" -noout -text > "$T/int.txt"
grep -q "pathlen:0" "$T/int.txt" || fail "intermediate: pathlen"
grep -A3 "Name Constraints: critical" "$T/int.txt" | grep -q "DNS:example.com" || fail "intermediate: name constraints"
openssl verify -x509_strict -CAfile "$T/root.pem" "$T/int.pem" >/dev/null || fail "intermediate does not verify"
"$OFFCA" ca list | grep -q "^\* *int1" || fail "newest intermediate is not the default issuer"
pass "intermediate on token intca with name constraints, default issuer"

# subjects: what the operator typed is what openssl (RFC 2253) and offca print back, DER order O then CN
[ "$(openssl x509 -in "$T/int.pem" -noout -subject -nameopt RFC2253)" = "subject=CN=E2E Intermediate,O=offca tests" ] \
  || fail "intermediate subject: $(openssl x509 -in "$T/int.pem" -noout -subject -nameopt RFC2253)"
[ "$(openssl x509 -in "$T/root.pem" -noout -subject -nameopt RFC2253)" = "subject=CN=E2E Root,O=offca tests" ] \
  || fail "root subject (slash form): $(openssl x509 -in "$T/root.pem" -noout -subject -nameopt RFC2253)"
openssl x509 -in "$T/int.pem" -noout -subject -nameopt sep_multiline | sed -n 2p | grep -q "O=offca tests" \
  || fail "intermediate: O must be the first RDN in DER"
"$OFFCA" ca list | grep -qF "CN=E2E Intermediate,O=offca tests" || fail "ca list subject: $("$OFFCA" ca list)"
"$OFFCA" list | grep -qF "CN=E2E Root,O=offca tests" || fail "list subject: $("$OFFCA" list)"
ISER=$(openssl x509 -in "$T/int.pem" -noout -serial | sed 's/^serial=//')
"$OFFCA" show "$ISER" | grep -qF "CN=E2E Intermediate,O=offca tests" || fail "show subject: $("$OFFCA" show "$ISER")"
pass "subjects read back as typed (RFC 4514 and slash form)"

# an intermediate whose key lives elsewhere (--csr): signed here, cannot sign here
openssl req -new -newkey rsa:3072 -nodes -keyout "$T/ext.key" -subj "/CN=External Issuing CA/O=offca tests" \
  -out "$T/ext.csr" 2>/dev/null
"$OFFCA" ca intermediate --csr "$T/ext.csr" --days 365 --name ext --issuer root --pin-file "$RP" --out "$T/ext.pem" 2>/dev/null
openssl verify -x509_strict -CAfile "$T/root.pem" "$T/ext.pem" >/dev/null || fail "--csr intermediate does not verify"
openssl x509 -in "$T/ext.pem" -noout -subject | grep -q "External Issuing CA" || fail "--csr intermediate subject"
"$OFFCA" ca list | grep -q "^\* *int1" || fail "an intermediate without a key here must not become the default issuer"
expect_fail "signing with an intermediate whose key is elsewhere" "$OFFCA" sign --csr "$D/ok_openssl_ec256.pem" \
  --profile server --issuer ext --pin-file "$IP"
expect_err_match "cannot sign"
openssl req -new -newkey rsa:1024 -nodes -keyout /dev/null -subj "/CN=Weak CA" -out "$T/weak.csr" 2>/dev/null
expect_fail "--csr intermediate with a weak key" "$OFFCA" ca intermediate --csr "$T/weak.csr" --days 365 --name weak \
  --issuer root --pin-file "$RP"
expect_err_match "policy rsa-min-bits"
expect_fail "an intermediate under a pathLen 0 intermediate" "$OFFCA" ca intermediate --csr "$T/ext.csr" --days 30 \
  --name sub --issuer int1 --pin-file "$IP"
expect_err_match "policy path-len"
pass "intermediate from a CSR (key elsewhere); pathLen 0 parents sign no CAs"

# --- endpoint keys and CSRs ---
mk() { # mk NAME SUBJ SAN [keyalg]
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1.key" \
    -subj "$2" -addext "subjectAltName=$3" -out "$T/$1.csr" 2>/dev/null
}
mk srv "/CN=localhost" "DNS:localhost,IP:127.0.0.1"
mk cli "/CN=client.example.com" "DNS:client.example.com"
mk both "/CN=both.example.com" "DNS:both.example.com"
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/rsa.key" -subj "/CN=rsa.example.net" \
  -addext "subjectAltName=DNS:rsa.example.net" -out "$T/rsa.csr" 2>/dev/null

# localhost is outside example.com/.net: a separate unconstrained intermediate signs the TLS server
IK2=$("$OFFCA" token keygen --token "pkcs11:token=intca" --label int2 --type ec-p256 --pin-file "$IP")
"$OFFCA" ca intermediate --key "$IK2" --subject "/CN=E2E Intermediate 2" --days 1000 --issuer root --name int2 \
  --pin-file "$IP" --issuer-pin-file "$RP" --out "$T/int2.pem"
"$OFFCA" ca list | grep -q "^\* *int2" || fail "int2 should now be the default issuer"

"$OFFCA" sign --csr "$T/srv.csr" --profile server --pin-file "$IP" --out "$T/srv.pem" >/dev/null
"$OFFCA" sign --csr "$T/cli.csr" --profile client --issuer int1 --pin-file "$IP" --out "$T/cli.pem" >/dev/null
"$OFFCA" sign --csr "$T/both.csr" --profile mtls --issuer int1 --days 30 --pin-file "$IP" --out "$T/both.pem" >/dev/null
"$OFFCA" sign --csr "$T/rsa.csr" --profile server --issuer int1 --pin-file "$IP" --out "$T/rsa.pem" >/dev/null
openssl x509 -in "$T/srv.pem" -noout -text > "$T/srv.txt"
grep -A1 "Key Usage: critical" "$T/srv.txt" | grep -q "Digital Signature$" || fail "EC server: keyUsage must be digitalSignature only"
openssl x509 -in "$T/rsa.pem" -noout -text | grep -A1 "Key Usage: critical" | grep -q "Digital Signature, Key Encipherment" \
  || fail "RSA server: keyEncipherment expected"
grep -q "TLS Web Server Authentication" "$T/srv.txt" || fail "server EKU"
grep -q "Authority Key Identifier" "$T/srv.txt" && grep -q "Subject Key Identifier" "$T/srv.txt" || fail "SKI/AKI"
[ "$(openssl x509 -in "$T/both.pem" -noout -enddate -startdate | tr '\n' ' ' | wc -c)" -gt 0 ] || fail "dates"
pass "server (EC, RSA), client, mtls leaves signed"

V() { openssl verify -x509_strict -purpose "$1" -CAfile "$T/root.pem" -untrusted "$2" "$3" >/dev/null 2>"$T/v.err"; }
V sslserver "$T/int2.pem" "$T/srv.pem" || fail "openssl verify server: $(cat "$T/v.err")"
V sslclient "$T/int.pem" "$T/cli.pem" || fail "openssl verify client"
V sslserver "$T/int.pem" "$T/both.pem" && V sslclient "$T/int.pem" "$T/both.pem" || fail "openssl verify mtls"
V sslserver "$T/int.pem" "$T/rsa.pem" || fail "openssl verify rsa server"
V sslserver "$T/int.pem" "$T/cli.pem" && fail "a client certificate must not verify for sslserver"
V sslclient "$T/int2.pem" "$T/srv.pem" && fail "a server certificate must not verify for sslclient"
pass "openssl verify -x509_strict with the right -purpose (and refuses the wrong one)"

cat "$T/cli.pem" "$T/int.pem" "$T/root.pem" > "$T/chain-cli.pem"
certtool --verify-chain --infile "$T/chain-cli.pem" > "$T/ct.out" 2>&1 || fail "certtool --verify-chain: $(tail -3 "$T/ct.out")"
cat "$T/srv.pem" "$T/int2.pem" "$T/root.pem" > "$T/chain-srv.pem"
certtool --verify-chain --verify-profile=high --infile "$T/chain-srv.pem" > "$T/ct.out" 2>&1 || fail "certtool server chain"
certtool --verify --load-ca-certificate "$T/root.pem" --verify-purpose=1.3.6.1.5.5.7.3.1 --infile "$T/chain-srv.pem" \
  >"$T/ct.out" 2>&1 || fail "certtool --verify with serverAuth purpose: $(tail -3 "$T/ct.out")"
pass "GnuTLS certtool --verify-chain"

# --- CSRs made by real tools ---
for f in ok_certtool_ec256.pem ok_keytool_san.pem ok_keytool_cn_only.pem ok_certbot_empty_subject.pem ok_openssl_asks_ca.pem; do
  "$OFFCA" sign --csr "$D/$f" --profile server --issuer int1 --pin-file "$IP" --out "$T/$f.crt" >/dev/null
  V sslserver "$T/int.pem" "$T/$f.crt" || fail "$f: does not verify: $(cat "$T/v.err")"
done
openssl x509 -in "$T/ok_keytool_cn_only.pem.crt" -noout -ext subjectAltName | grep -q "DNS:java.example.com" \
  || fail "keytool CN-only: CN not copied into the SAN"
openssl x509 -in "$T/ok_certbot_empty_subject.pem.crt" -noout -text | grep -q "Subject Alternative Name: critical" \
  || fail "empty subject: SAN must be critical"
openssl x509 -in "$T/ok_openssl_asks_ca.pem.crt" -noout -text | grep -A1 "Basic Constraints" | grep -q "CA:FALSE" \
  || fail "a CSR asking for CA:TRUE must get CA:FALSE"
pass "certtool, keytool (SAN and CN-only), certbot-style and CA-asking CSRs"

# --- name constraints: an out-of-scope leaf is refused before signing (other verifiers would fail it) ---
mk out "/CN=www.other.org" "DNS:www.other.org"
nbefore=$("$OFFCA" list --json | grep -o '"serial"' | wc -l)
expect_fail "signing www.other.org under example.com/.net" "$OFFCA" sign --csr "$T/out.csr" --profile server --issuer int1 \
  --pin-file "$IP" --out "$T/out.pem"
expect_err_match "policy name-constraints: DNS:www.other.org is not within the permitted subtrees of CA 'CN=E2E Intermediate,O=offca tests'"
[ ! -e "$T/out.pem" ] || fail "a refused leaf was written"
[ "$("$OFFCA" list --json | grep -o '"serial"' | wc -l)" = "$nbefore" ] || fail "a refused leaf was recorded"
# what the policy accepted under int1 is what openssl's own name-constraint check accepts
V sslserver "$T/int.pem" "$T/rsa.pem" || fail "rsa.example.net: $(cat "$T/v.err")"
pass "name constraints: an out-of-scope leaf is refused at signing, nothing written or recorded"

# --- real mutual TLS on loopback ---
cat "$T/int.pem" > "$T/cli-chain.pem"
for try in 1 2 3 4 5; do
  PORT=$((20000 + RANDOM % 20000))
  openssl s_server -accept "127.0.0.1:$PORT" -cert "$T/srv.pem" -key "$T/srv.key" -cert_chain "$T/int2.pem" \
    -CAfile "$T/root.pem" -Verify 3 -verify_return_error -x509_strict -www -quiet >"$T/srv.log" 2>&1 &
  SP=$!; e2e_bg $SP
  for _ in $(seq 50); do
    if grep -q "ACCEPT" "$T/srv.log" 2>/dev/null || ss -ltn 2>/dev/null | grep -q ":$PORT "; then break; fi
    sleep 0.1
  done
  kill -0 $SP 2>/dev/null && break
done
printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect "127.0.0.1:$PORT" -servername localhost -verify_hostname localhost \
  -CAfile "$T/root.pem" -cert "$T/cli.pem" -key "$T/cli.key" -cert_chain "$T/cli-chain.pem" -verify_return_error -x509_strict \
  -ign_eof >"$T/cli.log" 2>&1 || fail "mTLS handshake failed: $(tail -5 "$T/cli.log")"
grep -q "Verify return code: 0 (ok)" "$T/cli.log" || fail "client did not verify the server"
grep -q "Client certificate" "$T/cli.log" || grep -q "HTTP/1.0 200" "$T/cli.log" || fail "no response from s_server"
# a client without a certificate, and one presenting a server-only certificate, are refused
printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$T/root.pem" -ign_eof \
  >"$T/cli2.log" 2>&1 && grep -q "HTTP/1.0 200" "$T/cli2.log" && fail "server accepted a client without a certificate"
printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$T/root.pem" -cert "$T/srv.pem" \
  -key "$T/srv.key" -cert_chain "$T/int2.pem" -ign_eof >"$T/cli3.log" 2>&1 && grep -q "HTTP/1.0 200" "$T/cli3.log" \
  && fail "server accepted a serverAuth-only certificate as a client certificate"
pass "mutual TLS handshake on 127.0.0.1:$PORT with issued server and client certificates"

# --- revocation and CRLs ---
SER=$(openssl x509 -in "$T/both.pem" -noout -serial | cut -d= -f2)
"$OFFCA" revoke "$SER" --reason keyCompromise >/dev/null
"$OFFCA" crl --issuer int1 --pin-file "$IP" --out "$T/int1.crl" >/dev/null
"$OFFCA" crl --issuer root --pin-file "$RP" --out "$T/root.crl" >/dev/null
openssl crl -in "$T/int1.crl" -noout -text > "$T/crl.txt"
grep -q "X509v3 CRL Number" "$T/crl.txt" && grep -q "Authority Key Identifier" "$T/crl.txt" || fail "CRL extensions"
grep -q "Key Compromise" "$T/crl.txt" || fail "CRL reason code"
openssl crl -in "$T/int1.crl" -CAfile "$T/int.pem" -noout 2>&1 | grep -q "verify OK" || fail "CRL signature"
CV() { openssl verify -x509_strict -crl_check_all -purpose "$1" -CAfile "$T/root.pem" -untrusted "$T/int.pem" \
  -CRLfile "$T/int1.crl" -CRLfile "$T/root.crl" "$2" >/dev/null 2>"$T/v.err"; }
CV sslclient "$T/both.pem" && fail "openssl verify -crl_check_all accepted a revoked certificate"
grep -q "certificate revoked" "$T/v.err" || fail "expected 'certificate revoked', got $(cat "$T/v.err")"
CV sslclient "$T/cli.pem" || fail "a valid certificate failed -crl_check_all: $(cat "$T/v.err")"
"$OFFCA" crl --issuer int1 --pin-file "$IP" --days 2 --out "$T/int1b.crl" >/dev/null
openssl crl -in "$T/int1b.crl" -noout -crlnumber | grep -Eq "=(0x)?0?2$" || fail "CRL number did not advance"
"$OFFCA" crl status --issuer int1 >"$T/st.out" 2>&1 || fail "fresh CRL should not warn: $(cat "$T/st.out")"
grep -q "CRL 2" "$T/st.out" || fail "crl status: $(cat "$T/st.out")"
set +e; "$OFFCA" crl status >"$T/st2.out" 2>&1; rc=$?; set -e
[ $rc -eq 1 ] && grep -q "has no CRL yet" "$T/st2.out" || fail "crl status should warn about int2 (rc $rc)"
pass "revoked certificate rejected with -crl_check_all; CRL numbers advance; crl status"

# --- batch, dry run ---
for i in 1 2 3 4 5; do mk "b$i" "/CN=b$i.example.com" "DNS:b$i.example.com"; done
before=$("$OFFCA" list --json | grep -o '"serial"' | wc -l)
"$OFFCA" sign --dry-run --csr "$T"/b?.csr --profile server --issuer int1 > "$T/dry.out"
grep -q "dry run" "$T/dry.out" && grep -q "DNS:b5.example.com" "$T/dry.out" || fail "dry run output"
[ "$("$OFFCA" list --json | grep -o '"serial"' | wc -l)" = "$before" ] || fail "dry run changed the store"
mkdir "$T/out"
"$OFFCA" sign --csr "$T"/b?.csr --profile server --issuer int1 --pin-file "$IP" --out-dir "$T/out" > "$T/batch.out"
[ "$(ls "$T/out" | wc -l)" = 5 ] || fail "batch: expected 5 files"
for f in "$T"/out/*.pem; do V sslserver "$T/int.pem" "$f" || fail "batch cert $f"; done
pass "batch of 5 with one login, dry run changes nothing"

# --- the pending queue (CSRs that crossed the air gap as QR codes) ---
{
  "$OFFCA" qr encode "$T/b1.csr" --out-dir "$T/qr1" >/dev/null 2>&1 && "$OFFCA" qr decode "$T"/qr1/*.png --import >/dev/null 2>&1 \
    && "$OFFCA" qr encode "$D/ok_keytool_san.pem" --out-dir "$T/qr2" >/dev/null 2>&1 \
    && "$OFFCA" qr decode "$T"/qr2/*.png --import >/dev/null 2>&1 || fail "could not queue CSRs through QR"
  [ "$("$OFFCA" pending list | grep -c .)" -ge 2 ] || fail "pending queue not filled"
  mkdir "$T/pend"
  "$OFFCA" sign --pending-all --profile server --issuer int1 --pin-file "$IP" --out-dir "$T/pend" >"$T/pend.out"
  grep -q "pending 1 ->" "$T/pend.out" || fail "pending output: $(cat "$T/pend.out")"
  [ "$(ls "$T/pend" | wc -l)" = 2 ] || fail "pending: expected 2 certificates"
  "$OFFCA" pending list | grep -q "java.example.com" && fail "signed CSRs still pending"
  [ "$("$OFFCA" pending list)" = "no pending CSRs" ] || fail "queue not empty after --pending-all: $("$OFFCA" pending list)"
  for f in "$T"/pend/*.pem; do
    V sslserver "$T/int.pem" "$f" || fail "pending cert $f"
    ser=$(openssl x509 -in "$f" -noout -serial | sed 's/^serial=//')
    "$OFFCA" show "$ser" | grep -qi "offca sign --pending" || fail "pending cert $ser not recorded with its source"
  done
  # the records and the queue drain were one transaction: one pending-remove entry, log intact
  "$OFFCA" audit verify >/dev/null || fail "audit verify after --pending-all"
  # a CSR that is no longer pending cannot be signed a second time, and the attempt records nothing
  nrec=$("$OFFCA" list --json | grep -o '"serial"' | wc -l)
  expect_fail "signing an already signed pending CSR" "$OFFCA" sign --pending 1 --profile server --issuer int1 \
    --pin-file "$IP" --out-dir "$T/pend"
  expect_err_match "pending"
  [ "$("$OFFCA" list --json | grep -o '"serial"' | wc -l)" = "$nrec" ] || fail "a failed pending sign recorded something"
  expect_fail "the same pending id twice" "$OFFCA" sign --pending 7 7 --profile server --issuer int1 --pin-file "$IP"
  expect_err_match "given twice"
  pass "--pending-all signs the queue and empties it in the records' transaction; no second signing"
}

# --- issuer-generated key as PKCS#12 ---
(umask 077; echo "correct horse battery" > "$T/p12.pass")
"$OFFCA" issue --generate-key --subject "/CN=p12.example.com" --san p12.example.com --profile client --issuer int1 \
  --out "$T/x.p12" --passphrase-file "$T/p12.pass" --pin-file "$IP" >"$T/issue.out" 2>"$T/issue.err"
grep -q "WARNING" "$T/issue.err" || fail "offca issue must warn that the key has to travel"
[ "$(stat -c %a "$T/x.p12")" = 600 ] || fail "p12 mode"
openssl pkcs12 -in "$T/x.p12" -passin "file:$T/p12.pass" -info -noout > "$T/p12.info" 2>&1 || fail "openssl cannot read the p12"
grep -q "PBES2, PBKDF2, AES-256-CBC" "$T/p12.info" || fail "p12 not AES-256/PBKDF2: $(cat "$T/p12.info")"
grep -q "MAC: sha256" "$T/p12.info" || fail "p12 MAC not SHA-256"
openssl pkcs12 -in "$T/x.p12" -passin "file:$T/p12.pass" -nokeys -clcerts 2>/dev/null > "$T/p12.crt"
V sslclient "$T/int.pem" "$T/p12.crt" || fail "p12 certificate does not verify"
"$OFFCA" issue --generate-key --subject "/CN=old.example.com" --san DNS:old.example.com --profile client --issuer int1 \
  --out "$T/old.p12" --legacy --passphrase-file "$T/p12.pass" --pin-file "$IP" >/dev/null 2>&1
openssl pkcs12 -in "$T/old.p12" -passin "file:$T/p12.pass" -info -noout 2>&1 | grep -q "pbeWithSHA1And3-KeyTripleDES-CBC" \
  || fail "--legacy p12 not 3DES"
expect_fail "issue refuses to overwrite" "$OFFCA" issue --generate-key --subject "/CN=p12.example.com" --san p12.example.com \
  --profile client --issuer int1 --out "$T/x.p12" --passphrase-file "$T/p12.pass" --pin-file "$IP"
pass "offca issue: PKCS#12 AES-256/PBKDF2 (and --legacy 3DES) readable by openssl"

# --- AIA and CRL distribution point from the issuer's config section ---
python3 - "$OFFCA_HOME/config.json" <<'PY'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c["issuers"] = {"int1": {"crl_dp_url": "http://pki.example.com/int1.crl",
                         "aia_ca_issuers_url": "http://pki.example.com/int1.cer", "ocsp_url": "http://ocsp.example.com"}}
json.dump(c, open(p, "w"))
PY
mk aia "/CN=aia.example.com" "DNS:aia.example.com"
"$OFFCA" sign --csr "$T/aia.csr" --profile server --issuer int1 --pin-file "$IP" --out "$T/aia.pem" >/dev/null
openssl x509 -in "$T/aia.pem" -noout -text > "$T/aia.txt"
grep -q "URI:http://pki.example.com/int1.crl" "$T/aia.txt" && grep -q "CA Issuers - URI:http://pki.example.com/int1.cer" "$T/aia.txt" \
  && grep -q "OCSP - URI:http://ocsp.example.com" "$T/aia.txt" || fail "AIA / CRL DP missing"
V sslserver "$T/int.pem" "$T/aia.pem" || fail "certificate with AIA/CRL DP does not verify"
pass "AIA and CRL distribution point from the issuer's config"

"$OFFCA" audit verify >/dev/null || fail "audit verify"
pass "audit log verifies"
