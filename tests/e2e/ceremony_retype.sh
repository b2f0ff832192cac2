#!/usr/bin/env bash
# Issue 17: one keystroke never ends or skews a ceremony. Through a real pty: "y", "Yes" and "no" at
# yes-only confirmations are asked again saying what is expected; Ctrl-C followed by "no" at "abort
# the ceremony? type abort" goes on; three empty PINs are asked again and cost no try (the token's
# PIN counter stays full); "Yes" and "n" at "Sign this one? (yes/no)" are asked again; every CSR's
# outcome is printed (signed: serial and fingerprint; declined: by whom) and the summary counts
# both. The transcript records what was signed and declined and verifies.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_TEST_DATA/ceremonies/lib.sh"

e2e_token cer-root 123456
cer_home
cd "$T"
cp "$CER_DATA/root-session.yaml" ceremony.yaml
for n in a.example.test b.example.test; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "/CN=$n" \
    -addext "subjectAltName=DNS:$n" -out "${n%%.*}.csr" 2>/dev/null
done

"${PTY[@]}" "$CER_DATA/pty-retype.script" -- "$OFFCA" ceremony run ceremony.yaml --home "$HOME_DIR" > run.out 2>&1 \
  || { cat run.out; fail "the ceremony with mistyped answers did not complete"; }
pass "mistyped confirmations, Ctrl-C then no, empty PINs, 'Yes' at a CSR: asked again, ceremony completed"

grep -q '"event":"pin-incorrect"' out/transcript.jsonl && fail "an empty PIN cost a try"
pass "empty PINs cost no try"
ls out/certs/*.pem > certs.txt
[ "$(wc -l < certs.txt)" = 1 ] || fail "expected exactly one certificate, got: $(cat certs.txt)"
openssl x509 -in "$(cat certs.txt)" -noout -subject | grep -q "a.example.test" || fail "the signed certificate is not CSR 1's"
fp=$(openssl x509 -in "$(cat certs.txt)" -noout -fingerprint -sha256 | sed 's/^.*=//' | tr -d ':' | sed 's/..../& /g; s/ $//')
serial=$(openssl x509 -in "$(cat certs.txt)" -noout -serial | sed 's/^serial=//')
tr -d '\r' < run.out > run.txt
grep -A1 "CSR 1  SIGNED  serial $serial" run.txt | grep -q "SHA-256 $fp" \
  || { cat run.txt; fail "CSR 1's outcome does not show its serial $serial and fingerprint $fp"; }
pass "the signed CSR's outcome shows the serial and the fingerprint openssl computes"
grep '"event":"csr-declined"' out/transcript.jsonl | grep -q '"by":"Alice Admin"' || fail "the decline is not recorded with by whom"
grep '"event":"session-summary"' out/transcript.jsonl | grep -q '"signed":1' || fail "session summary not recorded"
grep '"event":"session-summary"' out/transcript.jsonl | grep -q '"declined":1' || fail "session summary lacks the decline"
[ "$(grep -c '"event":"answer-repeated"' out/transcript.jsonl)" -ge 5 ] || fail "re-asked answers not recorded"
grep -q '"event":"interrupt-cancelled"' out/transcript.jsonl || fail "the cancelled Ctrl-C is not recorded"
"$OFFCA" ceremony verify out/transcript.jsonl --ca out/root.pem > verify.out || { cat verify.out; fail "verify"; }
grep -q "status     completed" verify.out || fail "transcript not completed"
pass "transcript: declined by whom, session summary, re-asked answers, cancelled Ctrl-C; verifies"

# the CSR review shows what lets a witness refuse the wrong thing (issue 17)
G() { tr a-f A-F | sed 's/..../& /g; s/ $//'; }
csr_sha=$(openssl req -in a.csr -outform DER | sha256sum | cut -c1-64 | G)
key_sha=$(openssl req -in a.csr -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64 | G)
grep -q "CSR SHA-256 (DER)        $csr_sha" run.txt || fail "CSR review lacks the CSR's SHA-256 $csr_sha"
grep -q "public key SHA-256       $key_sha" run.txt || fail "CSR review lacks the public key's SHA-256 $key_sha"
grep -q "key                      EC prime256v1 (256 bits)" run.txt || fail "CSR review lacks the key type and size"
grep -q "subject (openssl req)    $(openssl req -in a.csr -noout -subject -nameopt oneline | sed 's/^subject=//')" run.txt \
  || fail "CSR review's subject is not openssl req's"
grep -q "requested SANs           DNS:a.example.test" run.txt || fail "CSR review lacks the requested SANs"
grep -q "validity 90 days, until about $(date -u -d '+90 days' +%Y-%m-%d) UTC" run.txt || fail "CSR review lacks the validity"
pass "CSR review: CSR and public-key SHA-256 (as openssl computes them), key, subject in openssl order, SANs, validity"
