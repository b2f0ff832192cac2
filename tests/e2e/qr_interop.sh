#!/usr/bin/env bash
# qr_interop.sh - our UR frames decode with @ngraveio/bc-ur (npm) and its frames decode with ours,
# as text and as QR images (theirs rendered with the qrencode CLI). Skips (77) without node/npm or
# when the npm registry cannot be reached.
source "$(dirname "$0")/../lib/e2e.sh"
need node
need npm
need openssl
need qrencode
: "${OFFCA_SRC:?}"

mkdir -p "$T/js"
cp "$OFFCA_SRC"/tests/interop/package.json "$OFFCA_SRC"/tests/interop/package-lock.json \
   "$OFFCA_SRC"/tests/interop/*.js "$T/js/"
if ! (cd "$T/js" && timeout 180 npm ci --no-audit --no-fund --loglevel=error >"$T/npm.log" 2>&1); then
  echo "skip: npm ci of @ngraveio/bc-ur failed: $(tail -n 1 "$T/npm.log")" >&2
  exit 77
fi
JS="$T/js"

openssl req -new -newkey rsa:4096 -nodes -keyout "$T/rsa.key" -subj "/CN=interop.example.com" \
  -outform DER -out "$T/rsa.der" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ec.key" \
  -subj "/CN=ec.example.com" -addext "subjectAltName=DNS:ec.example.com,DNS:www.ec.example.com" \
  -outform DER -out "$T/ec.der" 2>/dev/null

# ours -> bc-ur: multi-part, the first 4 pure frames dropped so fountain frames must stand in
"$OFFCA" qr encode "$T/rsa.der" --text --fragment-size 120 --frames 40 > "$T/ours.txt"
grep -q '^ur:offca-csr/1-' "$T/ours.txt" || fail "unexpected UR text: $(head -c 80 "$T/ours.txt")"
tail -n +5 "$T/ours.txt" | node "$JS/decode.js" > "$T/bcur.out" 2>"$T/node.err" || fail "bc-ur: $(cat "$T/node.err")"
cmp -s "$T/rsa.der" "$T/bcur.out" || fail "bc-ur decoded other bytes"
grep -q "decoded ur:offca-csr" "$T/node.err" || fail "bc-ur saw another type"
# upper case, as a QR scanner returns our frames
tr 'a-z' 'A-Z' < "$T/ours.txt" | node "$JS/decode.js" > "$T/bcur2.out" 2>/dev/null || fail "bc-ur: upper-case frames"
cmp -s "$T/rsa.der" "$T/bcur2.out" || fail "bc-ur decoded other bytes from upper case"
# single part
"$OFFCA" qr encode "$T/ec.der" --text > "$T/ours1.txt"
[ "$(wc -l < "$T/ours1.txt")" -eq 1 ] && ! grep -q '/1-1/' "$T/ours1.txt" || fail "P-256 CSR is not a single-part UR"
node "$JS/decode.js" < "$T/ours1.txt" > "$T/bcur3.out" 2>/dev/null || fail "bc-ur: single part"
cmp -s "$T/ec.der" "$T/bcur3.out" || fail "bc-ur single part differs"
pass "@ngraveio/bc-ur decodes our frames (fountain frames, upper case, single part)"

# bc-ur -> ours as text: parts 3.. only (fountain parts included)
node "$JS/encode.js" "$T/rsa.der" offca-csr 150 40 2 > "$T/theirs.txt"
"$OFFCA" qr decode --text "$T/theirs.txt" --out "$T/ours.out" 2>"$T/dec.err" || fail "decode bc-ur text: $(tail -n 2 "$T/dec.err")"
cmp -s "$T/rsa.der" "$T/ours.out" || fail "bc-ur frames decoded to other bytes"
# the encoders agree frame for frame
node "$JS/encode.js" "$T/rsa.der" offca-csr 120 40 > "$T/theirs120.txt"
cmp -s "$T/ours.txt" "$T/theirs120.txt" || fail "our frames differ from bc-ur's for the same message"
pass "we decode bc-ur's frames; both encoders emit identical frames (40 parts, fountain included)"

# bc-ur -> QR images (qrencode CLI, ECC M, upper case) -> ours
mkdir -p "$T/img"
UPPER=1 node "$JS/encode.js" "$T/rsa.der" offca-csr 200 14 > "$T/theirs_up.txt"
i=0
while read -r line; do
  i=$((i + 1))
  qrencode -l M -s 4 -o "$T/img/$(printf 'f%02d' $i).png" "$line"
done < "$T/theirs_up.txt"
ls "$T"/img/*.png | shuf | xargs "$OFFCA" qr decode --out "$T/img.out" 2>"$T/dec.err" \
  || fail "decode bc-ur QR images: $(tail -n 2 "$T/dec.err")"
cmp -s "$T/rsa.der" "$T/img.out" || fail "bc-ur QR images decoded to other bytes"
node "$JS/encode.js" "$T/ec.der" offca-csr 1000 1 > "$T/theirs1.txt"
"$OFFCA" qr decode --text "$T/theirs1.txt" --out "$T/ec.out" --quiet || fail "bc-ur single part"
cmp -s "$T/ec.der" "$T/ec.out" || fail "bc-ur single part differs"
pass "we decode bc-ur's frames rendered as QR images by qrencode, and its single-part URs"
