#!/usr/bin/env bash
# offca-acme failure cases against pebble + BIND9: wrong TXT (challenge fails), DNS server down,
# bad TSIG key/secret/algorithm, a world-readable secret, nonce rejection. Each: one clear line,
# non-zero exit, no TXT record left behind.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_SRC/tests/lib/acme_env.sh"
A=${OFFCA_ACME:?}
[ -x "$A" ] || { echo "skip: offca-acme not built" >&2; exit 77; }
acme_env_start
S=$T/state
"$A" --state "$S" --ca-bundle "$ACME_CA_BUNDLE" account new --directory "$ACME_DIR" >/dev/null
DNSARGS=(--dns rfc2136 --dns-server "$DNS_SERVER" --tsig-key "$TSIG_NAME" --tsig-secret-file "$TSIG_SECRET_FILE")

# a hook that publishes the wrong TXT value: the CA must refuse, the record must go away
cat > "$T/wrong.sh" <<HOOK
#!/bin/sh
op=\$1 name=\$2 value=\$3
printf 'server 127.0.0.1 $DNS_PORT\nzone $DNS_ZONE\nupdate %s %s 60 TXT "wrong-%s"\nsend\n' \
  "\$( [ "\$op" = add ] && echo add || echo delete )" "\$name" "\$value" |
  nsupdate -y "hmac-sha256:$TSIG_NAME:\$(cat "$TSIG_SECRET_FILE")"
HOOK
chmod 700 "$T/wrong.sh"
expect_fail "wrong TXT value" "$A" --state "$S" --poll-timeout 30 issue --domain bad.example.test --generate-key --dns-hook "$T/wrong.sh"
expect_err_match 'dns-01 challenge for bad.example.test failed: unauthorized'
acme_no_stray_txt bad.example.test
[ ! -e "$S/live/bad.example.test" ] || fail "outputs written for a failed order"

# DNS server down (nothing listens on that port)
dead=$(acme_port)
expect_fail "DNS server down" "$A" --state "$S" issue --domain down.example.test --generate-key --dns rfc2136 \
  --dns-server "127.0.0.1:$dead" --tsig-key "$TSIG_NAME" --tsig-secret-file "$TSIG_SECRET_FILE"
expect_err_match "127.0.0.1:$dead"
acme_no_stray_txt down.example.test

# wrong TSIG secret -> BADSIG named, nothing published
(umask 077; openssl rand -base64 32 > "$T/wrong.secret")
expect_fail "wrong TSIG secret" "$A" --state "$S" issue --domain k.example.test --generate-key --dns rfc2136 \
  --dns-server "$DNS_SERVER" --tsig-key "$TSIG_NAME" --tsig-secret-file "$T/wrong.secret"
expect_err_match 'BADSIG|refused|TSIG'
# unknown key name
expect_fail "unknown TSIG key" "$A" --state "$S" issue --domain k.example.test --generate-key --dns rfc2136 \
  --dns-server "$DNS_SERVER" --tsig-key nosuchkey --tsig-secret-file "$TSIG_SECRET_FILE"
expect_err_match 'BADKEY|NOTAUTH|REFUSED|TSIG'
# hmac-sha512 with a key named for sha256 -> refused, never a silent fallback
expect_fail "TSIG algorithm mismatch" "$A" --state "$S" issue --domain k.example.test --generate-key "${DNSARGS[@]}" --tsig-algorithm hmac-sha512
expect_err_match 'hmac-sha512'
expect_fail "TSIG algorithm name must be exact" "$A" --state "$S" issue --domain k.example.test --generate-key "${DNSARGS[@]}" --tsig-algorithm hmac-md5
expect_err_match 'must be exactly hmac-sha256 or hmac-sha512'
acme_no_stray_txt k.example.test

# a TSIG secret readable by others is refused
cp "$TSIG_SECRET_FILE" "$T/open.secret"; chmod 644 "$T/open.secret"
expect_fail "world-readable secret" "$A" --state "$S" issue --domain p.example.test --generate-key --dns rfc2136 \
  --dns-server "$DNS_SERVER" --tsig-key "$TSIG_NAME" --tsig-secret-file "$T/open.secret"
expect_err_match 'readable by others'

# propagation never happens (the hook "succeeds" without publishing): bounded wait
printf '#!/bin/sh\nexit 0\n' > "$T/noop.sh"; chmod 700 "$T/noop.sh"
expect_fail "propagation timeout" "$A" --state "$S" issue --domain late.example.test --generate-key \
  --dns-hook "$T/noop.sh" --dns-server "$DNS_SERVER" --propagation-timeout 2
expect_err_match 'not served by .* after 2 s'

# a failing hook
printf '#!/bin/sh\nexit 3\n' > "$T/fail.sh"; chmod 700 "$T/fail.sh"
expect_fail "failing hook" "$A" --state "$S" issue --domain f.example.test --generate-key --dns-hook "$T/fail.sh"
expect_err_match 'DNS hook .* failed \(exit 3\)'

# CSRs go through core's strict intake before anything is ordered
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=c.example.test \
  -addext subjectAltName=DNS:c.example.test -keyout "$T/c.key" -out "$T/c.csr" 2>/dev/null
cat "$T/c.csr" "$T/c.csr" > "$T/two.csr"
expect_fail "CSR with two PEM blocks" "$A" --state "$S" issue --csr "$T/two.csr" "${DNSARGS[@]}"
expect_err_match 'policy csr-pem-count'
openssl req -in "$T/c.csr" -outform DER -out "$T/c.der"
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[-10]^=1; open(sys.argv[2],"wb").write(b)' "$T/c.der" "$T/bad.der"
expect_fail "CSR with a bad signature" "$A" --state "$S" issue --csr "$T/bad.der" "${DNSARGS[@]}"
expect_err_match 'csr-signature|signature'
acme_no_stray_txt c.example.test

# usage errors
expect_fail "no DNS method" "$A" --state "$S" issue --domain x.example.test --generate-key
expect_fail "bad name" "$A" --state "$S" issue --domain 'bad..name' --generate-key "${DNSARGS[@]}"
expect_fail "no account" "$A" --state "$T/empty" issue --domain x.example.test --generate-key "${DNSARGS[@]}"
expect_err_match 'no ACME account'

# the TSIG secret defaults to STATE/dns/tsig.secret (0600)
expect_fail "default secret file missing" "$A" --state "$S" issue --domain d.example.test --generate-key --dns rfc2136 \
  --dns-server "$DNS_SERVER" --tsig-key "$TSIG_NAME"
expect_err_match 'dns/tsig.secret'
mkdir -p "$S/dns"; (umask 077; cp "$TSIG_SECRET_FILE" "$S/dns/tsig.secret")
"$A" --state "$S" issue --domain d.example.test --generate-key --dns rfc2136 --dns-server "$DNS_SERVER" \
  --tsig-key "$TSIG_NAME" >/dev/null 2>&1 || fail "issue with the default TSIG secret file"
acme_no_stray_txt d.example.test
pass "default TSIG secret file under the state dir"

# a state directory others may write to is refused
chmod 777 "$S"
expect_fail "world-writable state dir" "$A" --state "$S" list
expect_err_match 'writable by others'
chmod 700 "$S"

# one offca-acme per state directory: a second one (e.g. the timer's renew) refuses to run
if command -v flock >/dev/null 2>&1; then
  flock --no-fork "$S/lock" sleep 30 & lockpid=$!; e2e_bg "$lockpid"
  for i in $(seq 1 200); do flock -n "$S/lock" true 2>/dev/null || break; sleep 0.1; done
  expect_fail "state locked" "$A" --state "$S" renew
  expect_err_match 'another offca-acme is working on'
  kill "$lockpid" 2>/dev/null || true; wait "$lockpid" 2>/dev/null || true
fi

# stopped mid-way (systemd stop / kill: SIGTERM to the whole process group) while waiting for
# propagation: the DNS process outlives the main process and removes what was published
setsid "$A" --state "$S" issue --domain term.example.test --generate-key --dns-hook "$T/wrong.sh" \
  --dns-server "$DNS_SERVER" --propagation-timeout 60 >/dev/null 2>&1 &
tpid=$!
for i in $(seq 1 300); do [ -n "$(acme_txt _acme-challenge.term.example.test)" ] && break; sleep 0.1; done
[ -n "$(acme_txt _acme-challenge.term.example.test)" ] || fail "term test: record never published"
kill -TERM -- "-$tpid" 2>/dev/null || kill -TERM "$tpid"
wait "$tpid" 2>/dev/null && fail "stopped issuance exited 0"
for i in $(seq 1 150); do [ -z "$(acme_txt _acme-challenge.term.example.test)" ] && break; sleep 0.1; done
acme_no_stray_txt term.example.test
pass "SIGTERM to the process group mid-issuance: records removed"

# pebble rejecting a quarter of good nonces: badNonce is retried, the order still succeeds
kill "$PEBBLE_PID"; wait "$PEBBLE_PID" 2>/dev/null || true
ACME_NONCEREJECT=25 acme_env_pebble
S2=$T/state2
"$A" --state "$S2" --ca-bundle "$ACME_CA_BUNDLE" account new --directory "$ACME_DIR" >/dev/null || fail "account new under nonce rejection"
"$A" --state "$S2" --verbose issue --domain n1.example.test --domain n2.example.test --generate-key "${DNSARGS[@]}" \
  > "$T/nonce.out" 2>&1 || fail "issue under nonce rejection: $(tail -n1 "$T/nonce.out")"
# make sure rejections really happened (each request is rejected with p=0.25): a few more requests
for i in $(seq 1 30); do
  grep -q badNonce "$T/nonce.out" && break
  "$A" --state "$S2" --verbose account show >> "$T/nonce.out" 2>&1 || fail "account show under nonce rejection"
done
n=$(grep -c badNonce "$T/nonce.out" || true)
[ "$n" -ge 1 ] || fail "pebble never rejected a nonce"
pass "nonce rejection survived ($n badNonce retries)"
acme_no_stray_txt n1.example.test n2.example.test bad.example.test down.example.test late.example.test

# renew from a timer when the DNS server is gone: non-zero exit (systemd marks the unit failed),
# one line naming the certificate, the old certificate untouched; without --force: exit 0
before=$(openssl x509 -in "$S2/live/n1.example.test/cert.pem" -noout -serial)
"$A" --state "$S2" renew --all > "$T/r0.out" || fail "renew with nothing due exited $?"
kill "$NAMED_PID"; wait "$NAMED_PID" 2>/dev/null || true
set +e
"$A" --state "$S2" renew --all --force > "$T/r1.out" 2> "$T/r1.err"; code=$?
set -e
[ "$code" -ne 0 ] || fail "renew with the DNS server down exited 0"
grep -q 'n1.example.test: renewal failed' "$T/r1.err" || fail "renew error: $(cat "$T/r1.err")"
[ "$(openssl x509 -in "$S2/live/n1.example.test/cert.pem" -noout -serial)" = "$before" ] || fail "old certificate replaced"
pass "renew with DNS down -> exit $code: $(head -n1 "$T/r1.err")"
