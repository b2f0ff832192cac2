#!/usr/bin/env bash
# bench/sign_bench.sh - signing throughput on ONE SoftHSM2 EC P-256 key and ONE set of CSRs:
#   1. raw PKCS#11 signature rate of the key (bench_raw_sign: C_SignInit + C_Sign loop)
#   2. offca sign --csr ... (batch: one login, 2-thread pipeline, one commit)
#   3. openssl ca -infiles ... through the pkcs11 engine (libengine-pkcs11-openssl)
#   4. the CPU floor of the work each offca certificate needs (bench_sign_floor: strict CSR
#      intake with its self-signature check, and the check of the new certificate's signature;
#      plus the raw token signature), hence the best rate the machine's cores allow
# then the ratios, then bench/crl_bench.sh (CRL with 100k revoked entries, both tools).
#
#   bench/sign_bench.sh [N_CSRS]          (default 5000)
# Environment: OFFCA_BUILD (default build-bench: configured and brought up to date here,
# Release-like -O2, no ASan), ROUNDS (default 3), OUT_BASE (where the certificates go, default
# the temp dir), KEEP=1 keeps the temp dirs. Not run by ctest. Needs: softhsm2, openssl, libengine-pkcs11-openssl,
# python3 (with the cryptography package for fast CSR generation; otherwise openssl req is used).
set -euo pipefail
N=${1:-5000}
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${OFFCA_BUILD:-$SRC/build-bench}
# always (re)build: a stale binary would measure old code
cmake -S "$SRC" -B "$B" -DOFFCA_TESTS=OFF -DCMAKE_C_FLAGS="-O2 -g" >/dev/null
cmake --build "$B" -j2 --target offca bench_raw_sign bench_sign_seed bench_sign_floor >/dev/null
OFFCA="$B/ui-cli/offca"
T=$(mktemp -d /tmp/offca-bench.XXXXXX)
# OUT_BASE: where both tools write their certificates (default: the temp dir). OUT_BASE=/dev/shm
# takes the file system out of the comparison (see the ext4 note in docs/ca.md).
if [ -n "${OUT_BASE:-}" ]; then O=$(mktemp -d "$OUT_BASE/offca-bench-out.XXXXXX"); else O="$T"; fi
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$T" "$O"' EXIT

MODULE=""
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do [ -e "$m" ] && MODULE=$m && break; done
ENGINE=""
for e in /usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so /usr/lib/*/engines-3/pkcs11.so; do [ -e "$e" ] && ENGINE=$e && break; done
[ -n "$MODULE" ] || { echo "SoftHSM2 missing" >&2; exit 1; }

export SOFTHSM2_CONF="$T/softhsm2.conf"   # the pkcs11 engine segfaults when this is unset
mkdir -p "$T/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" > "$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label bench --so-pin 12345678 --pin 123456 >/dev/null
(umask 077; echo 123456 > "$T/pin")
export OFFCA_HOME="$T/home" OFFCA_PKCS11_MODULE="$MODULE"
"$OFFCA" init >/dev/null
KEY=$("$OFFCA" token keygen --token "pkcs11:token=bench" --label ca --type ec-p256 --pin-file "$T/pin")
"$OFFCA" ca root --key "$KEY" --subject "/CN=Bench CA" --days 3650 --pin-file "$T/pin" --out "$T/ca.pem" 2>/dev/null

echo "== generating $N CSRs (P-256, CN + 1 DNS SAN)" >&2
mkdir "$T/csr"
if python3 -c "import cryptography" 2>/dev/null; then
  python3 - "$T/csr" "$N" <<'PY'
import sys
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
d, n = sys.argv[1], int(sys.argv[2])
keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(64)]
for i in range(n):
    name = f"h{i}.bench.example"
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
           .sign(keys[i % 64], hashes.SHA256()))
    open(f"{d}/{i:06d}.csr", "wb").write(csr.public_bytes(serialization.Encoding.PEM))
PY
else
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/leaf.key" 2>/dev/null
  for i in $(seq 0 $((N - 1))); do
    openssl req -new -key "$T/leaf.key" -subj "/CN=h$i.bench.example" -addext "subjectAltName=DNS:h$i.bench.example" \
      -out "$T/csr/$(printf %06d "$i").csr" 2>/dev/null
  done
fi

now() { date +%s.%N; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / t }'; }
# CPU seconds (user+sys) of the last timed command: wall figures mean little on a busy machine
TIMEF="$T/time.out"
cpu() { awk '{ printf "%.2f", $2 + $3 }' "$TIMEF"; }

echo "== raw PKCS#11 signing (C_Sign loop, one thread)" >&2
RAW_LINE=$("$B/bench/bench_raw_sign" "$MODULE" bench ca "$T/pin" 3)
echo "$RAW_LINE"
RAW=$(echo "$RAW_LINE" | sed -E 's/.* ([0-9]+)\/s wall.*/\1/')
RAW_CPU=$(echo "$RAW_LINE" | sed -E 's/.* ([0-9]+)\/s per CPU second.*/\1/')

run_offca() { # run_offca ROUND: sign all CSRs (a fresh batch: new serials) into a fresh directory
  mkdir "$O/out-offca$1"
  local t0 t1
  t0=$(now)
  /usr/bin/time -f "%e %U %S" -o "$TIMEF" \
    "$OFFCA" sign --csr "$T"/csr/*.csr --profile server --pin-file "$T/pin" --out-dir "$O/out-offca$1" >/dev/null 2>&1
  t1=$(now)
  [ "$(ls "$O/out-offca$1" | wc -l)" = "$N" ] || { echo "offca wrote $(ls "$O/out-offca$1" | wc -l) of $N" >&2; exit 1; }
  local wall cpu_s r
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'); cpu_s=$(cpu); r=$(rate "$N" "$wall")
  echo "offca sign #$1: $N certificates in ${wall}s = $r/s wall; ${cpu_s} CPU-s ($(awk '{ print "user " $2 ", sys " $3 }' "$TIMEF")) = $(rate "$N" "$cpu_s") per CPU second"
  if [ -z "${OFFCA_RATE:-}" ] || [ "$r" -gt "$OFFCA_RATE" ]; then OFFCA_RATE=$r; OCPU=$cpu_s; fi
}

run_ossl() { # run_ossl ROUND: a fresh newcerts directory per round, like offca's fresh --out-dir
  # (nothing is deleted between rounds: on ext4 without a journal, creating inodes right after
  # thousands were deleted is much slower, and that would penalise whichever tool runs next)
  mkdir "$O/newcerts$1"; : > "$T/oca/index.txt"
  sed "s|@NEWCERTS@|$O/newcerts$1|" "$T/oca/openssl.cnf.in" > "$T/oca/openssl.cnf"
  local t0 t1
  t0=$(now)
  /usr/bin/time -f "%e %U %S" -o "$TIMEF" openssl ca -batch -config "$T/oca/openssl.cnf" -engine pkcs11 -keyform engine \
    -keyfile "pkcs11:token=bench;object=ca;type=private" -notext -out /dev/null -infiles "$T"/csr/*.csr >/dev/null 2>"$T/oca.err" \
    || { echo "openssl ca failed: $(tail -3 "$T/oca.err")" >&2; }
  t1=$(now)
  local no wall cpu_s r
  no=$(ls "$O/newcerts$1" | wc -l)   # -out keeps only the last certificate: count newcerts/
  [ "$no" -gt 0 ] || return 0
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'); cpu_s=$(cpu); r=$(rate "$no" "$wall")
  echo "openssl ca #$1: $no certificates in ${wall}s = $r/s wall; ${cpu_s} CPU-s ($(awk '{ print "user " $2 ", sys " $3 }' "$TIMEF")) = $(rate "$no" "$cpu_s") per CPU second"
  if [ -z "${OSSL_RATE:-}" ] || [ "$r" -gt "$OSSL_RATE" ]; then OSSL_RATE=$r; NO=$no; SCPU=$cpu_s; fi
}

if [ -n "$ENGINE" ]; then
  mkdir -p "$T/oca"
  cat > "$T/oca/openssl.cnf.in" <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
# found by id in OpenSSL's engines dir ($ENGINE); a dynamic_path here makes -engine load it twice
engine_id = pkcs11
MODULE_PATH = $MODULE
# bench only: a throwaway SoftHSM2 token (never put a real PIN in a file like this)
PIN = 123456
[ca]
default_ca = CA_default
[CA_default]
dir = $T/oca
database = \$dir/index.txt
new_certs_dir = @NEWCERTS@
certificate = $T/ca.pem
rand_serial = yes
default_md = sha256
default_days = 90
policy = policy_any
unique_subject = no
copy_extensions = copy
x509_extensions = leaf_ext
[policy_any]
commonName = supplied
[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
fi

# alternate the two tools, ROUNDS times (default 3), and keep each one's best round: the file
# system (creating N output files) and other load on the machine weigh on whichever runs at a bad
# moment. Both write one PEM file per certificate into a fresh directory.
OFFCA_RATE=""; OSSL_RATE=""
echo "== offca sign (batch of $N, one login) and openssl ca -infiles (pkcs11 engine), same key, same CSRs" >&2
for round in $(seq 1 "${ROUNDS:-3}"); do
  run_offca "$round"
  if [ -n "$ENGINE" ]; then run_ossl "$round"; fi
done
[ -n "$ENGINE" ] || echo "openssl ca: skipped (libengine-pkcs11-openssl not installed)"

echo "== CPU floor of one offca certificate (one thread, one operation at a time)" >&2
FLOOR_LINE=$("$B/bench/bench_sign_floor" "$T/csr/000000.csr" "$(ls "$O"/out-offca1/*.pem | head -1)" "$T/ca.pem" 1)
echo "$FLOOR_LINE"
PARSE_US=$(echo "$FLOOR_LINE" | sed -E 's/.*csr_parse ([0-9.]+) us.*/\1/')
VERIFY_US=$(echo "$FLOOR_LINE" | sed -E 's/.*cert_verify ([0-9.]+) us.*/\1/')
CSRV_US=$(echo "$FLOOR_LINE" | sed -E 's/.*csr self-signature verify ([0-9.]+) us.*/\1/')
awk -v p="$PARSE_US" -v v="$VERIFY_US" -v cv="$CSRV_US" -v rc="$RAW_CPU" -v r="$RAW" -v s="${OSSL_RATE:-0}" -v c="$(nproc)" 'BEGIN {
  sig = 1e6 / rc; f = p + sig + v; best = c * 1e6 / f;
  printf "floor per certificate: %.0f us CPU = CSR intake %.0f + token signature %.0f + new-certificate check %.0f\n", f, p, sig, v;
  printf "best possible on %d CPUs (no other cost, perfect overlap): %.0f/s = %.2f of the raw C_Sign rate", c, best, best / r;
  if (s > 0) printf ", %.1fx openssl ca", best / s;
  printf "\n";
  # the CPU each target leaves per certificate on these cores, against what the signatures take
  printf "CPU budget per certificate on %d CPUs: target 0.60 of raw %.0f us", c, c * 1e6 / (0.6 * r);
  if (s > 0) printf ", target 5x openssl ca %.0f us", c * 1e6 / (5 * s);
  printf "; the three signature operations alone take %.0f us (CSR self-signature check %.0f, token signature %.0f, new-signature check %.0f)\n", cv + sig + v, cv, sig, v;
}'

echo "== ratios (load average now: $(cut -d' ' -f1 /proc/loadavg) on $(nproc) CPUs)"
awk -v o="$OFFCA_RATE" -v r="$RAW" -v rc="$RAW_CPU" -v s="${OSSL_RATE:-0}" \
    -v oc="$(rate "$N" "$OCPU")" -v sc="${NO:-0}" -v scpu="${SCPU:-1}" 'BEGIN {
  printf "offca / raw C_Sign rate (wall)          : %.2f (target >= 0.60)\n", o / r;
  printf "offca per CPU-s / raw per CPU-s         : %.2f (2 cores: x2 is the wall-clock ceiling)\n", oc / rc;
  if (s > 0) printf "offca / openssl ca (wall)               : %.1fx (target >= 5x)\n", o / s;
  if (s > 0) printf "offca / openssl ca (per CPU second)     : %.1fx\n", oc / (sc / scpu);
}'

echo "== CRL with 100k revoked entries" >&2
SOFTHSM2_CONF="$SOFTHSM2_CONF" OFFCA="$OFFCA" B="$B" T="$T" MODULE="$MODULE" ENGINE="$ENGINE" \
  bash "$SRC/bench/crl_bench.sh" "${CRL_N:-100000}"
