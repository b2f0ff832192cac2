#!/usr/bin/env bash
# offca sign on a terminal (issue 17): through a real pty it shows what it is about to sign (count,
# issuer, profile, validity, each subject and SANs; a long batch summarised with the first and last
# few) and signs only after "yes": "no" signs nothing (no certificate recorded, no file, no serial
# used). --yes skips the question; without a terminal (stdin a file) sign is unchanged.
source "$(dirname "$0")/../lib/e2e.sh"
need openssl
PTY=(python3 "$OFFCA_SRC/tests/lib/pty_drive.py")
export OFFCA_HOME="$T/home"
e2e_token rootca
RP="$T/rootca.pin"
"$OFFCA" init >/dev/null
RK=$("$OFFCA" token keygen --token "pkcs11:token=rootca" --label root --type ec-p256 --pin-file "$RP")
"$OFFCA" ca root --key "$RK" --subject "CN=Confirm Root,O=offca tests" --days 3650 --pin-file "$RP" --out "$T/root.pem" >/dev/null
cd "$T"
csr() { openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "/CN=$1" \
  -addext "subjectAltName=DNS:$1" -out "$2" 2>/dev/null; }
csr one.example.test one.csr
count() { "$OFFCA" list 2>/dev/null | grep -c "CN=" || true; }
before=$(count)

cat > no.script <<'S'
expect About to sign 1 certificate
expect issuer +'[^']+'
expect profile +server
expect validity +30 days from now \(until about [0-9-]+ UTC\)
expect subject +CN=one\.example\.test
expect SANs +DNS:one\.example\.test
expect Type yes to sign; anything else signs nothing:
send no
S
if "${PTY[@]}" no.script -- "$OFFCA" sign --csr one.csr --profile server --days 30 --pin-file "$RP" --out one.pem > no.out 2>&1; then
  cat no.out; fail "sign answered no succeeded"
fi
grep -q "not 'yes': nothing signed" no.out || { cat no.out; fail "the refusal does not say nothing was signed"; }
[ ! -e one.pem ] || fail "a certificate was written after no"
[ "$(count)" = "$before" ] || fail "a certificate was recorded after no"
pass "sign on a pty shows count, issuer, profile, validity, subject, SANs; 'no' signs nothing"

cat > yes.script <<'S'
expect About to sign 1 certificate
expect Type yes to sign
send yes
S
"${PTY[@]}" yes.script -- "$OFFCA" sign --csr one.csr --profile server --days 30 --pin-file "$RP" --out one.pem > yes.out 2>&1 \
  || { cat yes.out; fail "sign answered yes failed"; }
openssl verify -CAfile root.pem one.pem >/dev/null || fail "the certificate signed after yes does not verify"
pass "'yes' signs"

# a batch of 20: the first and last five shown, the middle summarised
for i in $(seq -w 1 20); do csr "h$i.example.test" "h$i.csr"; done
cat > many.script <<'S'
expect About to sign 20 certificates
expect h01\.example\.test
expect h05\.example\.test
expect \.\.\.  10 more
expect h16\.example\.test
expect h20\.example\.test
expect Type yes to sign
send no
S
"${PTY[@]}" many.script -- "$OFFCA" sign --csr h*.csr --profile server --pin-file "$RP" --out-dir "$T" > many.out 2>&1 && fail "batch answered no succeeded"
grep -q "h08.example.test" many.out && fail "the middle of a long batch was listed"
ls "$T"/*.pem | grep -vq "root.pem\|one.pem" && fail "a batch certificate was written after no"
pass "a batch of 20 is summarised (first and last five) and 'no' signs none"

# --yes on a terminal and no terminal at all: no question
cat > y.script <<'S'
timeout 30
S
csr two.example.test two.csr
"${PTY[@]}" y.script -- "$OFFCA" sign --yes --csr two.csr --profile server --pin-file "$RP" --out two.pem > y.out 2>&1 \
  || { cat y.out; fail "sign --yes on a pty"; }
grep -q "About to sign" y.out && fail "--yes still asked"
csr three.example.test three.csr
"$OFFCA" sign --csr three.csr --profile server --pin-file "$RP" --out three.pem < /dev/null > nt.out 2>&1 || { cat nt.out; fail "sign without a terminal"; }
grep -q "About to sign" nt.out && fail "sign without a terminal asked"
[ -s two.pem ] && [ -s three.pem ] || fail "--yes / no-terminal certificates missing"
pass "--yes and no terminal: no question, signed as before"
