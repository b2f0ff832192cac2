# tests/lib/monitoring_env.sh - sourced after e2e.sh by the monitoring tests (metrics, inventory
# export, report): mon_setup builds a CA home $H (exported as OFFCA_HOME) with a root and an
# intermediate "int" on the SoftHSM2 token "ca" (PIN file $PIN), three leaves signed by offca sign
# (h1..h3.example, serials $S1 $S2 $S3), h2 revoked (keyCompromise) and published on a CRL of int,
# and two CSRs waiting in the pending queue (one with CN "<script>alert(1)</script>", imported
# from a bundle). $SEED is the store seeding helper of bench/.
source "$(dirname "${BASH_SOURCE[0]}")/ca_setup.sh"
need python3
SEED="$OFFCA_BUILD/bench/bench_store_bench"
[ -x "$SEED" ] || { echo "skip: $SEED not built" >&2; exit 77; }

mon_setup() {
  H="$T/h"
  export OFFCA_HOME="$H"
  ca_setup "$H"
  ca_csrs 3 "$T/csr"
  local i
  for i in 1 2 3; do
    "$OFFCA" sign --csr "$T/csr/$i.csr" --profile server --pin-file "$PIN" --out "$T/h$i.pem" >/dev/null 2>&1 \
      || fail "offca sign h$i"
  done
  S1=$(openssl x509 -in "$T/h1.pem" -noout -serial | cut -d= -f2)
  S2=$(openssl x509 -in "$T/h2.pem" -noout -serial | cut -d= -f2)
  S3=$(openssl x509 -in "$T/h3.pem" -noout -serial | cut -d= -f2)
  "$OFFCA" revoke "$S2" --reason keyCompromise >/dev/null || fail "revoke h2"
  "$OFFCA" crl --issuer int --days 7 --pin-file "$PIN" --out "$T/int.crl.pem" >/dev/null 2>&1 || fail "offca crl"
  mkdir -p "$T/pend"
  openssl req -new -key "$T/csr.key" -subj '/CN=<script>alert(1)<\/script>' -out "$T/pend/evil.csr" 2>/dev/null
  openssl req -new -key "$T/csr.key" -subj '/CN=p2.example' -addext "subjectAltName=DNS:p2.example" \
    -out "$T/pend/p2.csr" 2>/dev/null
  "$OFFCA" bundle create --out "$T/in.offca" "$T/pend/evil.csr" "$T/pend/p2.csr" >/dev/null 2>&1 || fail "bundle create"
  "$OFFCA" bundle import "$T/in.offca" >/dev/null 2>&1 || fail "bundle import"
}

# mon_prom_value FILE METRIC [LABEL=VALUE] : the value (as an integer when it is one: node_exporter
# prints 1.80441896e+09) of the one series of METRIC with that label
mon_prom_value() {
  python3 - "$@" <<'PY'
import re, sys
path, metric = sys.argv[1:3]
sel = sys.argv[3] if len(sys.argv) > 3 else "="
k, v = sel.split("=", 1)
vals = []
for line in open(path):
    m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line.strip())
    if not m or m.group(1) != metric:
        continue
    labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
    if not k or labels.get(k) == v:
        vals.append(m.group(4))
if len(vals) != 1:
    sys.exit(f"{metric}{{{sel}}}: {len(vals)} series")
f = float(vals[0])
print(int(f) if f.is_integer() else vals[0])
PY
}

# mon_port : a free TCP port on 127.0.0.1
mon_port() {
  python3 -c 'import socket
s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# mon_epoch DATE : seconds since the epoch of an OpenSSL date ("Dec  7 11:28:51 2027 GMT")
mon_epoch() { date -u -d "$1" +%s; }
