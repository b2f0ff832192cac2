#!/usr/bin/env bash
# EST bad input: a used, expired or revoked token, a re-enrollment with other names, a client
# certificate from another CA, a revoked client certificate (CRL from the CA's export), an oversized
# or garbage CSR, a queue bundle not signed by the pinned CA, a gateway answer for another key or
# with a wrong chain or older than the installed one, the gateway down mid-renewal: each refused
# with one clear line; the gateway keeps serving and the endpoint keeps its working certificate.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_SRC/tests/lib/est_env.sh"
need python3
est_ca
est_gateway_start
EST=$GW_URL/.well-known/est
C=(curl -sS --cacert "$T/root.pem")

mkcsr() { # mkcsr NAME SAN... : $T/NAME.key, $T/NAME.b64
  local n=$1 sans; shift; sans=$(printf 'DNS:%s,' "$@"); sans=${sans%,}
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$n.key" -subj "/CN=$1" \
    -addext "subjectAltName=$sans" -outform DER -out "$T/$n.der" 2>/dev/null || fail "csr $n"
  base64 -w 64 "$T/$n.der" > "$T/$n.b64"
}
post() { "${C[@]}" -H 'Content-Type: application/pkcs10' --data-binary @"$1" -o "$T/answer.txt" -w '%{http_code}' "${@:3}" "$EST/$2"; }
# refused CODE REGEX WHAT : the last answer had status CODE and a body matching REGEX, the gateway
#   logged the refusal with its reason, and it still serves
refused() {
  [ "$code" = "$1" ] || fail "$3: HTTP $code (expected $1): $(cat "$T/answer.txt")"
  grep -Eq "$2" "$T/answer.txt" || fail "$3: answer '$(cat "$T/answer.txt")' does not match /$2/"
  grep -q "refused 127.0.0.1 POST .* $1 " "$T/gw.log" || fail "$3: refusal not logged"
  "${C[@]}" -o /dev/null "$EST/cacerts" || fail "$3: the gateway stopped serving"
  pass "$3 -> $1 $(head -n1 "$T/answer.txt")"
}

# ---- tokens ----
tok=$(est_token server a.example.test); IFS=: read -r id sec < "$tok"
mkcsr a a.example.test; mkcsr a2 a.example.test; mkcsr other other.example.test
code=$(post "$T/other.b64" simpleenroll -u "$id:$sec"); refused 403 "does not allow the name DNS:other.example.test" "name outside the token"
code=$(post "$T/a.b64" simpleenroll -u "$id:wrongsecret"); refused 403 "wrong secret" "wrong token secret"
code=$(post "$T/a.b64" simpleenroll); refused 401 "needs a token" "no token"
code=$(post "$T/a.b64" simpleenroll -u "$id:$sec"); [ "$code" = 202 ] || fail "good enrollment: $code"
code=$(post "$T/a2.b64" simpleenroll -u "$id:$sec"); refused 403 "already used" "used token"
tok2=$("$GATEWAY" token new --state "$GW_STATE" --san b.example.test --profile server --ttl 1s); IFS=: read -r id2 sec2 <<<"$tok2"
mkcsr b b.example.test; sleep 2
code=$(post "$T/b.b64" simpleenroll -u "$id2:$sec2"); refused 403 "has expired" "expired token"
tok3=$(est_token server c.example.test); IFS=: read -r id3 sec3 < "$tok3"
gw_cmd token revoke "$id3" >/dev/null || fail "token revoke"
mkcsr c c.example.test
code=$(post "$T/c.b64" simpleenroll -u "$id3:$sec3"); refused 403 "is revoked" "revoked token"
# the same refusals through offca-agent: one line, exit 3, nothing installed, no request left waiting
# agent_refused DIR REGEX WHAT : the last agent run (stderr in $T/last.err) was refused so
agent_refused() {
  [ "$rc" -eq 3 ] || fail "$3: agent exit $rc (expected 3): $(cat "$T/last.err")"
  [ "$(grep -c . "$T/last.err")" = 1 ] || fail "$3: one error line expected: $(cat "$T/last.err")"
  grep -Eq "$2" "$T/last.err" || fail "$3: '$(cat "$T/last.err")' does not match /$2/"
  [ ! -e "$1/cert.pem" ] && [ ! -e "$1/pending" ] || fail "$3: $1 holds $(ls "$1")"
  pass "$3 -> $(cat "$T/last.err")"
}
set +e; "$AGENT" enroll --server "$GW_URL" --root-sha256 "$ROOT_FP" --token-file "$tok" --san a.example.test \
  --out-dir "$T/ep-used" >/dev/null 2>"$T/last.err"; rc=$?; set -e
agent_refused "$T/ep-used" "refused the request \(HTTP 403\): .*already used" "agent enroll with a used token"
printf '%s\n' "$tok2" > "$T/tok2"; chmod 600 "$T/tok2"
set +e; "$AGENT" enroll --server "$GW_URL" --root-sha256 "$ROOT_FP" --token-file "$T/tok2" --san b.example.test \
  --out-dir "$T/ep-expired" >/dev/null 2>"$T/last.err"; rc=$?; set -e
agent_refused "$T/ep-expired" "refused the request \(HTTP 403\): .*has expired" "agent enroll with an expired token"
# tokens for a fleet: one transaction, N files 0600, never overwritten
before=$(gw_cmd token list | wc -l)
gw_cmd token new --san f.example.test --profile client --ttl 1h --count 3 --out-dir "$T/fleet" >/dev/null || fail "token new --count"
[ "$(gw_cmd token list | wc -l)" -eq $((before + 3)) ] || fail "token new --count 3 made $(($(gw_cmd token list | wc -l) - before))"
[ "$(stat -c %a "$T/fleet/token-000003")" = 600 ] || fail "fleet token file mode"
expect_fail "token new --count over existing files" gw_cmd token new --san f.example.test --profile client --ttl 1h \
  --count 3 --out-dir "$T/fleet"
expect_err_match "exists"
[ "$(gw_cmd token list | wc -l)" -eq $((before + 3)) ] || fail "a refused --count made tokens"
expect_fail "token new with a bad profile" gw_cmd token new --san x.example.test --profile ca --ttl 1h
expect_fail "token new with a bad ttl" gw_cmd token new --san x.example.test --profile server --ttl forever

# ---- CSR bodies ----
head -c 20000 /dev/urandom | base64 -w 64 > "$T/big.b64"
code=$(post "$T/big.b64" simpleenroll -u "$id:$sec"); refused 413 "too large" "oversized CSR"
printf 'this is not a CSR\n' > "$T/garbage.b64"
code=$(post "$T/garbage.b64" simpleenroll -u "$id:$sec"); refused 400 "not base64" "garbage CSR"
head -c 300 /dev/urandom | base64 -w 64 > "$T/junk.b64"
code=$(post "$T/junk.b64" simpleenroll -u "$id:$sec"); refused 400 "csr" "random DER as CSR"

# ---- an endpoint enrolled by the agent, for the re-enrollment cases ----
D=$T/endpoint
tokd=$(est_token server d.example.test)
agent_enroll() { "$AGENT" enroll --server "$GW_URL" --root-sha256 "$ROOT_FP" --token-file "$tokd" --san d.example.test --out-dir "$D"; }
agent_enroll >/dev/null 2>&1 || true
est_cross
agent_enroll > "$T/enroll.out" 2>&1 || fail "agent enroll: $(cat "$T/enroll.out")"
cp "$D/cert.pem" "$T/installed.pem"
cat "$D/cert.pem" "$D/chain.pem" > "$T/d-chain.pem"
still_working() { # the installed certificate is unchanged and valid
  cmp -s "$D/cert.pem" "$T/installed.pem" || fail "$1: the installed certificate changed"
  openssl verify -CAfile "$T/root.pem" -untrusted "$D/chain.pem" "$D/cert.pem" >/dev/null || fail "$1: installed cert invalid"
  [ "$(openssl x509 -in "$D/cert.pem" -noout -pubkey)" = "$(openssl pkey -in "$D/privkey.pem" -pubout)" ] || fail "$1: key mismatch"
}

mkcsr d2 d.example.test evil.example.test
code=$(post "$T/d2.b64" simplereenroll --cert "$T/d-chain.pem" --key "$D/privkey.pem")
refused 403 "must keep the subjectAltNames" "re-enrollment with other names"

# a client certificate from another CA (same names)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/evil-ca.key" -subj "/CN=EST Test Root" \
  -days 30 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -out "$T/evil-ca.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/evil.key" -subj /CN=d.example.test \
  -out "$T/evil.csr" 2>/dev/null
printf 'subjectAltName=DNS:d.example.test\n' > "$T/evil.ext"
openssl x509 -req -in "$T/evil.csr" -CA "$T/evil-ca.pem" -CAkey "$T/evil-ca.key" -days 10 -extfile "$T/evil.ext" \
  -out "$T/evil.pem" 2>/dev/null
mkcsr d3 d.example.test
code=$(post "$T/d3.b64" simplereenroll --cert "$T/evil.pem" --key "$T/evil.key")
refused 403 "client certificate refused" "client certificate from another CA"

# ---- a queue bundle not signed by the pinned CA ----
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/evil-int.key" -subj "/CN=evil int" \
  -out "$T/evil-int.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' > "$T/ca.ext"
openssl x509 -req -in "$T/evil-int.csr" -CA "$T/evil-ca.pem" -CAkey "$T/evil-ca.key" -days 10 -extfile "$T/ca.ext" \
  -out "$T/evil-int.pem" 2>/dev/null
cat "$T/evil-int.pem" "$T/evil-ca.pem" > "$T/evil-chain.pem"
"$OFFCA" bundle create --out "$T/evil.offca" --direction out --sign-key-file "$T/evil-int.key" \
  --signer-cert "$T/evil-chain.pem" "$T/evil.pem" >/dev/null || fail "craft the foreign bundle"
expect_fail "queue bundle signed by another CA" gw_cmd queue import "$T/evil.offca"
expect_err_match "does not chain|pinned"
gw_cmd queue export --out "$T/in-again.offca" --sign-key-file "$T/op.key" --signer-cert "$T/op.pem" --all >/dev/null 2>&1 || true
"$OFFCA" bundle create --out "$T/unsigned.offca" "$T/evil.csr" >/dev/null || fail "unsigned bundle"
expect_fail "unsigned inbound bundle as a queue answer" gw_cmd queue import "$T/unsigned.offca"
expect_err_match "not an outbound bundle signed by the CA"
still_working "foreign bundles"

# ---- hostile answers to the agent (a fake gateway with a TLS certificate from the pinned CA) ----
FP_PORT=$(acme_port)
fake() { # fake ANSWER_B64 : serve it for every request
  python3 "$OFFCA_TEST_DATA/est/fake_est.py" "$FP_PORT" "$T/gw-fullchain.pem" "$T/gw.key" "$1" & e2e_bg $!; FAKE_PID=$!
  acme_wait_tcp "$FP_PORT" || fail "fake gateway"
}
p7() { cat "$@" | openssl crl2pkcs7 -nocrl -certfile /dev/stdin -outform DER | base64 -w 64; }
# an answer for another key: the gateway's own certificate
p7 "$T/gw.crt" "$T/int.pem" > "$T/other-key.b64"
fake "$T/other-key.b64"
set +e; "$AGENT" run --out-dir "$D" --renew-at 0 --server "https://127.0.0.1:$FP_PORT" > "$T/run.out" 2>&1; rc=$?; set -e
[ $rc -eq 4 ] && grep -q "no certificate for this endpoint's key" "$T/run.out" && [ "$(grep -c . "$T/run.out")" = 1 ] || fail "answer for another key: rc $rc $(cat "$T/run.out")"
still_working "answer for another key"; pass "agent refuses an answer for another key (exit 4)"
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null || true
# a wrong chain: a certificate for the endpoint's pending key, issued by another CA
openssl pkey -in "$D/pending/key.pem" -pubout -out "$T/pending.pub"
openssl x509 -new -force_pubkey "$T/pending.pub" -subj /CN=d.example.test -CA "$T/evil-ca.pem" -CAkey "$T/evil-ca.key" \
  -days 10 -extfile "$T/evil.ext" -out "$T/wrongchain.pem" 2>/dev/null || fail "wrong-chain certificate"
p7 "$T/wrongchain.pem" "$T/evil-ca.pem" > "$T/wrongchain.b64"
fake "$T/wrongchain.b64"
set +e; "$AGENT" run --out-dir "$D" --server "https://127.0.0.1:$FP_PORT" > "$T/run.out" 2>&1; rc=$?; set -e
[ $rc -eq 4 ] && grep -q "does not chain to the pinned root" "$T/run.out" && [ "$(grep -c . "$T/run.out")" = 1 ] || fail "wrong chain: rc $rc $(cat "$T/run.out")"
still_working "wrong chain"; pass "agent refuses an answer with a wrong chain (exit 4)"
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null || true
# rollback: the installed certificate itself, for a --reuse-key renewal
rm -rf "$D/pending"
p7 "$D/cert.pem" "$D/chain.pem" > "$T/same.b64"
fake "$T/same.b64"
set +e; "$AGENT" run --out-dir "$D" --renew-at 0 --reuse-key --server "https://127.0.0.1:$FP_PORT" > "$T/run.out" 2>&1; rc=$?; set -e
[ $rc -eq 4 ] && grep -q "rollback refused" "$T/run.out" && [ "$(grep -c . "$T/run.out")" = 1 ] || fail "rollback: rc $rc $(cat "$T/run.out")"
still_working "rollback"; pass "agent refuses a rollback to the installed certificate (exit 4)"
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null || true
rm -rf "$D/pending"

# ---- the gateway down mid-renewal ----
est_gateway_stop
set +e; "$AGENT" run --out-dir "$D" --renew-at 0 > "$T/run.out" 2>"$T/last.err"; rc=$?; set -e
[ $rc -eq 5 ] || fail "gateway down: rc $rc $(cat "$T/last.err")"
[ "$(grep -c . "$T/last.err")" = 1 ] || fail "gateway down: one error line expected: $(cat "$T/last.err")"
still_working "gateway down"; pass "gateway down at the start of a renewal: exit 5, the working certificate kept -> $(cat "$T/last.err")"
est_gateway_start
set +e; "$AGENT" run --out-dir "$D" > "$T/run.out" 2>&1; rc=$?; set -e
[ $rc -eq 75 ] || fail "after the gateway came back: rc $rc $(cat "$T/run.out")"
pass "the same renewal resumes once the gateway is back (202)"
# down again while that renewal waits for the CA (after its 202): the poll fails, the request is kept
csr_before=$(sha256sum < "$D/pending/csr.der")
est_gateway_stop
set +e; "$AGENT" run --out-dir "$D" > "$T/run.out" 2>"$T/last.err"; rc=$?; set -e
[ $rc -eq 5 ] || fail "gateway down while waiting: rc $rc $(cat "$T/last.err")"
[ "$(grep -c . "$T/last.err")" = 1 ] || fail "gateway down while waiting: one error line expected: $(cat "$T/last.err")"
[ "$(sha256sum < "$D/pending/csr.der")" = "$csr_before" ] || fail "gateway down while waiting: the waiting request changed"
still_working "gateway down while waiting"
est_gateway_start
set +e; "$AGENT" run --out-dir "$D" > "$T/run.out" 2>&1; rc=$?; set -e
[ $rc -eq 75 ] && [ "$(sha256sum < "$D/pending/csr.der")" = "$csr_before" ] || fail "poll after the restart: rc $rc $(cat "$T/run.out")"
pass "gateway down after the 202: exit 5 -> $(cat "$T/last.err"); the same request polled again once it is back"

# ---- a revoked client certificate (the CRL comes back with the CA's export) ----
serial=$(openssl x509 -in "$D/cert.pem" -noout -serial | cut -d= -f2)
"$OFFCA" revoke "$serial" --reason keyCompromise >/dev/null || fail "offca revoke"
est_cross
[ "$(gw_cmd queue list | grep -c issued)" -ge 1 ] || true
rm -rf "$D/pending"
mkcsr d4 d.example.test
code=$(post "$T/d4.b64" simplereenroll --cert "$T/d-chain.pem" --key "$D/privkey.pem")
refused 403 "revoked" "revoked client certificate"
set +e; "$AGENT" run --out-dir "$D" --renew-at 0 > "$T/run.out" 2>"$T/last.err"; rc=$?; set -e
[ $rc -eq 3 ] || fail "agent renewal with a revoked certificate: rc $rc $(cat "$T/last.err")"
[ "$(grep -c . "$T/last.err")" = 1 ] && grep -q "refused the request (HTTP 403): .*revoked" "$T/last.err" \
  || fail "agent renewal with a revoked certificate: $(cat "$T/last.err")"
[ ! -e "$D/pending" ] || fail "a refused renewal left its request waiting"
still_working "revoked client certificate"; pass "agent renewal with a revoked certificate: exit 3 -> $(cat "$T/last.err")"

# ---- the rate limit per client address (default 20 requests/s, burst 40) ----
urls=(); for _ in $(seq 120); do urls+=("$EST/cacerts"); done
"${C[@]}" -o /dev/null -w '%{http_code}\n' "${urls[@]}" > "$T/codes.txt" || true
grep -q '^429$' "$T/codes.txt" || fail "no 429 after 120 requests at once: $(sort "$T/codes.txt" | uniq -c)"
grep -q '^200$' "$T/codes.txt" || fail "the first requests should pass"
grep -q "429 rate limit" "$T/gw.log" || fail "rate refusals not logged"
sleep 2
"${C[@]}" -o /dev/null "$EST/cacerts" || fail "the client is served again after a pause"
pass "rate limit: $(grep -c '^429$' "$T/codes.txt") of 120 requests at once refused with 429, served again after a pause"
