#!/usr/bin/env bash
# Aborts at different steps, through a real pty: a declined confirmation (step 2), Ctrl-C at a PIN
# prompt (step 3), Ctrl-C at a confirmation after a key was generated (step 4) and three wrong PINs
# (step 3). Each: non-zero exit, the output of the step is not released (no file, no temp files),
# the transcript ends with "abort" + "end aborted" naming where and why, and still verifies. Then a
# CLI answers-file decline at the time check.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_TEST_DATA/ceremonies/lib.sh"
need pkcs11-tool
need pdftotext

run_abort() { # NAME SCRIPT MISSING_FILE WHERE REASON_REGEX
  local name=$1 script=$2 missing=$3 where=$4 reason=$5 d="$T/$1"
  softhsm2-util --delete-token --token cer-root >/dev/null 2>&1 || true
  softhsm2-util --delete-token --token cer-int >/dev/null 2>&1 || true
  e2e_token cer-root 123456
  e2e_token cer-int 654321
  rm -rf "$T/home"; cer_home
  mkdir -p "$d"; cd "$d"
  cp "$CER_DATA/root-int.yaml" ceremony.yaml
  if "${PTY[@]}" "$CER_DATA/$script" -- "$OFFCA" ceremony run ceremony.yaml --home "$HOME_DIR" > run.out 2>&1; then
    cat run.out; fail "$name: the ceremony should have failed"
  fi
  [ $? -ne 124 ] || { cat run.out; fail "$name: pty script timed out"; }
  [ ! -e "out/$missing" ] || fail "$name: $missing was released"
  ! ls -A out | grep -q '^\.' || fail "$name: temp files left: $(ls -A out)"
  cer_events out/transcript.jsonl > events
  tail -n 1 events | grep -qx "end" || tail -n 2 events | grep -qx "end" || fail "$name: transcript does not end with end"
  grep -qx abort events || fail "$name: no abort entry"
  grep '"event":"abort"' out/transcript.jsonl | grep -Eq "\"where\":\"$where" || fail "$name: abort entry does not say where"
  grep '"event":"abort"' out/transcript.jsonl | grep -Eq "$reason" || fail "$name: abort entry does not say why: $(grep '"event":"abort"' out/transcript.jsonl)"
  grep '"event":"end"' out/transcript.jsonl | grep -q '"status":"aborted"' || fail "$name: end status is not aborted"
  "$OFFCA" ceremony verify out/transcript.jsonl --no-ca > verify.out || { cat verify.out; fail "$name: aborted transcript does not verify"; }
  grep -q "status     aborted" verify.out || fail "$name: verify does not say aborted"
  pass "$name: aborted cleanly, $missing not released, transcript says where and why"
  cd "$T"
}

run_abort decline pty-decline.script root.pem 'step 2' 'declined at \[step2\.confirm\]'
run_abort ctrl-c pty-ctrlc.script int-key.pub.pem 'step 3' 'interrupted \(Ctrl-C, then abort\)'
grep -q '"event":"key-generated".*"label":"int-key"' "$T/ctrl-c/out/transcript.jsonl" && fail "ctrl-c: a key was generated after Ctrl-C at the PIN prompt"
run_abort ctrl-c-confirm pty-ctrlc-confirm.script intermediate.pem 'step 4' 'interrupted \(Ctrl-C, then abort\)'
# the intermediate key exists but was recorded before the abort
grep -q '"label":"int-key"' "$T/ctrl-c-confirm/out/transcript.jsonl" || fail "ctrl-c-confirm: generated key not recorded"
# the abort screen says what now exists, what did not happen and what next (issue 17)
A="$T/ctrl-c-confirm"
tr -d '\r' < "$A/run.out" > "$A/run.txt"
for want in "What now exists:" "key 'root-key' on the token: pkcs11:" "key 'int-key' on the token: pkcs11:" \
  "issuer 'test-root' recorded in the CA home" "output written: out/root.pem" "output written: out/int-key.pub.pem" \
  "What did not happen:" "step 4: intermediate-cert (intermediate-cert): nothing of it was released" \
  "offca ceremony resume out/transcript.jsonl"; do
  grep -qF "$want" "$A/run.txt" || { cat "$A/run.txt"; fail "ctrl-c-confirm: the abort screen lacks '$want'"; }
done
grep -q "step 3: .*nothing of it" "$A/run.txt" && fail "ctrl-c-confirm: the abort screen lists a finished step as not done"
# an aborted ceremony still gets its PDF, marked aborted
[ -s "$A/out/transcript-aborted-1.pdf" ] || fail "ctrl-c-confirm: no PDF of the aborted ceremony"
pdftotext "$A/out/transcript-aborted-1.pdf" "$A/aborted.txt"
grep -q "Key ceremony transcript: ABORTED" "$A/aborted.txt" || fail "ctrl-c-confirm: the PDF is not marked aborted"
pass "ctrl-c-confirm: abort screen (keys, issuer, outputs; step 4 not done; resume command) and a PDF marked ABORTED"
run_abort wrong-pin pty-wrongpin.script int-key.pub.pem 'step 3' 'wrong PIN three times'
[ "$(grep -c '"event":"pin-incorrect"' "$T/wrong-pin/out/transcript.jsonl")" = 3 ] || fail "wrong-pin: 3 pin-incorrect entries expected"
# nothing was generated on the intermediate token, and the root key (still logged in) signed the
# aborted transcript
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label cer-int --login --pin 654321 --list-objects 2>/dev/null \
  | grep -q "int-key" && fail "wrong-pin: a key was generated on the intermediate token"
"$OFFCA" ceremony verify "$T/wrong-pin/out/transcript.jsonl" --ca "$T/wrong-pin/out/root.pem" >/dev/null \
  || fail "wrong-pin: the aborted transcript is not signed by the root key"
pass "wrong-pin: nothing generated; the aborted transcript is signed by the root key (kept logged in)"

# non-interactive decline at the very start (answers file)
softhsm2-util --delete-token --token cer-root >/dev/null 2>&1 || true
e2e_token cer-root 123456
rm -rf "$T/home"; cer_home
mkdir -p "$T/ans" && cd "$T/ans"
cp "$CER_DATA/root-int.yaml" ceremony.yaml
printf 'time: "no"\n' > answers.yaml
expect_fail "answers file declining the clock" "$OFFCA" ceremony run ceremony.yaml --home "$HOME_DIR" --answers answers.yaml
expect_err_match "declined at \[time\]"
[ ! -e out/root-key.pub.pem ] || fail "a key step ran after the clock was declined"
pass "declining the date/time aborts before any token is used"

# verify says what it checked (issue 17): this transcript has no signature (no key was open)
if "$OFFCA" ceremony verify out/transcript.jsonl > v.out 2> v.err; then fail "verify without --ca or --no-ca succeeded"; fi
head -n 1 v.out | grep -q "UNSIGNED: no signature" || { cat v.out; fail "an unsigned transcript does not say so in its first line"; }
grep -q "not checked against a trusted root: give --ca" v.err || fail "verify without --ca does not say the root was not checked: $(cat v.err)"
"$OFFCA" ceremony verify out/transcript.jsonl --no-ca > v.out || fail "--no-ca should accept a consistent unsigned transcript"
head -n 1 v.out | grep -q "UNSIGNED" || fail "--no-ca hides that the transcript is unsigned"
# a signed one without --ca: says the signatures were not checked against a trusted root
if "$OFFCA" ceremony verify "$T/wrong-pin/out/transcript.jsonl" > v.out 2> v.err; then fail "verify of a signed transcript without --ca succeeded"; fi
head -n 1 v.out | grep -q "NOT checked against a trusted root (no --ca)" || { cat v.out; fail "first line does not say the root was not checked"; }
"$OFFCA" ceremony verify "$T/wrong-pin/out/transcript.jsonl" --ca "$T/wrong-pin/out/root.pem" > v.out || fail "--ca"
head -n 1 v.out | grep -q "OK, signed by the key of --ca" || fail "--ca first line"
expect_fail "--ca with --no-ca" "$OFFCA" ceremony verify out/transcript.jsonl --no-ca --ca "$T/wrong-pin/out/root.pem"
pass "verify: unsigned said first, no --ca fails unless --no-ca, --ca names the root"
