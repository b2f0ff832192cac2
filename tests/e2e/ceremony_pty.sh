#!/usr/bin/env bash
# A full root + intermediate ceremony typed through a real pseudo-terminal (PINs with echo off),
# each token's PIN asked exactly once although the root key works in root-cert, intermediate-cert
# and the transcript signature; then: the transcript verifies (chain, signatures, outputs, --ca root), openssl verifies the
# certificates, the PDF is made, and changing any single byte of the transcript fails verify.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_TEST_DATA/ceremonies/lib.sh"

e2e_token cer-root 123456
e2e_token cer-int 654321
cer_home
cd "$T"
cp "$CER_DATA/root-int.yaml" ceremony.yaml

# before the ceremony: the reviewed file on paper (issue 17)
"$OFFCA" ceremony review ceremony.yaml --out review.pdf > review.out || { cat review.out; fail "ceremony review"; }
[ "$(head -c 5 review.pdf)" = "%PDF-" ] || fail "review.pdf is not a PDF"
expect_fail "review never overwrites" "$OFFCA" ceremony review ceremony.yaml --out review.pdf
printf 'version: 1\nname: x\n' > broken.yaml
expect_fail "review of a broken ceremony file" "$OFFCA" ceremony review broken.yaml --out broken.pdf
[ ! -e broken.pdf ] || fail "a PDF was written for a broken ceremony file"

"${PTY[@]}" "$CER_DATA/pty-full.script" -- "$OFFCA" ceremony run ceremony.yaml --home "$HOME_DIR" > run.out 2>&1 \
  || { cat run.out; fail "interactive ceremony did not complete"; }
pass "ceremony typed through a pty completed"
grep -q "123456\|654321" run.out && fail "a PIN was echoed to the terminal"
pass "PINs were not echoed"
[ "$(grep -c "PIN for root" run.out)" = 1 ] || { cat run.out; fail "the root PIN was not asked exactly once"; }
[ "$(grep -c "PIN for int" run.out)" = 1 ] || { cat run.out; fail "the intermediate PIN was not asked exactly once"; }
[ "$(grep -c '"event":"login"' out/transcript.jsonl)" = 2 ] || fail "expected exactly 2 logins in the transcript"
# (that the root key then signed the root and intermediate certificates and the transcript is
# checked below: verify --ca root.pem, openssl verify)
pass "each token's PIN asked once per ceremony (root key used in steps 1, 2, 4 and to sign the transcript)"

for f in root-key.pub.pem root.pem int-key.pub.pem intermediate.pem transcript.jsonl transcript.pdf; do
  [ -s "out/$f" ] || fail "missing output out/$f"
done
"$OFFCA" ceremony verify out/transcript.jsonl --ca out/root.pem > verify.out || { cat verify.out; fail "verify"; }
grep -q "status     completed" verify.out || fail "transcript not completed: $(cat verify.out)"
grep -q "outputs    4 re-hashed" verify.out || fail "outputs not all checked: $(cat verify.out)"
pass "ceremony verify: chain, signature by the root key, 4 outputs"
cer_events out/transcript.jsonl > events
for e in time-confirmed operators key-generated attestation lint cert-signed signature-verified output end signature; do
  grep -qx "$e" events || fail "transcript has no $e entry"
done
grep -q '"administrator":"Alice Admin"' out/transcript.jsonl || fail "administrator not recorded"
grep -qi 'pin"' out/transcript.jsonl && fail "something PIN-like in the transcript"
pass "transcript records time, people, keys, attestation, lint, certificates, outputs"

openssl verify -x509_strict -CAfile out/root.pem out/intermediate.pem >/dev/null || fail "openssl verify intermediate"
openssl x509 -in out/intermediate.pem -noout -text | grep -q "Permitted" || fail "name constraints missing"
pass "openssl verify -x509_strict: intermediate chains to the root"
[ "$(head -c 5 out/transcript.pdf)" = "%PDF-" ] || fail "transcript.pdf is not a PDF"
"$OFFCA" ceremony print out/transcript.jsonl --out again.pdf >/dev/null || fail "ceremony print"
expect_fail "print never overwrites" "$OFFCA" ceremony print out/transcript.jsonl --out again.pdf
pass "PDF rendered"

# tamper: change one byte at several places (start, middle, a signature, the end)
size=$(stat -c %s out/transcript.jsonl)
for pos in 10 $((size / 3)) $((size / 2)) $((size - 40)); do
  cp out/transcript.jsonl t.jsonl
  python3 - "$pos" <<'PY'
import sys
p = int(sys.argv[1]); b = bytearray(open("t.jsonl", "rb").read())
b[p] = ord("0") if b[p] != ord("0") else ord("1")
open("t.jsonl", "wb").write(bytes(b))
PY
  cp t.jsonl out/tampered.jsonl
  expect_fail "verify of a transcript with byte $pos changed" "$OFFCA" ceremony verify out/tampered.jsonl --no-ca
  rm -f out/tampered.jsonl
done
# an output file changed after the ceremony
cp out/root.pem root.bak; sed -i '2s/./X/' out/root.pem
expect_fail "verify with a changed output file" "$OFFCA" ceremony verify out/transcript.jsonl --no-ca
cp root.bak out/root.pem
"$OFFCA" ceremony verify out/transcript.jsonl --no-ca >/dev/null || fail "restored outputs should verify"
pass "any edit fails verify"

# the review PDF carries the values the run screen showed: the file's SHA-256 (text and QR) and
# each step hash, in the one grouped format
need pdftotext
need pdftoppm
need zbarimg
G='([0-9A-F]{4} ){15}[0-9A-F]{4}'
tr -d '\r' < run.out > run.txt
fsha=$(sha256sum ceremony.yaml | cut -c1-64)
fsha_g=$(echo "$fsha" | tr a-f A-F | sed 's/..../& /g; s/ $//')
grep -q "File SHA-256 (compare with the reviewed file's PDF): $fsha_g" run.txt || fail "the run screen does not show the file's SHA-256 $fsha_g"
pdftotext -layout review.pdf review.txt
tr -d '\n\f' < review.txt | tr -s ' ' > review.flat
grep -qF "${fsha_g:0:39}" review.txt && grep -qF "${fsha_g:40}" review.txt || fail "review.pdf lacks the file SHA-256"
pdftoppm -r 150 -png -f 1 -l 1 -singlefile review.pdf rpage1
[ "$(zbarimg -q --raw -Sdisable -Sqrcode.enable rpage1.png 2>/dev/null)" = "$fsha" ] || fail "review QR is not the file's SHA-256"
n=0
for i in 1 2 3 4; do
  h=$(grep -E "^Step $i hash \(compare with the reviewed file's PDF\): " run.txt | grep -Eo "$G")
  [ -n "$h" ] || fail "the run screen shows no grouped hash for step $i"
  grep -q "step $i  hash  $h" review.out || fail "review's summary has another hash for step $i"
  grep -A2 "^ *Step $i of 4" review.txt | grep -qF "$h" || fail "review.pdf shows another hash for step $i than the run ($h)"
  n=$((n + 1))
done
[ "$n" = 4 ] || fail "not all step hashes compared"
pass "ceremony review: the PDF's file SHA-256 (text and QR) and the 4 step hashes equal the run screen's"

# the intermediate block ties the certificate to the key step: issuer, pathLen, name constraints,
# and the public-key SHA-256 the intermediate-key step showed (issue 17)
kstep=$(sed -n '/Step 3 of 4/,/Step 4 of 4/p' run.txt | grep -Eo "Public key SHA-256: $G" | grep -Eo "$G")
[ -n "$kstep" ] || fail "the key step showed no public-key SHA-256"
blk=$(sed -n '/Intermediate certificate/,/Signing the transcript/p' run.txt)
echo "$blk" | grep -q "issuer    CN=Test Root CA,O=offca tests" || fail "intermediate block lacks the issuer"
echo "$blk" | grep -q "pathLen   0" || fail "intermediate block lacks pathLen"
echo "$blk" | grep -q "name constraints  permitted DNS:example.test" || fail "intermediate block lacks the name constraints"
echo "$blk" | grep -q "public key SHA-256 $kstep" || fail "intermediate block's public key is not the key step's $kstep"
ossl=$(openssl x509 -in out/intermediate.pem -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64 | tr a-f A-F | sed 's/..../& /g; s/ $//')
[ "$ossl" = "$kstep" ] || fail "openssl's public-key SHA-256 $ossl differs"
pass "intermediate block: issuer, pathLen, name constraints, public key = the key step's (and openssl's)"
# the transcript PDF carries the key's public-key SHA-256 the screen asked witnesses to note, in full
pdftotext -layout out/transcript.pdf tpdf.txt
grep -q "Keys generated and CSRs reviewed" tpdf.txt || fail "the transcript PDF has no keys block"
grep -qF "${kstep:0:39}" tpdf.txt && grep -qF "${kstep:40}" tpdf.txt || fail "the transcript PDF lacks the intermediate key's public-key SHA-256 $kstep"
pass "transcript PDF: the generated keys' public-key SHA-256 in full, grouped as on screen"
# ... and every step hash the run screen showed (the values of the review PDF), in full
for i in 1 2 3 4; do
  h=$(grep -E "^Step $i hash \(compare with the reviewed file's PDF\): " run.txt | grep -Eo "$G")
  grep -qF "${h:0:39}" tpdf.txt && grep -qF "${h:40}" tpdf.txt || fail "the transcript PDF lacks step $i's hash $h"
done
pass "transcript PDF: the 4 step hashes in full, as the run screen showed them"
