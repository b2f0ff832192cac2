#!/usr/bin/env bash
# Pattern 4 end to end on 127.0.0.1: a gateway with a token; offca-agent enrolls and gets 202; the
# queue crosses the gap as bundles (export -> offca bundle import -> sign --pending-all --profile
# requested -> bundle export -> queue import); the agent's next poll installs the certificate; nginx
# serves it and curl --cacert root connects. Then renewal with mutual TLS: a new key, the old one no
# longer used, the deploy hook run once per install and never on failure.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_SRC/tests/lib/est_env.sh"
need nginx
est_ca
est_gateway_start

D=$T/endpoint
tok=$(est_token server web.example.test)
[ "$(stat -c %a "$tok")" = 600 ] || fail "token file mode"
gw_cmd token list | grep -Eq "unused +server" || fail "token list: $(gw_cmd token list)"
enroll() { "$AGENT" enroll --server "$GW_URL" --root-sha256 "$ROOT_FP" --token-file "$tok" --san web.example.test \
  --out-dir "$D" --deploy-hook "echo hook >> $T/hook.log" "$@"; }

set +e; enroll > "$T/enroll1.out" 2>&1; rc=$?; set -e
[ $rc -eq 75 ] || fail "first enroll should wait (75), got $rc: $(cat "$T/enroll1.out")"
grep -q "waits for the offline CA" "$T/enroll1.out" || fail "enroll output: $(cat "$T/enroll1.out")"
[ "$(stat -c %a "$D/pending/key.pem")" = 600 ] || fail "pending key mode"
[ ! -e "$D/cert.pem" ] || fail "nothing may be installed before the answer"
gw_cmd queue list | grep -Eq "waiting +enroll" || fail "queue list: $(gw_cmd queue list)"
gw_cmd token list | grep -Eq " used +server" || fail "token not marked used"
pass "agent enrolled: 202, request queued, token used"

est_cross
grep -q "est token=.* profile=server; bundle .* operator gateway" "$T/cross-1/pending.out" \
  || fail "pending list lacks provenance: $(cat "$T/cross-1/pending.out")"
grep -q "imported 1 certificates" "$T/cross-1/import.out" || fail "queue import: $(cat "$T/cross-1/import.out")"
pass "queue crossed the gap with its provenance; the CA signed with the requested profile"

enroll > "$T/enroll2.out" 2>&1 || fail "second enroll: $(cat "$T/enroll2.out")"
grep -q "installed certificate" "$T/enroll2.out" || fail "enroll2 output"
for f in cert.pem chain.pem fullchain.pem privkey.pem; do [ -s "$D/$f" ] || fail "$f missing"; done
[ "$(stat -L -c %a "$D/privkey.pem")" = 600 ] || fail "privkey mode"
[ ! -e "$D/pending" ] || fail "pending left behind"
openssl verify -CAfile "$T/root.pem" -untrusted "$D/chain.pem" "$D/cert.pem" >/dev/null || fail "openssl verify"
openssl x509 -in "$D/cert.pem" -noout -ext subjectAltName | grep -q "DNS:web.example.test" || fail "SAN"
openssl x509 -in "$D/cert.pem" -noout -ext extendedKeyUsage | grep -q "TLS Web Server" || fail "server profile"
[ "$(grep -c hook "$T/hook.log")" = 1 ] || fail "deploy hook should have run once"
pass "agent's next poll installed the certificate (certbot names), hook ran once"

# nginx on loopback serves it; curl trusts only the root
NG_PORT=$(acme_port)
mkdir -p "$T/nginx/logs"
cat > "$T/nginx/nginx.conf" <<NG
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log;
events { worker_connections 16; }
http {
  access_log off;
  client_body_temp_path $T/nginx/tmp; proxy_temp_path $T/nginx/tmp; fastcgi_temp_path $T/nginx/tmp;
  uwsgi_temp_path $T/nginx/tmp; scgi_temp_path $T/nginx/tmp;
  server {
    listen 127.0.0.1:$NG_PORT ssl;
    server_name web.example.test;
    ssl_certificate $D/fullchain.pem;
    ssl_certificate_key $D/privkey.pem;
    location / { return 200 "hello from the endpoint\n"; }
  }
}
NG
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -g 'daemon off;' 2>"$T/nginx/stderr" &
NG_PID=$!; e2e_bg "$NG_PID"
acme_wait_tcp "$NG_PORT" || fail "nginx did not start: $(cat "$T/nginx/stderr")"
curl -sS --cacert "$T/root.pem" --resolve "web.example.test:$NG_PORT:127.0.0.1" "https://web.example.test:$NG_PORT/" \
  | grep -q "hello from the endpoint" || fail "curl --cacert root to nginx"
pass "nginx serves the certificate; curl --cacert root connects"

# renewal with mutual TLS: not due yet, then due (--renew-at 0): a new key
"$AGENT" run --out-dir "$D" > "$T/run0.out" || fail "run (not due)"
grep -q "not due" "$T/run0.out" || fail "run should not be due: $(cat "$T/run0.out")"
old_pub=$(openssl pkey -in "$D/privkey.pem" -pubout | sha256sum)
old_serial=$(openssl x509 -in "$D/cert.pem" -noout -serial)
hook="kill -HUP \$(cat $T/nginx/nginx.pid) && echo hook >> $T/hook.log"
set +e; "$AGENT" run --out-dir "$D" --renew-at 0 --deploy-hook "$hook" > "$T/run1.out" 2>&1; rc=$?; set -e
[ $rc -eq 75 ] || fail "renewal should wait (75), got $rc: $(cat "$T/run1.out")"
gw_cmd queue list | grep -Eq "waiting +renew +serial=" || fail "renewal not queued: $(gw_cmd queue list)"
est_cross
grep -q "est renew=[0-9A-F]* profile=server" "$T/cross-2/pending.out" || fail "renewal provenance: $(cat "$T/cross-2/pending.out")"
sleep 1 # a later notBefore than the first certificate's
"$AGENT" run --out-dir "$D" --deploy-hook "$hook" > "$T/run2.out" 2>&1 || fail "renewal poll: $(cat "$T/run2.out")"
new_pub=$(openssl pkey -in "$D/privkey.pem" -pubout | sha256sum)
[ "$old_pub" != "$new_pub" ] || fail "renewal kept the old key"
[ "$(openssl x509 -in "$D/cert.pem" -noout -serial)" != "$old_serial" ] || fail "same certificate after renewal"
[ "$(grep -c hook "$T/hook.log")" = 2 ] || fail "deploy hook should have run twice"
sleep 1
served=$(openssl s_client -connect "127.0.0.1:$NG_PORT" -servername web.example.test </dev/null 2>/dev/null \
  | openssl x509 -noout -pubkey | sha256sum)
new_cert_pub=$(openssl x509 -in "$D/cert.pem" -noout -pubkey | sha256sum)
[ "$served" = "$new_cert_pub" ] || fail "nginx still serves the old key after the reload"
curl -sS --cacert "$T/root.pem" --resolve "web.example.test:$NG_PORT:127.0.0.1" "https://web.example.test:$NG_PORT/" \
  | grep -q hello || fail "curl after renewal"
pass "renewal over mutual TLS: new key, nginx reloaded by the hook serves it"

# --reuse-key keeps the key
"$AGENT" run --out-dir "$D" --renew-at 0 --reuse-key > /dev/null 2>&1 || true
est_cross
sleep 1
"$AGENT" run --out-dir "$D" > "$T/run3.out" 2>&1 || fail "reuse-key poll: $(cat "$T/run3.out")"
[ "$(openssl pkey -in "$D/privkey.pem" -pubout | sha256sum)" = "$new_pub" ] || fail "--reuse-key changed the key"
pass "--reuse-key renews with the same key"
grep -q "refused" "$T/gw.log" && fail "unexpected refusals: $(grep refused "$T/gw.log")"
true
