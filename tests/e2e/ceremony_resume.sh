#!/usr/bin/env bash
# Issue 17: an aborted ceremony is resumed, not rewritten. Ctrl-C then "abort" at step 4 (root key,
# root certificate and intermediate key exist); `offca ceremony resume TRANSCRIPT` with the same
# file re-asks the time and people checks, runs step 4 only and appends to the same transcript:
# one transcript, hash chain continued, the abort and the resumption both recorded; it verifies
# with --ca root.pem and openssl verifies the intermediate. Resuming with a changed ceremony file,
# or a completed transcript, is refused and changes nothing.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_TEST_DATA/ceremonies/lib.sh"

e2e_token cer-root 123456
e2e_token cer-int 654321
cer_home
cd "$T"
cp "$CER_DATA/root-int.yaml" ceremony.yaml
if "${PTY[@]}" "$CER_DATA/pty-ctrlc-confirm.script" -- "$OFFCA" ceremony run ceremony.yaml --home "$HOME_DIR" > abort.out 2>&1; then
  cat abort.out; fail "the ceremony should have aborted"
fi
[ -e out/int-key.pub.pem ] && [ ! -e out/intermediate.pem ] || fail "unexpected state after the abort: $(ls out)"
lines_before=$(wc -l < out/transcript.jsonl)
cp out/transcript.jsonl aborted.jsonl

# a changed ceremony file is refused, nothing appended
cp ceremony.yaml orig.yaml
sed -i 's/days: 1825/days: 1800/' ceremony.yaml
expect_fail "resume with a changed ceremony file" "$OFFCA" ceremony resume out/transcript.jsonl --home "$HOME_DIR"
expect_err_match "SHA-256 .* but the aborted ceremony ran the file with SHA-256"
cmp -s out/transcript.jsonl aborted.jsonl || fail "a refused resume changed the transcript"
cp orig.yaml ceremony.yaml
pass "resume with a changed ceremony file: refused, transcript unchanged"

"${PTY[@]}" "$CER_DATA/pty-resume.script" -- "$OFFCA" ceremony resume out/transcript.jsonl --home "$HOME_DIR" > resume.out 2>&1 \
  || { cat resume.out; fail "the resumed ceremony did not complete"; }
[ "$(head -n "$lines_before" out/transcript.jsonl | cmp - aborted.jsonl && echo same)" = same ] || fail "the aborted part of the transcript changed"
[ "$(wc -l < out/transcript.jsonl)" -gt "$lines_before" ] || fail "nothing appended"
cer_events out/transcript.jsonl > events
grep -qx abort events && grep -qx resume events || fail "abort and resumption not both recorded"
[ "$(grep -cx end events)" = 2 ] || fail "expected two end entries (aborted, then completed)"
[ "$(grep -cx start events)" = 1 ] || fail "a second transcript start"
grep '"event":"resume"' out/transcript.jsonl | grep -q "\"ceremony_sha256\":\"$(sha256sum ceremony.yaml | cut -c1-64)\"" || fail "resume entry lacks the file's SHA-256"
grep -c '"event":"time-confirmed"' out/transcript.jsonl | grep -qx 2 || fail "the time check was not repeated"
grep -c '"event":"operators"' out/transcript.jsonl | grep -qx 2 || fail "the people check was not repeated"
[ "$(grep -c '"event":"key-generated"' out/transcript.jsonl)" = 2 ] || fail "a key was generated again"
"$OFFCA" ceremony verify out/transcript.jsonl --ca out/root.pem > verify.out || { cat verify.out; fail "the resumed transcript does not verify"; }
grep -q "status     completed" verify.out || fail "resumed transcript not completed: $(cat verify.out)"
grep -q "resumed    1 time after an abort" verify.out || fail "verify does not say the ceremony was resumed"
openssl verify -x509_strict -CAfile out/root.pem out/intermediate.pem >/dev/null || fail "openssl verify of the intermediate"
[ -s out/transcript.pdf ] || fail "no PDF after the resumed ceremony"
pass "resumed at step 4: one transcript, chain continued, abort + resumption recorded, verifies with --ca; intermediate verifies"

expect_fail "resume of a completed ceremony" "$OFFCA" ceremony resume out/transcript.jsonl --home "$HOME_DIR"
expect_err_match "not aborted: nothing to resume"
# the verifier refuses a resume entry whose file hash differs from the start's (hand-made chain)
python3 - out/transcript.jsonl <<'PY'
import hashlib, json, sys
lines = open(sys.argv[1]).read().splitlines()
out = []
for l in lines:
    e = json.loads(l)
    if e["event"] == "resume":
        e["data"]["ceremony_sha256"] = "0" * 64
    out.append(e)
prev = out[0]["prev"]
for e in out:
    e["prev"] = prev
    e.pop("hash", None)
    e["hash"] = hashlib.sha256(json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
    prev = e["hash"]
open("forged.jsonl", "w").write("".join(json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n" for e in out))
PY
expect_fail "verify of a resumption with another file's hash" "$OFFCA" ceremony verify forged.jsonl --no-ca --no-outputs
pass "a completed ceremony is not resumed; verify refuses a resumption of another file"
