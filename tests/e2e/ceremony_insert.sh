#!/usr/bin/env bash
# Tokens that come and go: a token marked insert: when-needed is asked for ("Insert token X now")
# and the ceremony goes on when it appears; one that never comes aborts after --token-wait; a
# token pulled between steps (through a real pty) aborts the next step with nothing released.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_TEST_DATA/ceremonies/lib.sh"
cd "$T"
cat > late.yaml <<'YAML'
version: 1
name: "Late token"
output-dir: out-late
administrator: "Ada"
witnesses: ["Wendy"]
tokens:
  late: { uri: "pkcs11:token=late-token", insert: when-needed, description: "still in the safe" }
steps:
  - type: intermediate-key
    token: late
    key: { label: late-key, type: ec-p256 }
    outputs: { public-key: late.pem }
YAML
cer_creds creds.yaml late=123456 root=123456 int=654321
printf '"*": "yes"\n' > yes.yaml

"$OFFCA" ceremony validate late.yaml --credentials creds.yaml > v.out 2>&1 || { cat v.out; fail "when-needed token must not be required at validation"; }
"$OFFCA" ceremony run late.yaml --answers yes.yaml --credentials creds.yaml --token-wait 30 --no-pdf > late.out 2>&1 &
pid=$!; e2e_bg $pid
for _ in $(seq 1 100); do grep -q "Insert token 'late'" late.out && break; sleep 0.2; done
grep -q "Insert token 'late' (pkcs11:token=late-token) now" late.out || { cat late.out; fail "not asked to insert the token"; }
grep -q "still in the safe" late.out || fail "token description not shown"
# "insert" the token: made in a staging token store, then moved into place in one rename
mkdir -p "$T/staging/tokens"
printf 'directories.tokendir = %s/staging/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" > "$T/staging/softhsm2.conf"
SOFTHSM2_CONF="$T/staging/softhsm2.conf" softhsm2-util --init-token --free --label late-token --so-pin 12345678 --pin 123456 >/dev/null
mv "$T/staging/tokens/"* "$T/tokens/"
wait $pid || { cat late.out; fail "ceremony did not go on after the token was inserted"; }
[ -s out-late/late.pem ] || fail "no key after insertion"
grep -q '"event":"token-inserted"' out-late/transcript.jsonl || fail "insertion not recorded"
pass "insert token X now: the ceremony waits and goes on when the token arrives"

sed -e 's/late-token/never-token/' -e 's/out-late/out-never/' late.yaml > never.yaml
expect_fail "a token that never comes" "$OFFCA" ceremony run never.yaml --answers yes.yaml --credentials creds.yaml --token-wait 2 --no-pdf
grep -q "was not inserted within 2 s" "$T/last.err" || fail "timeout reason: $(cat "$T/last.err")"
grep '"event":"end"' out-never/transcript.jsonl | grep -q aborted || fail "transcript not aborted"
pass "a token that never comes aborts after --token-wait"

e2e_token cer-root 123456
e2e_token cer-int 654321
cer_home
cp "$CER_DATA/root-int.yaml" pulled.yaml
if "${PTY[@]}" "$CER_DATA/pty-pulled.script" -- "$OFFCA" ceremony run pulled.yaml --home "$HOME_DIR" --token-wait 2 --no-pdf > pulled.out 2>&1; then
  fail "a pulled token should abort"
fi
grep -q "ABORTED at step 2" pulled.out || { cat pulled.out; fail "no abort"; }
[ -s out/root-key.pub.pem ] && [ ! -e out/root.pem ] || fail "step 1 output missing or step 2 output released"
grep '"event":"abort"' out/transcript.jsonl | grep -q "not inserted" || fail "abort reason"
# the root key stayed open after step 1; the missing token closed it before the wait
grep '"event":"token-missing"' out/transcript.jsonl | grep -q '"token":"root"' || fail "open keys not closed for the missing token"
"$OFFCA" ceremony verify out/transcript.jsonl --no-ca > /dev/null || fail "aborted transcript does not verify"
pass "a token pulled between steps aborts the next step; nothing released"

# a when-needed token inserted while the root key is open (logged in since step 1): the module is
# reloaded to see it (the open keys are closed), the ceremony goes on, the root logs in once more
softhsm2-util --delete-token --token cer-root >/dev/null 2>&1 || true
softhsm2-util --delete-token --token cer-int >/dev/null 2>&1 || true
e2e_token cer-root 123456
rm -rf "$T/home"; cer_home
mkdir -p "$T/mid" && cd "$T/mid"
sed 's|int: { uri: "pkcs11:token=cer-int" }|int: { uri: "pkcs11:token=cer-int", insert: when-needed }|' "$CER_DATA/root-int.yaml" > mid.yaml
grep -q when-needed mid.yaml || fail "test setup: when-needed not set"
"$OFFCA" ceremony run mid.yaml --home "$HOME_DIR" --answers ../yes.yaml --credentials ../creds.yaml --token-wait 30 \
  --no-pdf > mid.out 2>&1 &
pid=$!; e2e_bg $pid
for _ in $(seq 1 150); do grep -q "Insert token 'int'" mid.out && break; sleep 0.2; done
grep -q "Insert token 'int'" mid.out || { cat mid.out; fail "not asked to insert the intermediate token"; }
rm -rf "$T/staging/tokens"; mkdir -p "$T/staging/tokens"
SOFTHSM2_CONF="$T/staging/softhsm2.conf" softhsm2-util --init-token --free --label cer-int --so-pin 12345678 --pin 654321 >/dev/null
mv "$T/staging/tokens/"* "$T/tokens/"
wait $pid || { cat mid.out; fail "ceremony did not go on after the intermediate token arrived"; }
[ -s out/intermediate.pem ] || fail "no intermediate certificate"
grep '"event":"token-missing"' out/transcript.jsonl | grep -q '"token":"int"' || fail "open keys not closed before the wait"
[ "$(grep '"event":"login"' out/transcript.jsonl | grep -c '"token":"root"')" = 2 ] || fail "the root should log in exactly twice"
"$OFFCA" ceremony verify out/transcript.jsonl --ca out/root.pem > /dev/null || fail "transcript not signed by the root key"
openssl verify -CAfile out/root.pem out/intermediate.pem > /dev/null || fail "intermediate does not chain to the root"
pass "a token inserted mid-ceremony: module reloaded, root logged in again once, ceremony completed"
