#!/usr/bin/env bash
# bench/acme_bench.sh - one issuance (two names, one of them a wildcard, fresh account) against a
# private pebble + BIND9 on 127.0.0.1, by offca-acme, lego, certbot and uacme; several runs each;
# median wall time and median peak RSS (GNU time -v "Maximum resident set size": for a client made
# of several processes this is its largest process) and ratios to offca-acme. Not run by ctest.
#
#   bash bench/acme_bench.sh [RUNS]        (default 5; OFFCA_ACME=path to use a given binary)
#
# DNS-01 setup per client, all against the same named with the same TSIG key:
#   offca-acme  built-in RFC 2136 + TSIG, with its propagation check (every NS serves the TXT)
#   lego        built-in rfc2136 provider, propagation check disabled (--dns.disable-cp: lego
#               would query the NS on port 53)
#   certbot     dns-rfc2136 plugin, --dns-rfc2136-propagation-seconds 0 (min. wait)
#   uacme       nsupdate from its hook (uacme has no DNS code); run in a private mount namespace
#               where the test CA is bind-mounted over the system bundle (uacme has no CA option)
set -euo pipefail

RUNS=${1:-5}
SRC=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/offca-acme-bench.XXXXXX)
chmod 700 "$T"
E2E_PIDS=()
e2e_bg() { E2E_PIDS+=("$1"); }
fail() { echo "bench: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 not installed"; }
cleanup() {
  for p in "${E2E_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT

# the clients we compare with: Debian packages, installed here (not by scripts/deps.sh)
pkgs=()
for p in lego uacme certbot python3-certbot-dns-rfc2136 time; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || pkgs+=("$p")
done
if [ "${#pkgs[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "bench: installing ${pkgs[*]}" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

# offca-acme without sanitizers
A=${OFFCA_ACME:-}
if [ -z "$A" ]; then
  cmake -S "$SRC" -B "$SRC/build-bench" -DCMAKE_BUILD_TYPE=Release -DOFFCA_SANITIZE=OFF -DOFFCA_TESTS=OFF >/dev/null
  cmake --build "$SRC/build-bench" -j2 --target offca-acme >"$T/build.log" 2>&1 || { tail -n 20 "$T/build.log" >&2; fail "build failed"; }
  A=$SRC/build-bench/acme/offca-acme
fi

ACME_ENV_STAY_ROOT=1 # the peers run as root here; offca-acme switches to its user itself
source "$SRC/tests/lib/acme_env.sh"
acme_env_start
SECRET=$(cat "$TSIG_SECRET_FILE")
# started as root, offca-acme runs as the user offca-acme: its state and TSIG secret are that
# user's ($T stays closed to others but passable)
OFFCA_DIR=$T
OFFCA_TSIG=$TSIG_SECRET_FILE
if [ "$(id -u)" = 0 ]; then
  acme_env_user
  chmod 711 "$T"
  install -d -o offca-acme -m 700 "$T/offca"
  install -o offca-acme -m 600 "$TSIG_SECRET_FILE" "$T/offca/tsig.secret"
  OFFCA_DIR=$T/offca
  OFFCA_TSIG=$T/offca/tsig.secret
fi

# uacme hook: method type ident token auth
cat > "$T/uacme-hook.sh" <<EOF
#!/bin/sh
[ "\$2" = dns-01 ] || exit 1
case "\$1" in begin) v=add ;; done|failed) v=delete ;; *) exit 1 ;; esac
printf 'server 127.0.0.1 $DNS_PORT\nzone $DNS_ZONE\nupdate %s _acme-challenge.%s 60 TXT "%s"\nsend\n' "\$v" "\$3" "\$5" |
  nsupdate -y "hmac-sha256:$TSIG_NAME:$SECRET"
EOF
chmod 700 "$T/uacme-hook.sh"
(umask 077; printf 'dns_rfc2136_server = 127.0.0.1\ndns_rfc2136_port = %s\ndns_rfc2136_name = %s\ndns_rfc2136_secret = %s\ndns_rfc2136_algorithm = HMAC-SHA256\n' \
  "$DNS_PORT" "$TSIG_NAME" "$SECRET" > "$T/certbot.ini")

# t CMD... : run CMD under GNU time; adds its wall time to W and keeps the largest RSS in R
t() {
  /usr/bin/time -v -o "$T/time.txt" "$@" >>"$T/cur.log" 2>&1 || { tail -n 5 "$T/cur.log" >&2; return 1; }
  W=$(awk -F': ' -v w="$W" '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(k=1;k<=n;k++) s=s*60+p[k]; print w+s}' "$T/time.txt")
  R=$(awk -F': ' -v r="$R" '/Maximum resident set size/ {print ($2>r)?$2:r}' "$T/time.txt")
}

run_offca() { # dir base
  t "$A" --state "$1" --ca-bundle "$ACME_CA_BUNDLE" account new --directory "$ACME_DIR" --email b@example.test &&
  t "$A" --state "$1" issue --domain "$2" --domain "*.$2" --generate-key --dns rfc2136 --dns-server "$DNS_SERVER" \
    --tsig-key "$TSIG_NAME" --tsig-secret-file "$OFFCA_TSIG"
}
run_lego() {
  t env LEGO_CA_CERTIFICATES="$ACME_CA_BUNDLE" RFC2136_NAMESERVER="$DNS_SERVER" RFC2136_TSIG_KEY="$TSIG_NAME" \
    RFC2136_TSIG_SECRET="$SECRET" RFC2136_TSIG_ALGORITHM=hmac-sha256. RFC2136_POLLING_INTERVAL=1 \
    RFC2136_SEQUENCE_INTERVAL=1 RFC2136_PROPAGATION_TIMEOUT=30 \
    lego --server "$ACME_DIR" --email b@example.test --accept-tos --path "$1" --dns rfc2136 --dns.disable-cp \
    --domains "$2" --domains "*.$2" run
}
run_certbot() {
  t env REQUESTS_CA_BUNDLE="$ACME_CA_BUNDLE" certbot certonly --non-interactive --agree-tos -m b@example.test \
    --server "$ACME_DIR" --config-dir "$1/c" --work-dir "$1/w" --logs-dir "$1/l" \
    --dns-rfc2136 --dns-rfc2136-credentials "$T/certbot.ini" --dns-rfc2136-propagation-seconds 0 \
    -d "$2" -d "*.$2"
}
run_uacme() {
  cat "$ACME_CA_BUNDLE" > "$T/uacme-ca.pem"
  # uacme has no CA option: a private mount namespace shows it the test CA as the system bundle
  t unshare -m sh -c 'mount --bind "$0" /etc/ssl/certs/ca-certificates.crt && exec "$@"' "$T/uacme-ca.pem" \
    uacme -y -c "$1" -a "$ACME_DIR" new b@example.test &&
  t unshare -m sh -c 'mount --bind "$0" /etc/ssl/certs/ca-certificates.crt && exec "$@"' "$T/uacme-ca.pem" \
    uacme -c "$1" -a "$ACME_DIR" -t EC -h "$T/uacme-hook.sh" issue "$2" "*.$2"
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

TOOLS=(offca lego certbot uacme)
declare -A WALL RSS
for tool in "${TOOLS[@]}"; do
  : > "$T/$tool.wall"; : > "$T/$tool.rss"
  for i in $(seq 1 "$RUNS"); do
    d=$T/run-$tool-$i
    [ "$tool" = offca ] && d=$OFFCA_DIR/run-$i # created by offca-acme itself (as its user)
    [ "$tool" = offca ] || { mkdir -p "$d"; chmod 700 "$d"; }
    base=b$i-$tool.example.test
    W=0 R=0; : > "$T/cur.log"
    "run_$tool" "$d" "$base" || fail "$tool run $i failed (log: $T/cur.log)"
    echo "$W" >> "$T/$tool.wall"; echo "$R" >> "$T/$tool.rss"
    [ -z "$(acme_txt "_acme-challenge.$base")" ] || echo "bench: $tool left a TXT record at _acme-challenge.$base" >&2
  done
  WALL[$tool]=$(median < "$T/$tool.wall")
  RSS[$tool]=$(median < "$T/$tool.rss")
done

printf '\nOne issuance (2 names incl. a wildcard, fresh account), pebble + named on 127.0.0.1, %s runs each\n' "$RUNS"
printf '%-10s %14s %16s %12s %12s\n' client "median wall s" "median maxRSS KiB" "wall ratio" "RSS ratio"
for tool in "${TOOLS[@]}"; do
  printf '%-10s %14.3f %16d %12.2f %12.2f\n' "$tool" "${WALL[$tool]}" "${RSS[$tool]%.*}" \
    "$(awk -v a="${WALL[$tool]}" -v b="${WALL[offca]}" 'BEGIN {print a/b}')" \
    "$(awk -v a="${RSS[$tool]}" -v b="${RSS[offca]}" 'BEGIN {print a/b}')"
done
printf '(ratios: client / offca-acme; above 1 means offca-acme is faster / smaller)\n'
