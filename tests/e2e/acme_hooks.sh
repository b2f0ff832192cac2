#!/usr/bin/env bash
# The example DNS hooks shipped in scripts/dns-hooks/: nsupdate.sh for real against named (through
# offca-acme --dns-hook), and the HTTPS-API hooks' offline behaviour (usage, credentials file
# missing or readable by others: they stop before any network call).
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_SRC/tests/lib/acme_env.sh"
A=${OFFCA_ACME:?}
[ -x "$A" ] || { echo "skip: offca-acme not built" >&2; exit 77; }
need nsupdate
H=$OFFCA_SRC/scripts/dns-hooks
for h in "$H"/*.sh; do sh -n "$h" || fail "syntax: $h"; done

for h in cloudflare digitalocean hetzner; do
  var=$(echo "$h" | tr a-z A-Z)_TOKEN_FILE
  set +e
  env "$var=$T/none" sh "$H/$h.sh" add _acme-challenge.a.example.com v > /dev/null 2> "$T/h.err"; c1=$?
  printf 'tok\n' > "$T/$h.tok"; chmod 644 "$T/$h.tok"
  env "$var=$T/$h.tok" sh "$H/$h.sh" add _acme-challenge.a.example.com v > /dev/null 2> "$T/h2.err"; c2=$?
  sh "$H/$h.sh" > /dev/null 2>&1; c3=$?
  set -e
  [ $c1 -ne 0 ] && grep -q missing "$T/h.err" || fail "$h: missing credentials file not reported"
  [ $c2 -ne 0 ] && grep -q 'readable by others' "$T/h2.err" || fail "$h: world-readable token accepted"
  [ $c3 -eq 2 ] || fail "$h: usage error exit $c3"
done
pass "HTTPS-API hooks refuse missing or world-readable credentials, usage errors exit 2"

acme_env_start
S=$T/state
"$A" --state "$S" --ca-bundle "$ACME_CA_BUNDLE" account new --directory "$ACME_DIR" >/dev/null
(umask 077; printf 'key "%s" { algorithm hmac-sha256; secret "%s"; };\n' "$TSIG_NAME" "$(cat "$TSIG_SECRET_FILE")" > "$T/tsig.key")
NSUPDATE_KEY_FILE=$T/tsig.key NSUPDATE_SERVER="127.0.0.1 $DNS_PORT" NSUPDATE_ZONE=$DNS_ZONE \
  "$A" --state "$S" issue --domain hk.example.test --domain '*.hk.example.test' --generate-key \
  --dns-hook "$H/nsupdate.sh" --dns-server "$DNS_SERVER" > "$T/out" 2>"$T/err" || fail "nsupdate hook: $(tail -n1 "$T/err")"
[ -s "$S/live/hk.example.test/fullchain.pem" ] || fail "no certificate"
acme_no_stray_txt hk.example.test
pass "scripts/dns-hooks/nsupdate.sh with offca-acme --dns-hook: $(cat "$T/out")"
