# tests/lib/acme_env.sh - start a private pebble (ACME test CA) and a private BIND9 (named) on
# 127.0.0.1 with unique ports, configs in the test's temp dir. Source after tests/lib/e2e.sh
# (needs $T, e2e_bg, fail). Also usable by bench/acme_bench.sh (it defines T/e2e_bg itself).
#
# After acme_env_start:
#   ACME_DIR        https://127.0.0.1:PORT/dir      (pebble's directory)
#   ACME_MGMT       https://127.0.0.1:PORT          (pebble's management interface)
#   ACME_CA_BUNDLE  file with the test CA that signed pebble's TLS certificate
#   DNS_PORT        named's port on 127.0.0.1; DNS_SERVER=127.0.0.1:$DNS_PORT
#   DNS_ZONE        example.test (TSIG key "offca-test" hmac-sha256 may update it), with
#                   _acme-challenge.cn.example.test CNAME cn.acme.example.test.
#   DNS_ZONE2       delegated.test (a second zone on the same server, same key)
#   TSIG_NAME, TSIG_SECRET_FILE (0600, base64 secret), TSIG_ALG (hmac-sha256)
#   TSIG512_NAME, TSIG512_SECRET_FILE (a second key, hmac-sha512)
# Environment knobs: ACME_NONCEREJECT (default 0), PEBBLE_EAB=1 (require EAB with kid-1,
# key in $T/eab.key).

# acme_env_user : the unprivileged user offca-acme drops to when started as root (made if missing)
acme_env_user() {
  getent passwd offca-acme >/dev/null && return 0
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin offca-acme 2>/dev/null ||
    getent passwd offca-acme >/dev/null || fail "cannot create the user offca-acme"
}

# Started as root, offca-acme switches every process to the user offca-acme, which could not read
# this test's root-owned 0700 temp dir: the ACME tests run as that user instead (as the systemd
# unit does), and tests/e2e/acme_sandbox.sh checks the switch itself. Set ACME_ENV_STAY_ROOT=1
# to stay root (that test, the benchmark).
if [ "$(id -u)" = 0 ] && [ "${ACME_ENV_STAY_ROOT:-0}" != 1 ] && [ -z "${ACME_ENV_AS_USER:-}" ]; then
  acme_env_user
  rm -rf "$T"
  trap - EXIT
  ACME_ENV_AS_USER=1 HOME=/tmp exec setpriv --reuid=offca-acme --regid=offca-acme --init-groups bash "$0" "$@"
fi

acme_free_port() {
  python3 -c 'import socket
s=socket.socket(); s.bind(("127.0.0.1",0)); u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
p=s.getsockname()[1]
try:
  u.bind(("127.0.0.1",p)); print(p)
except OSError:
  print(0)'
}

acme_port() {
  local p=0
  while [ "$p" = 0 ]; do p=$(acme_free_port); done
  echo "$p"
}

# acme_wait_tcp PORT : wait (bounded) until something listens on 127.0.0.1:PORT
acme_wait_tcp() {
  local i
  for i in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

acme_env_certs() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=offca test TLS CA" -keyout "$T/tls-ca.key" -out "$T/tls-ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$T/pebble.key" -out "$T/pebble.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$T/pebble.ext"
  openssl x509 -req -in "$T/pebble.csr" -CA "$T/tls-ca.pem" -CAkey "$T/tls-ca.key" -CAcreateserial \
    -days 2 -extfile "$T/pebble.ext" -out "$T/pebble.pem" 2>/dev/null
  ACME_CA_BUNDLE=$T/tls-ca.pem
}

# one attempt; returns non-zero when named did not come up (e.g. the port was taken meanwhile)
acme_env_named_once() {
  DNS_PORT=$(acme_port)
  DNS_SERVER=127.0.0.1:$DNS_PORT
  DNS_ZONE=example.test
  DNS_ZONE2=delegated.test
  TSIG_NAME=offca-test
  TSIG_ALG=hmac-sha256
  mkdir -p "$T/named"
  local secret
  secret=$(openssl rand -base64 32)
  (umask 077; printf '%s\n' "$secret" > "$T/tsig.secret")
  TSIG_SECRET_FILE=$T/tsig.secret
  local secret512
  secret512=$(openssl rand -base64 64 | tr -d '\n')
  (umask 077; printf '%s\n' "$secret512" > "$T/tsig512.secret")
  TSIG512_NAME=offca-test-512
  TSIG512_SECRET_FILE=$T/tsig512.secret
  cat > "$T/named/named.conf" <<EOF
options {
  directory "$T/named";
  pid-file "$T/named/named.pid";
  session-keyfile "$T/named/session.key";
  listen-on port $DNS_PORT { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  allow-query { 127.0.0.1; };
  notify no;
  dnssec-validation no;
};
controls { };
key "$TSIG_NAME" { algorithm $TSIG_ALG; secret "$secret"; };
key "$TSIG512_NAME" { algorithm hmac-sha512; secret "$secret512"; };
zone "$DNS_ZONE" {
  type primary;
  file "$T/named/$DNS_ZONE.zone";
  allow-update { key "$TSIG_NAME"; key "$TSIG512_NAME"; };
};
zone "$DNS_ZONE2" {
  type primary;
  file "$T/named/$DNS_ZONE2.zone";
  allow-update { key "$TSIG_NAME"; };
};
EOF
  cat > "$T/named/$DNS_ZONE2.zone" <<EOF
\$TTL 60
@ IN SOA ns1.$DNS_ZONE. hostmaster.$DNS_ZONE. 1 60 60 600 1
@ IN NS ns1.$DNS_ZONE.
EOF
  cat > "$T/named/$DNS_ZONE.zone" <<EOF
\$TTL 60
@ IN SOA ns1.$DNS_ZONE. hostmaster.$DNS_ZONE. 1 60 60 600 1
@ IN NS ns1.$DNS_ZONE.
ns1 IN A 127.0.0.1
www IN A 127.0.0.1
; delegated validation: the challenge for cn.$DNS_ZONE is a CNAME to a name under acme. (BIND
; without recursion does not chase CNAMEs into its other zones, and pebble asks it directly)
_acme-challenge.cn IN CNAME cn.acme.$DNS_ZONE.
EOF
  named -g -c "$T/named/named.conf" >"$T/named/named.log" 2>&1 &
  NAMED_PID=$!
  e2e_bg "$NAMED_PID"
  local i
  for i in $(seq 1 100); do
    kill -0 "$NAMED_PID" 2>/dev/null || return 1
    if dig +short +time=1 +tries=1 -p "$DNS_PORT" @127.0.0.1 SOA "$DNS_ZONE" 2>/dev/null | grep -q hostmaster; then
      return 0
    fi
    sleep 0.1
  done
  kill "$NAMED_PID" 2>/dev/null || true
  return 1
}

acme_env_named() {
  local try
  for try in 1 2 3; do
    acme_env_named_once && return 0
    wait "$NAMED_PID" 2>/dev/null || true
  done
  cat "$T/named/named.log" >&2
  fail "named did not start"
}

# one attempt; returns non-zero when pebble did not come up (e.g. a port was taken meanwhile)
acme_env_pebble_once() {
  local port mport
  port=$(acme_port)
  mport=$(acme_port)
  local eab=""
  if [ "${PEBBLE_EAB:-0}" = 1 ]; then
    (umask 077; printf 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W\n' > "$T/eab.key")
    eab='"externalAccountBindingRequired": true, "externalAccountMACKeys": {"kid-1": "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"},'
  else
    eab='"externalAccountBindingRequired": false,'
  fi
  cat > "$T/pebble.json" <<EOF
{ "pebble": {
  "listenAddress": "127.0.0.1:$port",
  "managementListenAddress": "127.0.0.1:$mport",
  "certificate": "$T/pebble.pem",
  "privateKey": "$T/pebble.key",
  "httpPort": $(acme_port),
  "tlsPort": $(acme_port),
  $eab
  "ocspResponderURL": ""
} }
EOF
  PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=${ACME_NONCEREJECT:-0} PEBBLE_AUTHZREUSE=0 \
    PEBBLE_VA_ALWAYS_VALID=0 PEBBLE_ALTERNATE_ROOTS=${ACME_ALT_ROOTS:-1} \
    pebble -config "$T/pebble.json" -dnsserver "127.0.0.1:$DNS_PORT" >"$T/pebble.log" 2>&1 &
  PEBBLE_PID=$!
  e2e_bg "$PEBBLE_PID"
  acme_wait_tcp "$port" && acme_wait_tcp "$mport" || { kill "$PEBBLE_PID" 2>/dev/null; return 1; }
  # the ports must be pebble's, not another test's that grabbed them first
  sleep 0.2
  kill -0 "$PEBBLE_PID" 2>/dev/null || return 1
  ACME_DIR=https://127.0.0.1:$port/dir
  ACME_MGMT=https://127.0.0.1:$mport
  curl -sf --cacert "$ACME_CA_BUNDLE" "$ACME_DIR" | grep -q newNonce || { kill "$PEBBLE_PID" 2>/dev/null; return 1; }
}

acme_env_pebble() {
  local try
  for try in 1 2 3; do
    acme_env_pebble_once && return 0
    wait "$PEBBLE_PID" 2>/dev/null || true
  done
  cat "$T/pebble.log" >&2
  fail "pebble did not start"
}

acme_env_start() {
  need pebble; need named; need dig; need openssl; need python3
  acme_env_certs
  acme_env_named
  acme_env_pebble
}

# acme_txt NAME : TXT records at named for NAME (one per line, empty if none)
acme_txt() { dig +short +time=2 +tries=1 -p "$DNS_PORT" @127.0.0.1 TXT "$1"; }

# acme_no_stray_txt : fail if any _acme-challenge TXT remains in the zone (AXFR from named is not
# allowed; we query the names the tests use)
acme_no_stray_txt() {
  local n
  for n in "$@"; do
    [ -z "$(acme_txt "_acme-challenge.$n")" ] || fail "stray TXT left at _acme-challenge.$n: $(acme_txt "_acme-challenge.$n")"
  done
}

# acme_cert_status SERIALHEX : pebble's view of a certificate ("Valid"/"Revoked")
acme_cert_status() {
  curl -s --cacert "$ACME_CA_BUNDLE" "$ACME_MGMT/cert-status-by-serial/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Status"])'
}
