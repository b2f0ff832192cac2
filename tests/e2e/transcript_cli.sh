#!/usr/bin/env bash
# The transcript of a real (dry-run) ceremony through the CLI: `offca ceremony verify` and
# `offca ceremony print` agree with each other and with independent tools (zbarimg reads the
# PDF's QR code), and edits to the transcript or its outputs are caught with one clear line.
source "$(dirname "$0")/../lib/e2e.sh"
need pdftoppm
need zbarimg
need pdftotext
need python3

# fontconfig (under cairo) keeps its caches for the life of the process: not offca's leak.
# Until tests/lsan.supp lists it, add it to whatever suppressions the run uses.
supp=$(printf '%s' "${LSAN_OPTIONS:-}" | tr ':' '\n' | sed -n 's/^suppressions=//p' | head -n1)
{ if [ -n "$supp" ] && [ -r "$supp" ]; then cat "$supp"; fi; echo "leak:libfontconfig"; } > "$T/lsan.supp"
export LSAN_OPTIONS="suppressions=$T/lsan.supp"
cd "$T"
cp "$OFFCA_SRC"/docs/examples/demo-ceremony.yaml "$OFFCA_SRC"/docs/examples/demo-answers.yaml \
   "$OFFCA_SRC"/docs/examples/demo-server.csr .
(umask 077; printf 'module: %s\npins:\n  root: "123456"\n  int: "123456"\n' "$SOFTHSM_MODULE" > creds)

rc=0
"$OFFCA" ceremony run demo-ceremony.yaml --dry-run --answers demo-answers.yaml --credentials creds \
  >run.out 2>run.err </dev/null || rc=$?
tr=$(sed -n 's/^Transcript: *//p' run.out | tail -n1)
out=$(dirname "${tr:-/nonexistent/x}")
case "$out" in
  /tmp/offca-dry-run.*/out)
    # the rehearsal's scratch dir is ours to remove
    dry=$(dirname "$out")
    trap 'rc=$?; rm -rf "$dry"; (exit $rc); cleanup' EXIT ;;
esac
[ "$rc" -eq 0 ] || { cat run.err >&2; fail "dry-run ceremony failed ($rc)"; }
[ -n "$tr" ] && [ -f "$tr" ] || fail "no transcript path in the run's output"
[ -n "${dry:-}" ] || fail "unexpected dry-run output dir $out"
pass "dry-run ceremony wrote $tr"

"$OFFCA" ceremony verify "$tr" --ca "$out/root.pem" >verify.out || fail "verify of a fresh transcript failed"
head_grouped=$(sed -n 's/^  head *//p' verify.out)
echo "$head_grouped" | grep -Eqx '([0-9A-F]{4} ){15}[0-9A-F]{4}' || fail "verify's head '$head_grouped' is not grouped upper case"
head=$(echo "$head_grouped" | tr -d ' ' | tr A-F a-f)
[ ${#head} -eq 64 ] || fail "verify printed no head"
# --json: the same verification as one object (docs/json.md)
"$OFFCA" ceremony verify "$tr" --ca "$out/root.pem" --json >verify.json || fail "verify --json failed"
python3 - verify.json "$head" "$tr" <<'PY' || fail "ceremony verify --json: $(cat verify.json)"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["head"] == sys.argv[2] and d["file"] == sys.argv[3], d
assert d["trustedRoot"] is True and d["sealed"] is True and d["signatures"] >= 1 and d["outputsChecked"] is True, d
assert d["entries"] > 0 and d["outputs"] > 0 and d["resumptions"] == 0, d
PY
rc=0; "$OFFCA" ceremony verify "$tr" --json >verify2.json 2>verify2.err || rc=$?
[ "$rc" != 0 ] && grep -q "not checked against a trusted root" verify2.err \
  && python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["trustedRoot"] is False' verify2.json \
  || fail "verify --json without --ca: rc $rc, $(cat verify2.err)"
grep -q "status *completed" verify.out || fail "status not completed"
pass "verify: completed, head $head"

# the paper copy: QR code on page 1 equals the head
"$OFFCA" ceremony print "$tr" --out copy.pdf >/dev/null || fail "print failed"
pdftoppm -r 150 -png -f 1 -l 1 -singlefile copy.pdf page1
qr=$(zbarimg -q --raw -Sdisable -Sqrcode.enable page1.png 2>/dev/null)
[ "$qr" = "$head" ] || fail "QR code '$qr' is not the head $head"
pdftotext -layout copy.pdf copy.txt
grep -q "Ada Administrator" copy.txt || fail "administrator's signature line missing"
grep -q "Walter Witness" copy.txt || fail "witness's signature line missing"
grep -q "root.pem" copy.txt || fail "outputs missing from the PDF"
pass "PDF QR code matches the head; witnesses and outputs listed"

# every issued certificate's fingerprint (SHA-256 of the DER, what the screen showed and the guide
# tells witnesses to compare) is in the PDF in full, grouped upper case, wrapped but not cut; the
# file hashes of the outputs are labelled as file hashes
tr -d ' \n\f' < copy.txt > copy.flat
ncert=0
for c in "$out"/root.pem "$out"/intermediate.pem "$out"/certs/*.pem; do
  [ -f "$c" ] || continue
  fp=$(openssl x509 -in "$c" -noout -fingerprint -sha256 | sed 's/^.*=//')
  [ ${#fp} -eq 95 ] || fail "openssl printed no fingerprint for $c"
  # the one grouped format (issue 17): "75BA 1446 ...", 8 groups a line
  g=$(echo "$fp" | tr -d ':' | sed 's/..../& /g; s/ $//')
  grep -qF "$(echo "$g" | tr -d ' ')" copy.flat || fail "the PDF lacks the full fingerprint $g of $(basename "$c")"
  grep -qF "${g:0:39}" copy.txt || fail "the fingerprint of $(basename "$c") is not grouped '75BA 1446 ..' upper case"
  filefp=$(sha256sum "$c" | cut -c1-64 | tr a-f A-F | sed 's/../&:/g; s/:$//')
  [ "$filefp" != "$fp" ] || fail "a PEM file's hash equals its certificate's fingerprint?"
  ncert=$((ncert + 1))
done
[ "$ncert" -ge 3 ] || fail "expected the root, the intermediate and a leaf certificate, found $ncert"
grep -q "SHA-256 of DER" copy.txt || fail "certificate fingerprints are not labelled as the DER's"
grep -q "File SHA-256" copy.txt || fail "output file hashes are not labelled as file hashes"
if grep -Eq "^ *SHA-256 +[0-9A-F]{4} " copy.txt; then fail "a bare 'SHA-256' label remains in the PDF"; fi
pass "PDF shows each of the $ncert certificates' DER fingerprints in full; file hashes labelled as such"
expect_fail "print never overwrites" "$OFFCA" ceremony print "$tr" --out copy.pdf
expect_err_match "exists"

# the intermediate's key did not sign the transcript
expect_fail "verify --ca with a key that did not sign" "$OFFCA" ceremony verify "$tr" --ca "$out/intermediate.pem"

# one byte changed in the middle of the transcript
cp "$tr" "$T/orig.jsonl"
size=$(stat -c %s "$tr")
python3 - "$tr" "$((size / 2))" <<'EOF'
import sys
p, pos = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read())
b[pos] ^= 0x01
open(p, "wb").write(bytes(b))
EOF
expect_fail "verify after a one-byte edit" "$OFFCA" ceremony verify "$tr" --no-ca
expect_err_match "line [0-9]+"
[ "$(grep -c . "$T/last.err")" -eq 1 ] || fail "more than one line on stderr"
expect_fail "print refuses an edited transcript" "$OFFCA" ceremony print "$tr" --out edited.pdf
[ ! -e edited.pdf ] || fail "a PDF of an edited transcript was written"
cp "$T/orig.jsonl" "$tr"

# an output file changed after the ceremony
printf '\n' >> "$out/intermediate.pem"
expect_fail "verify after an output changed" "$OFFCA" ceremony verify "$tr" --no-ca
expect_err_match "intermediate.pem"
"$OFFCA" ceremony verify "$tr" --no-ca --no-outputs >/dev/null || fail "--no-outputs should ignore output files"
pass "all transcript checks behave"
