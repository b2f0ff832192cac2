# tests/lib/est_env.sh - a CA (root + intermediate on a SoftHSM2 token, `offca ca`), an
# offca-gateway serving EST on 127.0.0.1 (free port) with a TLS certificate from that CA, and the
# gateway's operator key enrolled on the CA. Source after tests/lib/e2e.sh. Also used by bench/.
#
# After est_ca: OFFCA_HOME, $T/root.pem, $T/int.pem, $T/chain.pem (int + root), ROOT_FP (SHA-256 hex),
#   $T/ca.pin, $T/op.key/$T/op.pem (operator, enrolled as "gateway").
# After est_gateway_start [extra serve args]: GW_PORT, GW_URL (https://127.0.0.1:PORT), GW_STATE, GW_PID,
#   gateway log in $T/gw.log.
# Helpers: est_token SAN... (writes $T/token-N, echoes its path), est_cross (export -> import ->
#   sign --pending-all -> bundle export -> gateway import), gw (offca-gateway --state $GW_STATE ...).
source "$OFFCA_SRC/tests/lib/acme_env.sh"
need openssl
need curl

GATEWAY=${OFFCA_GATEWAY:-$OFFCA_BUILD/gateway/offca-gateway}
AGENT=${OFFCA_AGENT:-$OFFCA_BUILD/agent/offca-agent}

est_ca() {
  e2e_token ca
  local k
  for k in root int; do
    "$OFFCA" token keygen --token "pkcs11:token=ca" --label "$k" --type ec-p256 --pin-file "$T/ca.pin" >/dev/null \
      || fail "keygen $k"
  done
  export OFFCA_HOME="$T/home"
  "$OFFCA" init --home "$OFFCA_HOME" >/dev/null || fail "offca init"
  "$OFFCA" ca root --key "pkcs11:token=ca;object=root;type=private" --subject "CN=EST Test Root" --days 400 \
    --pin-file "$T/ca.pin" --out "$T/root.pem" >/dev/null || fail "offca ca root"
  "$OFFCA" ca intermediate --key "pkcs11:token=ca;object=int;type=private" --subject "CN=EST Test Int" --days 200 \
    --pin-file "$T/ca.pin" --out "$T/int.pem" >/dev/null || fail "offca ca intermediate"
  cat "$T/int.pem" "$T/root.pem" > "$T/chain.pem"
  # the fingerprint as offca ca show --bootstrap prints it (what offca-agent --root-sha256 takes);
  # it must be the SHA-256 openssl computes
  ROOT_FP=$("$OFFCA" ca show root --bootstrap | sed -n 's/^fingerprint: //p')
  [ "$ROOT_FP" = "$(openssl x509 -in "$T/root.pem" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)" ] \
    || fail "offca ca show root --bootstrap: fingerprint '$ROOT_FP' is not the root's SHA-256"
  # the gateway's TLS certificate, from the same CA (the agent trusts nothing else)
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/gw.key" -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -out "$T/gw.csr" 2>/dev/null || fail "gateway CSR"
  "$OFFCA" sign --csr "$T/gw.csr" --profile server --days 30 --out "$T/gw.crt" --pin-file "$T/ca.pin" >/dev/null \
    || fail "sign the gateway's TLS certificate"
  cat "$T/gw.crt" "$T/int.pem" > "$T/gw-fullchain.pem"
  # the gateway's operator key: signs the queue bundles; enrolled on the CA
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/op.key" -subj "/CN=gateway operator" \
    -days 30 -out "$T/op.pem" 2>/dev/null || fail "operator certificate"
  "$OFFCA" bundle enroll-operator "$T/op.pem" --name gateway >/dev/null || fail "enroll-operator"
}

gw() { "$GATEWAY" --state "$GW_STATE" "$@"; }
# gw_cmd GROUP VERB ARGS... : offca-gateway GROUP VERB --state $GW_STATE ARGS...
gw_cmd() { local g=$1 v=$2; shift 2; "$GATEWAY" "$g" "$v" --state "$GW_STATE" "$@"; }

est_gateway_start() {
  GW_STATE=${GW_STATE:-$T/gwstate}
  GW_PORT=${GW_PORT:-$(acme_port)} # a restart keeps the port (endpoints know the URL)
  GW_URL="https://127.0.0.1:$GW_PORT"
  "$GATEWAY" serve --state "$GW_STATE" --listen "127.0.0.1:$GW_PORT" --tls-cert "$T/gw-fullchain.pem" \
    --tls-key "$T/gw.key" --ca-chain "$T/chain.pem" --retry-after 1 "$@" >>"$T/gw.log" 2>&1 &
  GW_PID=$!
  e2e_bg "$GW_PID"
  acme_wait_tcp "$GW_PORT" || fail "gateway did not start: $(cat "$T/gw.log")"
}

est_gateway_stop() {
  kill "$GW_PID" 2>/dev/null || true
  wait "$GW_PID" 2>/dev/null || true
}

# est_token PROFILE SAN... : a new enrollment token file (0600); prints its path
est_token() {
  local prof=$1 f; shift
  f=$(mktemp -u "$T/token-XXXXXX")
  gw_cmd token new --san "$@" --profile "$prof" --ttl 1h --out "$f" >/dev/null || fail "token new"
  echo "$f"
}

EST_ROUND=0
# est_cross [PROFILE] (default: requested, the profile the gateway's provenance asks) : the air gap, both ways: queue export -> bundle import -> sign -> bundle export ->
#   queue import
est_cross() {
  local prof=${1:-requested}
  EST_ROUND=$((EST_ROUND + 1))
  local r=$T/cross-$EST_ROUND
  mkdir -p "$r/issued"
  gw_cmd queue export --out "$r/in.offca" --sign-key-file "$T/op.key" --signer-cert "$T/op.pem" >/dev/null \
    || fail "queue export: $(cat "$T/last.err" 2>/dev/null)"
  "$OFFCA" bundle import "$r/in.offca" --require-signed >/dev/null || fail "bundle import"
  "$OFFCA" pending list > "$r/pending.out" || fail "pending list"
  "$OFFCA" sign --pending-all --profile "$prof" --days 30 --out-dir "$r/issued" --pin-file "$T/ca.pin" >/dev/null \
    || fail "sign --pending-all"
  "$OFFCA" crl --out "$r/int.crl" --pin-file "$T/ca.pin" >/dev/null || fail "crl"
  "$OFFCA" bundle export --out "$r/out.offca" --since 2000-01-01 --pin-file "$T/ca.pin" >/dev/null || fail "bundle export"
  gw_cmd queue import "$r/out.offca" > "$r/import.out" || fail "queue import"
}
