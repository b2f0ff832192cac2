#!/usr/bin/env bash
# bench/bind_bench.sh - the cost of checking records against the audit log at scale (docs/store.md,
# "Cost at a million records"): a CA home whose root key is on a throwaway SoftHSM2 token, seeded
# with N certificates (default 1000000) of which R are revoked (default 10000) by bench_sign_seed,
# then the real commands timed: `offca export` of one certificate (its record checked against its
# sign entry first) and `offca crl` (the issuer's revoked set checked against the audit log before
# the CRL is built), and, with VERIFY=1, `offca audit verify` (every record decoded and checked).
# Then bench_store_bench --bind BIND_N (default 100000, its own store) prints the per-check figures
# (lookup alone vs lookup + check, the revoked-set check, a pending CSR check). Prints the figures;
# not a test.
#   B=build bench/bind_bench.sh [N] [R]        (B: an -O2 build dir with bench targets)
set -euo pipefail
N=${1:-1000000}
R=${2:-10000}
B=${B:-build}
OFFCA="$B/ui-cli/offca"
[ -x "$OFFCA" ] && [ -x "$B/bench/bench_sign_seed" ] || { echo "build $B first (bench targets included)" >&2; exit 1; }
now() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

T=$(mktemp -d /tmp/offca-bind-bench.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$T"' EXIT
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
  [ -e "$m" ] && export OFFCA_PKCS11_MODULE=$m && break
done
export SOFTHSM2_CONF="$T/softhsm2.conf" OFFCA_HOME="$T/home"
mkdir -p "$T/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" > "$SOFTHSM2_CONF"
# bench only: a throwaway SoftHSM2 token (never put a real PIN in a file like this)
softhsm2-util --init-token --free --label bind --so-pin 12345678 --pin 123456 >/dev/null
(umask 077; echo 123456 > "$T/pin")
"$OFFCA" init >/dev/null
KEY=$("$OFFCA" token keygen --token "pkcs11:token=bind" --label ca --type ec-p256 --pin-file "$T/pin")
"$OFFCA" ca root --key "$KEY" --subject "CN=Bind Bench Root" --days 3650 --pin-file "$T/pin" --out "$T/root.pem" \
  >/dev/null 2>&1

t0=$(now)
"$B/bench/bench_sign_seed" "$OFFCA_HOME" root "$N" "$R" > "$T/serials.txt"
t1=$(now)
echo "seed: $N certificates ($R revoked) in $(dt "$t0" "$t1") s; store $(du -sh "$OFFCA_HOME/store" | cut -f1)"
S=$(sed -n "$((R + N / 2))p" "$T/serials.txt")   # a valid one in the middle

for i in 1 2 3; do
  t0=$(now)
  "$OFFCA" export "$S" --format pem > "$T/export.pem"
  t1=$(now)
  echo "offca export (one of $N, checked against its audit entry): $(dt "$t0" "$t1") s"
done
t0=$(now)
"$OFFCA" crl --pin-file "$T/pin" --out "$T/crl.pem" 2>"$T/crl.err" >/dev/null
t1=$(now)
echo "offca crl ($R revoked of $N, revoked set checked first; includes signing and linting): $(dt "$t0" "$t1") s"
grep "audit head" "$T/crl.err" || true
if [ -n "${VERIFY:-}" ]; then
  t0=$(now)
  "$OFFCA" audit verify
  t1=$(now)
  echo "offca audit verify ($N records decoded and checked): $(dt "$t0" "$t1") s"
fi
"$B/bench/bench_store_bench" --bind "${BIND_N:-100000}"
