# tests/lib/relay_env.sh - delivery pattern 5 on 127.0.0.1: the CA and gateway of est_env.sh, an
# endpoint enrolled once through EST (then it pulls from the relay), and nginx from Debian with its
# DAV module as the relay: HTTPS on a free port, PUT/DELETE only with a client certificate from the
# CA (the uploader), GET open to endpoints. Source after tests/lib/e2e.sh. Also used by bench/.
#
# After relay_setup: everything of est_ca/est_gateway_start, D (the endpoint's agent directory),
#   $T/up.key/$T/up.crt (the uploader's client certificate), RELAY_PORT, RELAY_URL
#   (https://127.0.0.1:PORT/relay), RELAY_ROOT (the DAV directory on disk); /broken/ answers 500,
#   /garbage/ answers 200 with bytes that are no relay object, /private/ serves /relay/ only to a
#   client certificate from the CA.
# Helpers: relay_hash KEYFILE (hex SHA-256 of its SubjectPublicKeyInfo: the object name),
#   relay_push ARGS... (offca-gateway relay push with the uploader's certificate),
#   relay_pull ARGS... (offca-agent run --relay for $D), relay_renew_same_key (the CA signs a
#   new certificate for the endpoint's key), relay_nginx_start (again after relay_nginx_stop).
source "$OFFCA_SRC/tests/lib/est_env.sh"
need nginx

relay_hash() { openssl pkey -in "$1" -pubout -outform DER | sha256sum | cut -d' ' -f1; }

relay_enroll() {
  D=$T/endpoint
  local tok; tok=$(est_token mtls web.example.test)
  local enr=("$AGENT" enroll --server "$GW_URL" --root-sha256 "$ROOT_FP" --token-file "$tok" --san web.example.test --out-dir "$D")
  set +e; "${enr[@]}" > "$T/enroll1.out" 2>&1; local rc=$?; set -e
  [ $rc -eq 75 ] || fail "first enroll should wait (75), got $rc: $(cat "$T/enroll1.out")"
  est_cross
  "${enr[@]}" > "$T/enroll2.out" 2>&1 || fail "second enroll: $(cat "$T/enroll2.out")"
}

relay_nginx_start() {
  mkdir -p "$T/nginx/logs" "$T/nginx/tmp" "$RELAY_ROOT/relay"
  cat > "$T/nginx/nginx.conf" <<NG
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $T/nginx/tmp; proxy_temp_path $T/nginx/tmp; fastcgi_temp_path $T/nginx/tmp;
  uwsgi_temp_path $T/nginx/tmp; scgi_temp_path $T/nginx/tmp;
  server {
    listen 127.0.0.1:$RELAY_PORT ssl;
    ssl_certificate $T/relay-fullchain.pem;
    ssl_certificate_key $T/relay.key;
    ssl_client_certificate $T/chain.pem;
    ssl_verify_client optional;
    ssl_verify_depth 3;
    location /relay/ {
      root $RELAY_ROOT;
      dav_methods PUT DELETE;
      dav_access user:rw;
      client_max_body_size 1m;
      set \$w "";
      if (\$request_method !~ ^(GET|HEAD)\$) { set \$w "write"; }
      if (\$ssl_client_verify != SUCCESS) { set \$w "\${w}-anonymous"; }
      if (\$w = "write-anonymous") { return 403; }
    }
    location /private/ {
      alias $RELAY_ROOT/relay/;
      if (\$ssl_client_verify != SUCCESS) { return 403; }
    }
    location /broken/ { return 500 "relay failure\n"; }
    location /garbage/ { default_type application/octet-stream; return 200 "this is not a relay object\n"; }
  }
}
NG
  nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -g 'daemon off;' 2>"$T/nginx/stderr" &
  RELAY_PID=$!; e2e_bg "$RELAY_PID"
  acme_wait_tcp "$RELAY_PORT" || fail "nginx did not start: $(cat "$T/nginx/stderr" "$T/nginx/logs/error.log")"
}

relay_nginx_stop() { kill "$RELAY_PID" 2>/dev/null || true; wait "$RELAY_PID" 2>/dev/null || true; }

relay_setup() {
  est_ca
  est_gateway_start
  relay_enroll
  # the relay's TLS certificate and the uploader's client certificate, both from the CA
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/relay.key" -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -out "$T/relay.csr" 2>/dev/null || fail "relay CSR"
  "$OFFCA" sign --csr "$T/relay.csr" --profile server --days 30 --out "$T/relay.crt" --pin-file "$T/ca.pin" >/dev/null \
    || fail "sign the relay's TLS certificate"
  cat "$T/relay.crt" "$T/int.pem" > "$T/relay-fullchain.pem"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/up.key" -subj "/CN=uploader.example.test" -addext "subjectAltName=DNS:uploader.example.test" \
    -out "$T/up.csr" 2>/dev/null || fail "uploader CSR"
  "$OFFCA" sign --csr "$T/up.csr" --profile client --days 30 --out "$T/up.crt" --pin-file "$T/ca.pin" >/dev/null \
    || fail "sign the uploader's certificate"
  cat "$T/int.pem" >> "$T/up.crt"
  RELAY_PORT=$(acme_port)
  RELAY_ROOT=$T/dav
  RELAY_URL="https://127.0.0.1:$RELAY_PORT/relay"
  relay_nginx_start
}

relay_push() { "$GATEWAY" relay push --url "$RELAY_URL" --client-cert "$T/up.crt" --client-key "$T/up.key" --cacert "$T/root.pem" "$@"; }
relay_pull() { "$AGENT" run --relay "$RELAY_URL" --relay-cacert "$T/root.pem" --out-dir "$D" "$@"; }

# relay_renew_same_key : the CA signs a new certificate for the endpoint's own key (its serial in RENEWED)
relay_renew_same_key() {
  openssl req -new -key "$D/privkey.pem" -subj "/CN=web.example.test" -addext "subjectAltName=DNS:web.example.test" \
    -out "$T/renew.csr" 2>/dev/null || fail "renewal CSR"
  rm -f "$T/renewed.pem"
  sleep 1 # a later issue time than the certificate it replaces
  "$OFFCA" sign --csr "$T/renew.csr" --profile mtls --days 30 --out "$T/renewed.pem" --pin-file "$T/ca.pin" >/dev/null \
    || fail "sign the renewal"
  RENEWED=$(openssl x509 -in "$T/renewed.pem" -noout -serial | cut -d= -f2)
}
