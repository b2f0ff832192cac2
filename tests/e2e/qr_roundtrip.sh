#!/usr/bin/env bash
# qr_roundtrip.sh - payloads through QR images and back, exact bytes: a P-256 CSR (one frame), an
# RSA-4096 CSR, a 3-certificate chain and a CRL with 1,000 entries. Frames are degraded with
# ImageMagick (downscale, blur, small rotation, noise, JPEG quality 40) before decoding.
source "$(dirname "$0")/../lib/e2e.sh"
need openssl
need convert
need mogrify
convert -version 2>/dev/null | grep -q ImageMagick || { echo "skip: convert is not ImageMagick" >&2; exit 77; }

# degrade DIR OUTDIR : every frame-*.png of DIR -> a degraded JPEG in OUTDIR
degrade() {
  mkdir -p "$2"
  mogrify -seed 1234 -path "$2" -format jpg -resize 60% -blur 0x1 -background white -rotate 4 \
    -attenuate 0.5 +noise Gaussian -quality 40 "$1"/frame-*.png
}

# --- P-256 CSR with a few SANs: one frame ---
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/p256.key" \
  -subj "/CN=www.example.com/O=Example Corp" \
  -addext "subjectAltName=DNS:www.example.com,DNS:example.com,DNS:api.example.com,DNS:mail.example.com" \
  -outform DER -out "$T/p256.der" 2>/dev/null
"$OFFCA" qr encode "$T/p256.der" --out-dir "$T/p256" 2>"$T/enc.err"
n=$(ls "$T/p256" | wc -l)
[ "$n" -eq 1 ] || fail "P-256 CSR took $n frames, want 1"
grep -q "ur:offca-csr" "$T/enc.err" || fail "encode summary missing: $(cat "$T/enc.err")"
degrade "$T/p256" "$T/p256.deg"
"$OFFCA" qr decode "$T"/p256.deg/*.jpg --out "$T/p256.out" 2>"$T/dec.err" || fail "decode P-256: $(cat "$T/dec.err")"
cmp -s "$T/p256.der" "$T/p256.out" || fail "P-256 CSR bytes differ"
grep -q "1 of 1 frames" "$T/dec.err" || fail "no progress line: $(cat "$T/dec.err")"
pass "P-256 CSR with 4 SANs: one frame, degraded JPEG decodes to the exact bytes"

# --- RSA-4096 CSR given as PEM: sent as DER, decoded back to DER and to PEM ---
openssl req -new -newkey rsa:4096 -nodes -keyout "$T/rsa.key" -subj "/CN=rsa.example.com" \
  -addext "subjectAltName=DNS:rsa.example.com" -out "$T/rsa.pem" 2>/dev/null
openssl req -in "$T/rsa.pem" -outform DER -out "$T/rsa.der"
"$OFFCA" qr encode "$T/rsa.pem" --out-dir "$T/rsa" --fragment-size 200 2>/dev/null
degrade "$T/rsa" "$T/rsa.deg"
"$OFFCA" qr decode "$T"/rsa.deg/*.jpg --out "$T/rsa.out" 2>"$T/dec.err" || fail "decode RSA: $(cat "$T/dec.err")"
cmp -s "$T/rsa.der" "$T/rsa.out" || fail "RSA-4096 CSR bytes differ"
want=$(( ($(stat -c %s "$T/rsa.der") + 3 + 199) / 200 ))
grep -Eq "$want of $want frames" "$T/dec.err" || fail "no '$want of $want frames' progress: $(cat "$T/dec.err")"
"$OFFCA" qr decode "$T"/rsa/*.png --pem --out "$T/rsa.out.pem" 2>/dev/null
cmp -s "$T/rsa.pem" "$T/rsa.out.pem" || fail "RSA-4096 CSR PEM differs"
pass "RSA-4096 CSR ($(stat -c %s "$T/rsa.der") bytes, $(ls "$T/rsa" | wc -l) frames): degraded frames decode exactly; --pem gives the PEM back"

# --- a 3-certificate chain (root, intermediate, leaf) ---
cat > "$T/ext.cnf" <<'CNF'
[ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
[leaf]
basicConstraints = CA:false
subjectAltName = DNS:leaf.example.com
CNF
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$T/root.key" \
  -subj "/CN=QR Test Root" -days 30 -out "$T/root.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/int.key" \
  -subj "/CN=QR Test Intermediate" -out "$T/int.csr" 2>/dev/null
openssl x509 -req -in "$T/int.csr" -CA "$T/root.pem" -CAkey "$T/root.key" -CAcreateserial -days 30 \
  -extfile "$T/ext.cnf" -extensions ca -out "$T/int.pem" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/leaf.key" -subj "/CN=leaf.example.com" \
  -out "$T/leaf.csr" 2>/dev/null
openssl x509 -req -in "$T/leaf.csr" -CA "$T/int.pem" -CAkey "$T/int.key" -CAcreateserial -days 30 \
  -extfile "$T/ext.cnf" -extensions leaf -out "$T/leaf.pem" 2>/dev/null
cat "$T/leaf.pem" "$T/int.pem" "$T/root.pem" > "$T/chain.pem"
"$OFFCA" qr encode "$T/chain.pem" --out-dir "$T/chain" --frames 10 2>"$T/enc.err"
grep -q "ur:offca-chain" "$T/enc.err" || fail "chain not detected: $(cat "$T/enc.err")"
degrade "$T/chain" "$T/chain.deg"
"$OFFCA" qr decode "$T"/chain.deg/*.jpg --pem --out "$T/chain.out" 2>"$T/dec.err" || fail "decode chain: $(cat "$T/dec.err")"
cmp -s "$T/chain.pem" "$T/chain.out" || fail "chain differs"
openssl verify -CAfile "$T/root.pem" -untrusted "$T/int.pem" "$T/leaf.pem" >/dev/null || fail "openssl cannot verify the chain"
pass "3-certificate chain: degraded frames decode to the same PEM chain"

# --- a CRL with 1,000 revoked entries, made by openssl ca ---
mkdir -p "$T/ca"
: > "$T/ca/index.txt"
python3 - "$T/ca/index.txt" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(1000):
        f.write("R\t301231235959Z\t260101000000Z,keyCompromise\t%04X\tunknown\t/CN=revoked-%d\n" % (0x1000 + i, i))
PY
echo 1000 > "$T/ca/crlnumber"
cat > "$T/ca.cnf" <<CNF
[ca]
default_ca = qr
[qr]
database = $T/ca/index.txt
crlnumber = $T/ca/crlnumber
default_md = sha256
default_crl_days = 7
CNF
openssl ca -batch -config "$T/ca.cnf" -gencrl -keyfile "$T/int.key" -cert "$T/int.pem" \
  -out "$T/crl.pem" 2>/dev/null
openssl crl -in "$T/crl.pem" -outform DER -out "$T/crl.der"
[ "$(openssl crl -in "$T/crl.der" -inform DER -noout -text | grep -c 'Serial Number')" -eq 1000 ] \
  || fail "CRL does not hold 1000 entries"
"$OFFCA" qr encode "$T/crl.der" --out-dir "$T/crl" --fragment-size 1000 --scale 5 --frames 72 2>"$T/enc.err"
frames=$(ls "$T/crl" | wc -l)
degrade "$T/crl" "$T/crl.deg"
"$OFFCA" qr decode "$T"/crl.deg/*.jpg --out "$T/crl.out" 2>"$T/dec.err" || fail "decode CRL: $(tail -n 3 "$T/dec.err")"
cmp -s "$T/crl.der" "$T/crl.out" || fail "CRL differs"
pass "CRL with 1000 entries ($(stat -c %s "$T/crl.der") bytes, $frames frames): degraded frames decode exactly"

# --- an offca bundle travels as ur:offca-bundle and still verifies ---
"$OFFCA" bundle create --out "$T/in.offca" "csr:$T/p256.der" >/dev/null 2>&1 || fail "bundle create"
"$OFFCA" qr encode "$T/in.offca" --out-dir "$T/bundle" 2>"$T/enc.err"
grep -q "ur:offca-bundle" "$T/enc.err" || fail "bundle not detected: $(cat "$T/enc.err")"
degrade "$T/bundle" "$T/bundle.deg"
"$OFFCA" qr decode "$T"/bundle.deg/*.jpg --out "$T/in2.offca" --quiet || fail "decode bundle"
cmp -s "$T/in.offca" "$T/in2.offca" || fail "bundle differs"
"$OFFCA" bundle verify "$T/in2.offca" >/dev/null || fail "decoded bundle does not verify"
pass "a USB bundle as QR frames: exact bytes, offca bundle verify accepts it"
