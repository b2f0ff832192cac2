#!/usr/bin/env bash
# e2e: offca export --k8s-secret / --k8s-configmap equal, byte for byte, what kubectl prints for
# the same files (`kubectl create secret generic --type=kubernetes.io/tls`, `kubectl create
# configmap`, --dry-run=client -o yaml), and field for field `kubectl create secret tls` (tls.crt,
# type, metadata) except tls.key, which stays with the endpoint that made the key. No API server
# (kubectl apply needs one, even with --dry-run=client: not run here).
source "$(dirname "$0")/../lib/e2e.sh"
source "$(dirname "$0")/../lib/export_env.sh"
need kubectl
need python3
export_env_ca
S=$(export_env_leaf web "DNS:web.example.com,DNS:www.example.com")
"$OFFCA" export "$S" --layout certbot --out-dir "$T/l" >/dev/null
L="$T/l/web.example.com"
export KUBECONFIG="$T/kubeconfig" # none: kubectl must not look for a cluster

for ns in "" prod; do
  nsarg=(); [ -n "$ns" ] && nsarg=(--namespace "$ns")
  "$OFFCA" export "$S" --k8s-secret web-tls "${nsarg[@]}" --out "$T/secret$ns.yaml" || fail "export --k8s-secret"
  kubectl create secret generic web-tls --type=kubernetes.io/tls --from-file=ca.crt="$L/ca.crt" \
    --from-file=tls.crt="$L/fullchain.pem" --from-literal=tls.key= "${nsarg[@]}" --dry-run=client -o yaml > "$T/kgen$ns.yaml"
  cmp "$T/secret$ns.yaml" "$T/kgen$ns.yaml" || fail "Secret differs from kubectl's (ns '$ns'): $(diff "$T/secret$ns.yaml" "$T/kgen$ns.yaml" | head -5)"
  kubectl create secret tls web-tls --cert "$L/fullchain.pem" --key "$T/web.key" "${nsarg[@]}" --dry-run=client -o json > "$T/ktls$ns.json"
  python3 - "$T/secret$ns.yaml" "$T/ktls$ns.json" "$L/ca.crt" <<'PY' || fail "Secret fields differ from kubectl create secret tls (ns '$ns')"
import base64, json, sys, yaml
ours = yaml.safe_load(open(sys.argv[1])); k = json.load(open(sys.argv[2]))
for f in ("apiVersion", "kind", "type", "metadata"):
    assert ours[f] == k[f], (f, ours[f], k[f])
assert ours["data"]["tls.crt"] == k["data"]["tls.crt"]
assert set(ours["data"]) == {"tls.crt", "tls.key", "ca.crt"} and ours["data"]["tls.key"] == ""
assert base64.b64decode(ours["data"]["ca.crt"]) == open(sys.argv[3], "rb").read()
PY
  "$OFFCA" export "$S" --k8s-configmap web-ca "${nsarg[@]}" > "$T/cm$ns.yaml" || fail "export --k8s-configmap"
  kubectl create configmap web-ca --from-file=ca.crt="$L/ca.crt" "${nsarg[@]}" --dry-run=client -o yaml > "$T/kcm$ns.yaml"
  cmp "$T/cm$ns.yaml" "$T/kcm$ns.yaml" || fail "ConfigMap differs from kubectl's: $(diff "$T/cm$ns.yaml" "$T/kcm$ns.yaml" | head -5)"
done
pass "Secret and ConfigMap equal kubectl's output byte for byte (with and without a namespace)"

expect_fail "bad object name" "$OFFCA" export "$S" --k8s-secret Web_TLS
expect_err_match "not a Kubernetes object name"
expect_fail "bad namespace" "$OFFCA" export "$S" --k8s-secret web --namespace a.b
expect_fail "existing output" "$OFFCA" export "$S" --k8s-secret web-tls --out "$T/secret.yaml"
cmp -s "$T/secret.yaml" "$T/kgen.yaml" || fail "existing output changed"
expect_fail "namespace without an object" "$OFFCA" export "$S" --layout certbot --out-dir "$T/x" --namespace prod
expect_fail "--all-valid with a Secret" "$OFFCA" export --all-valid --k8s-secret web
pass "bad names, existing output, misplaced options refused"
