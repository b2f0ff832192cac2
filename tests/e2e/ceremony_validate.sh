#!/usr/bin/env bash
# Validation: a ceremony file full of mistakes gets one message per problem (each naming its field
# path), including the world checks (an existing key label, an existing output, an absent token,
# an unknown issuer), and `ceremony run` on it touches nothing. Every docs/examples/*.yaml
# validates (one per step type). YAML syntax errors give the line; credentials must be 0600.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_TEST_DATA/ceremonies/lib.sh"

e2e_token cer-root 123456
"$OFFCA" token keygen --token pkcs11:token=cer-root --label existing-label --type ec-p256 --pin-file "$T/cer-root.pin" >/dev/null
cer_home
cd "$T"
cp "$CER_DATA/mistakes.yaml" .
mkdir out && echo keep > out/exists.pem

expect_fail "validate a file full of mistakes" "$OFFCA" ceremony validate mistakes.yaml --home "$HOME_DIR"
missing=0
while IFS= read -r rx; do
  [ -n "$rx" ] || continue
  if ! grep -Eq "^offca: mistakes.yaml: ($rx)" "$T/last.err"; then echo "missing message: /$rx/" >&2; missing=1; fi
done < "$CER_DATA/mistakes.expected"
[ $missing = 0 ] || { cat "$T/last.err"; fail "not every problem was reported"; }
n=$(grep -c "^offca: mistakes.yaml: " "$T/last.err")
[ "$n" -ge "$(grep -c . "$CER_DATA/mistakes.expected")" ] || fail "only $n messages"
pass "every problem reported, one line each ($n lines)"

expect_fail "run refuses the same file" "$OFFCA" ceremony run mistakes.yaml --home "$HOME_DIR"
grep -q "steps\[0\].key.type: must be one of" "$T/last.err" || fail "run did not list the problems"
grep -q "nothing was touched" "$T/last.err" || fail "run did not say nothing was touched"
[ ! -e out/transcript.jsonl ] || fail "a transcript was created for an invalid file"
[ "$(cat out/exists.pem)" = keep ] || fail "an existing output was touched"
pass "run on an invalid file touches nothing"

# YAML syntax error: line and column
printf 'version: 1\nname: "x\nsteps: [\n' > broken.yaml
expect_fail "YAML syntax error" "$OFFCA" ceremony validate broken.yaml --offline
expect_err_match "line [0-9]+, column [0-9]+"

# credentials readable by others are refused
printf 'module: %s\npins:\n  root: "123456"\n' "$SOFTHSM_MODULE" > creds.yaml; chmod 644 creds.yaml
expect_fail "credentials file with mode 0644" "$OFFCA" ceremony validate "$OFFCA_SRC/docs/examples/root-key.yaml" --offline --credentials creds.yaml
expect_err_match "readable by others"

# every example in docs/examples validates, and there is one per step type
types=""
for f in "$OFFCA_SRC"/docs/examples/*.yaml; do
  grep -q '^steps:' "$f" || continue
  "$OFFCA" ceremony validate "$f" --offline > v.out 2>&1 || { cat v.out; fail "docs example $(basename "$f") does not validate"; }
  types="$types $(grep -E '^  - type: ' "$f" | awk '{print $3}')"
done
for t in root-key root-cert intermediate-key intermediate-cert sign-intermediate-csr crl signing-session ocsp-responses; do
  echo "$types" | tr ' ' '\n' | grep -qx "$t" || fail "no docs example uses step type $t"
  [ -f "$OFFCA_SRC/docs/examples/$t.yaml" ] || fail "docs/examples/$t.yaml missing"
done
pass "docs/examples: every file validates, one example per step type"
"$OFFCA" ceremony --help | grep -q "ceremony run FILE" || fail "--help"
