#!/usr/bin/env bash
# bench/crl_bench.sh - time to sign a CRL with N revoked entries (default 100000) on the same
# SoftHSM2 key: `offca crl` (store seeded by bench_sign_seed) and `openssl ca -gencrl` (an
# index.txt with the same serials) through the pkcs11 engine. Called by bench/sign_bench.sh,
# which sets OFFCA, B (build dir), T (its temp dir with the token, CA home and openssl ca setup),
# MODULE, ENGINE and SOFTHSM2_CONF. Not run by ctest.
set -euo pipefail
N=${1:-100000}
: "${OFFCA:?run through bench/sign_bench.sh}" "${T:?}" "${B:?}"
now() { date +%s.%N; }

"$B/bench/bench_sign_seed" "$OFFCA_HOME" root "$N" > "$T/revoked.txt"
t0=$(now)
"$OFFCA" crl --issuer root --days 7 --pin-file "$T/pin" --out "$T/offca.crl" >/dev/null
t1=$(now)
CNT=$(openssl crl -in "$T/offca.crl" -noout -text | grep -c "Serial Number:" || true)
echo "offca crl: $CNT entries in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')s ($(stat -c %s "$T/offca.crl") bytes PEM)"

if [ -n "${ENGINE:-}" ] && [ -f "$T/oca/openssl.cnf" ]; then
  exp=$(date -u -d "+30 days" +%y%m%d%H%M%SZ); rev=$(date -u -d "-1 hour" +%y%m%d%H%M%SZ)
  awk -v e="$exp" -v r="$rev" '{ printf "R\t%s\t%s,keyCompromise\t%s\tunknown\t/CN=seed.example.com\n", e, r, $1 }' \
    "$T/revoked.txt" > "$T/oca/index.txt"
  echo "unique_subject = no" > "$T/oca/index.txt.attr"
  t0=$(now)
  openssl ca -config "$T/oca/openssl.cnf" -engine pkcs11 -keyform engine \
    -keyfile "pkcs11:token=bench;object=ca;type=private" -gencrl -crldays 7 -out "$T/openssl.crl" >/dev/null 2>"$T/gencrl.err" \
    || echo "openssl ca -gencrl failed: $(tail -2 "$T/gencrl.err")" >&2
  t1=$(now)
  CNT=$(openssl crl -in "$T/openssl.crl" -noout -text 2>/dev/null | grep -c "Serial Number:" || true)
  echo "openssl ca -gencrl: $CNT entries in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')s"
fi
