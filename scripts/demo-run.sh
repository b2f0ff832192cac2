#!/usr/bin/env bash
# The demo itself, given the offca binary: scripts/demo-run.sh PATH/TO/offca [DEMO_DIR]
# Everything happens in DEMO_DIR (a new temp dir by default) with its own SoftHSM2 token store.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OFFCA=$(readlink -f "$1")
DEMO=${2:-$(mktemp -d /tmp/offca-demo.XXXXXX)}
mkdir -p "$DEMO"; chmod 700 "$DEMO"; DEMO=$(cd "$DEMO" && pwd)
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

# --- tokens: a private SoftHSM2 store, never the system one -----------------------------------
export SOFTHSM2_CONF="$DEMO/softhsm2.conf"
mkdir -p "$DEMO/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$DEMO" > "$SOFTHSM2_CONF"
MODULE=""
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so; do [ -e "$m" ] && { MODULE=$m; break; }; done
export OFFCA_PKCS11_MODULE=$MODULE

step "Two SoftHSM2 tokens stand in for the root and intermediate YubiKeys ($DEMO/tokens)"
softhsm2-util --init-token --free --label demo-root --so-pin 87654321 --pin 123456 >/dev/null
softhsm2-util --init-token --free --label demo-int --so-pin 87654321 --pin 654321 >/dev/null
run "$OFFCA" token list

step "A CA home on the air-gapped machine"
export OFFCA_HOME="$DEMO/ca"
run "$OFFCA" init --home "$OFFCA_HOME"

# --- the endpoint (online side) makes its own key and CSR: the key never travels ---------------
step "The endpoint makes its key and CSR, and shows the CSR as QR codes"
mkdir -p "$DEMO/endpoint"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$DEMO/endpoint/web.key" \
  -subj "/CN=www.demo.test" -addext "subjectAltName=DNS:www.demo.test,DNS:demo.test" \
  -out "$DEMO/endpoint/web.csr" 2>/dev/null
run "$OFFCA" qr encode "$DEMO/endpoint/web.csr" --out-dir "$DEMO/qr-in"

step "The air-gapped machine reads the QR images; the CSR waits in the pending queue"
run "$OFFCA" qr decode "$DEMO"/qr-in/*.png --import
run "$OFFCA" pending list

# --- the ceremony ----------------------------------------------------------------------------
step "The ceremony: root key and certificate, intermediate, signing session (non-interactive)"
(umask 077; printf 'module: %s\npins:\n  root: "123456"\n  int: "654321"\n' "$MODULE" > "$DEMO/credentials.yaml")
cp "$HERE/demo/ceremony.yaml" "$DEMO/ceremony.yaml"
( cd "$DEMO" && run "$OFFCA" ceremony run ceremony.yaml --answers "$HERE/demo/answers.yaml" \
    --credentials credentials.yaml )
OUT="$DEMO/ceremony-out"
CERT=$(ls "$OUT"/certs/*.pem | head -n1)

step "Anyone can check the transcript (hash chain, signatures, output files)"
run "$OFFCA" ceremony verify "$OUT/transcript.jsonl" --ca "$OUT/root.pem"

# --- the certificate goes back across the gap as a signed bundle --------------------------------
step "The certificate leaves as a bundle signed by the intermediate's key on its token"
(umask 077; echo 654321 > "$DEMO/int.pin")
run "$OFFCA" bundle export --out "$DEMO/outbox.offca" --pin-file "$DEMO/int.pin"
rm -f "$DEMO/int.pin"

step "Online side: verify the bundle against the root it trusts, unpack it, verify the certificate"
run "$OFFCA" bundle verify "$DEMO/outbox.offca" --ca "$OUT/root.pem"
run "$OFFCA" bundle extract "$DEMO/outbox.offca" --out-dir "$DEMO/online" --ca "$OUT/root.pem"
run openssl verify -x509_strict -purpose sslserver -CAfile "$OUT/root.pem" -untrusted "$OUT/intermediate.pem" "$CERT"
run "$OFFCA" list
run "$OFFCA" audit verify

# --- delivery: the package an operator hands over, and the GitOps artifact -----------------------
step "Delivery: the certificate as a certbot layout, and as a SOPS/age-encrypted Kubernetes Secret"
SERIAL=$(openssl x509 -in "$CERT" -noout -serial | cut -d= -f2)
run "$OFFCA" export "$SERIAL" --layout certbot --out-dir "$DEMO/delivery"
# the cluster's age identity lives on the online side; only its public recipient comes here
age-keygen -o "$DEMO/cluster-age-identity.txt" 2>/dev/null
RECIPIENT=$(age-keygen -y "$DEMO/cluster-age-identity.txt")
run "$OFFCA" export "$SERIAL" --k8s-secret www-demo-tls --namespace web --sops --age "$RECIPIENT" \
  --out "$DEMO/delivery/www-demo-tls.sops.yaml"

# --- pattern 4: an endpoint enrolls by itself through the EST gateway ---------------------------
BIN=$(dirname "$OFFCA")/..
GATEWAY=${OFFCA_GATEWAY:-$BIN/gateway/offca-gateway}
AGENT=${OFFCA_AGENT:-$BIN/agent/offca-agent}
if [ -x "$GATEWAY" ] && [ -x "$AGENT" ]; then
  step "Online side: offca-gateway (EST) with a TLS certificate and an operator key from this CA"
  G=$DEMO/gateway
  mkdir -p "$G"
  (umask 077; echo 654321 > "$DEMO/int.pin")
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$G/tls.key" -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -out "$G/tls.csr" 2>/dev/null
  run "$OFFCA" sign --csr "$G/tls.csr" --profile server --days 30 --out "$G/tls.crt" --pin-file "$DEMO/int.pin"
  cat "$G/tls.crt" "$OUT/intermediate.pem" > "$G/tls-fullchain.pem"
  cat "$OUT/intermediate.pem" "$OUT/root.pem" > "$G/ca-chain.pem"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$G/op.key" -subj "/CN=demo gateway" \
    -days 30 -out "$G/op.pem" 2>/dev/null
  run "$OFFCA" bundle enroll-operator "$G/op.pem" --name gateway
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$GATEWAY" serve --state "$G/state" --listen "127.0.0.1:$PORT" --tls-cert "$G/tls-fullchain.pem" \
    --tls-key "$G/tls.key" --ca-chain "$G/ca-chain.pem" --retry-after 5 2> "$G/gateway.log" &
  GW_PID=$!
  trap 'kill $GW_PID 2>/dev/null || true' EXIT
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
  run "$GATEWAY" token new --state "$G/state" --san api.demo.test --profile server --ttl 1h --out "$G/api.token"

  step "The endpoint enrolls: it pins the root by fingerprint; the request waits for the offline CA (exit 75)"
  FP=$(openssl x509 -in "$OUT/root.pem" -noout -fingerprint -sha256 | cut -d= -f2)
  enroll() { "$AGENT" enroll --server "https://127.0.0.1:$PORT" --root-sha256 "$FP" --token-file "$G/api.token" \
    --san api.demo.test --out-dir "$DEMO/endpoint/api"; }
  printf '$ offca-agent enroll --server https://127.0.0.1:%s --root-sha256 %s ...\n' "$PORT" "$FP"
  rc=0; enroll || rc=$?
  [ "$rc" = 75 ] || { echo "expected the request to wait (75), got $rc" >&2; exit 1; }

  step "The queue crosses the gap: export, import on the CA (provenance kept), sign, export back"
  run "$GATEWAY" queue export --state "$G/state" --out "$DEMO/est-in.offca" --sign-key-file "$G/op.key" --signer-cert "$G/op.pem"
  run "$OFFCA" bundle import "$DEMO/est-in.offca" --require-signed
  run "$OFFCA" pending list
  mkdir -p "$DEMO/est-issued"
  run "$OFFCA" sign --pending-all --profile requested --days 30 --out-dir "$DEMO/est-issued" --pin-file "$DEMO/int.pin"
  run "$OFFCA" bundle export --out "$DEMO/est-out.offca" --pin-file "$DEMO/int.pin"
  run "$GATEWAY" queue import --state "$G/state" "$DEMO/est-out.offca"

  step "The endpoint polls again: the certificate is checked and installed (certbot names)"
  printf '$ offca-agent enroll ... (again)\n'
  enroll
  run ls -l "$DEMO/endpoint/api"
  run openssl verify -CAfile "$OUT/root.pem" -untrusted "$DEMO/endpoint/api/chain.pem" "$DEMO/endpoint/api/cert.pem"
  rm -f "$DEMO/int.pin"
  kill $GW_PID 2>/dev/null || true
fi

step "Where everything is"
cat <<EOT
  tokens (SoftHSM2)        $DEMO/tokens
  CA home (store, audit)   $OFFCA_HOME
  ceremony transcript      $OUT/transcript.jsonl
  transcript PDF           $OUT/transcript.pdf
  root / intermediate      $OUT/root.pem  $OUT/intermediate.pem
  issued certificate       $CERT
  QR frames of the CSR     $DEMO/qr-in/
  signed outbound bundle   $DEMO/outbox.offca  (unpacked in $DEMO/online/)
  certbot layout           $DEMO/delivery/www.demo.test/  (cert, chain, fullchain, ca.crt, metadata, README)
  SOPS Secret for GitOps   $DEMO/delivery/www-demo-tls.sops.yaml  (age identity: $DEMO/cluster-age-identity.txt)
  EST gateway state        $DEMO/gateway/state  (endpoint's certificate in $DEMO/endpoint/api/)
EOT
