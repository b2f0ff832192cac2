#!/usr/bin/env bash
# bench/relay_bench.sh - delivery pattern 5 at scale on 127.0.0.1 (SoftHSM2 CA keys). Not run by
# ctest. Figures:
#   raw       the token's raw signature rate with the issuing key (bench_raw_sign, same run)
#   publish   offca publish for N endpoints (one token signature + one ECDH per object), objects/s
#             and the ratio to the raw rate; the signed bundles (--bundle-dir) included
#   upload    offca-gateway relay push of the N objects to nginx (DAV, client certificate): first
#             (all created) and again (all unchanged)
#   pulls     GETs of objects served by the relay per second (Python client, 8 threads, keep-alive),
#             and offca-agent run --relay for one real endpoint (GET + decrypt + verify) per second
#
#   bash bench/relay_bench.sh [N]    (default 10000; N=200 is a smoke run of a few seconds)
#   build first: cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build
#   (OFFCA_BUILD=build dir; the bench programs are built here if missing)
set -euo pipefail
N=${1:-10000}
SRC=$(cd "$(dirname "$0")/.." && pwd)
export OFFCA_SRC=$SRC OFFCA_BUILD=${OFFCA_BUILD:-$SRC/build} OFFCA_TEST_DATA=$SRC/tests/data
export OFFCA=${OFFCA:-$OFFCA_BUILD/ui-cli/offca}
B=$OFFCA_BUILD
cmake --build "$B" -j2 --target offca offca-gateway offca-agent bench_raw_sign bench_relay_seed >/dev/null
source "$SRC/tests/lib/e2e.sh"
source "$SRC/tests/lib/est_env.sh"
need nginx
now() { date +%s.%N; }
secs() { python3 -c "print(round($2 - $1, 2))"; }

est_ca
INT=$("$OFFCA" ca list | awk '$1 == "*" { print $2; exit }') # the default issuer: the intermediate
[ -n "$INT" ] || fail "no default issuer in: $("$OFFCA" ca list)"
t0=$(now)
"$B/bench/bench_relay_seed" "$OFFCA_HOME" "$INT" "$N" || fail "seed"
echo "setup: $N endpoint certificates (each its own key) seeded in $(secs "$t0" "$(now)") s"

RAW=$("$B/bench/bench_raw_sign" "$OFFCA_PKCS11_MODULE" ca int "$T/ca.pin" 3)
RAW_RATE=$(echo "$RAW" | sed -n 's/.*: \([0-9.]*\)\/s wall.*/\1/p')
echo "raw: $RAW"

t0=$(now)
"$OFFCA" publish --out-dir "$T/pub" --bundle-dir "$T/bundles" --pin-file "$T/ca.pin" > "$T/pub.out" 2>"$T/pub.err" \
  || fail "publish: $(cat "$T/pub.err")"
t1=$(now)
CNT=$(ls "$T/pub" | wc -l)
NB=$(ls "$T/bundles" | wc -l)
RATE=$(python3 -c "print(round($CNT / ($t1 - $t0), 1))")
echo "publish: $CNT objects ($NB signed bundles) in $(secs "$t0" "$t1") s: $RATE objects/s," \
  "$(python3 -c "print(round(100 * $RATE / $RAW_RATE, 1))")% of the raw signature rate ($RAW_RATE/s);" \
  "$(du -sk "$T/pub" | cut -f1) KiB, $(( $(du -sb "$T/pub" | cut -f1) / CNT )) bytes per object"

# the relay: nginx with DAV on a free port, client certificates from the CA for uploads
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/relay.key" -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -out "$T/relay.csr" 2>/dev/null
"$OFFCA" sign --csr "$T/relay.csr" --profile server --days 30 --out "$T/relay.crt" --pin-file "$T/ca.pin" >/dev/null 2>&1
cat "$T/relay.crt" "$T/int.pem" > "$T/relay-fullchain.pem"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/up.key" -subj "/CN=up.bench.test" \
  -addext "subjectAltName=DNS:up.bench.test" -out "$T/up.csr" 2>/dev/null
"$OFFCA" sign --csr "$T/up.csr" --profile client --days 30 --out "$T/up.crt" --pin-file "$T/ca.pin" >/dev/null 2>&1
source "$SRC/tests/lib/relay_env.sh"
RELAY_PORT=$(acme_port); RELAY_ROOT=$T/dav; RELAY_URL="https://127.0.0.1:$RELAY_PORT/relay"
relay_nginx_start

t0=$(now)
relay_push --ca-chain "$T/chain.pem" "$T"/bundles/*.offca > "$T/push1.out" 2>&1 || fail "push: $(tail -2 "$T/push1.out")"
t1=$(now)
echo "upload: $(tail -1 "$T/push1.out") in $(secs "$t0" "$t1") s ($(python3 -c "print(round($CNT / ($t1 - $t0), 1))") objects/s)"
t0=$(now)
relay_push --ca-chain "$T/chain.pem" "$T"/bundles/*.offca > "$T/push2.out" 2>&1 || fail "push 2: $(tail -2 "$T/push2.out")"
t1=$(now)
echo "upload again: $(tail -1 "$T/push2.out") in $(secs "$t0" "$t1") s"

python3 - "$RELAY_PORT" "$T/root.pem" "$T/pub" <<'PY'
import http.client, os, random, ssl, sys, threading, time
port, root, pub = int(sys.argv[1]), sys.argv[2], sys.argv[3]
names = os.listdir(pub)
ctx = ssl.create_default_context(cafile=root)
count, stop = [0] * 8, time.time() + 5
def worker(k):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
    while time.time() < stop:
        c.request("GET", "/relay/" + random.choice(names)); r = c.getresponse(); r.read()
        assert r.status == 200, r.status
        count[k] += 1
ts = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
print("pulls: %d objects served in 5 s: %.0f GETs/s (8 keep-alive clients)" % (sum(count), sum(count) / 5))
PY

# one real endpoint: its own key and certificate, the agent's directory by hand, then pulls
EPD=$T/ep; mkdir -p "$EPD/archive/1"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$EPD/archive/1/privkey.pem" 2>/dev/null
chmod 600 "$EPD/archive/1/privkey.pem"
openssl req -new -key "$EPD/archive/1/privkey.pem" -subj "/CN=ep.bench.test" -addext "subjectAltName=DNS:ep.bench.test" \
  -out "$T/ep.csr" 2>/dev/null
"$OFFCA" sign --csr "$T/ep.csr" --profile server --days 30 --out "$EPD/archive/1/cert.pem" --pin-file "$T/ca.pin" >/dev/null 2>&1
ln -s archive/1 "$EPD/current"; cp "$T/root.pem" "$EPD/root.pem"
sleep 1 # the renewal is the newest certificate of the key by its issue time (seconds)
"$OFFCA" sign --csr "$T/ep.csr" --profile server --days 30 --out "$T/ep2.pem" --pin-file "$T/ca.pin" >/dev/null 2>&1
"$OFFCA" publish --out-dir "$T/pub-ep" --since "@$(( $(date +%s) - 2 ))" --pin-file "$T/ca.pin" >/dev/null 2>&1
relay_push "$T"/pub-ep/* >/dev/null 2>&1 || fail "push ep"
"$AGENT" run --relay "$RELAY_URL" --relay-cacert "$T/root.pem" --out-dir "$EPD" > "$T/ep1.out" 2>&1 || fail "ep pull: $(cat "$T/ep1.out")"
grep -q "installed certificate from the relay" "$T/ep1.out" || fail "ep pull: $(cat "$T/ep1.out")"
M=50; t0=$(now)
for i in $(seq $M); do "$AGENT" run --relay "$RELAY_URL" --relay-cacert "$T/root.pem" --out-dir "$EPD" >/dev/null || fail "ep pull $i"; done
t1=$(now)
echo "agent: $M runs of offca-agent run --relay (TLS, GET, decrypt, verify, 'nothing new') in $(secs "$t0" "$t1") s:" \
  "$(python3 -c "print(round($M / ($t1 - $t0), 1))")/s"
