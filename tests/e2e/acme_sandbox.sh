#!/usr/bin/env bash
# offca-acme's process separation during a real issuance against pebble + BIND9, started as root:
# every process (main, key, file, DNS) and the hooks' shells run as the user offca-acme with
# Seccomp 2, NoNewPrivs 1, CapEff 0; each helper holds only its channel; no descriptor is shared
# between processes (the main's TCP connection, another helper's channel); hooks start with
# stdin/stdout/stderr only; the certificate key (--generate-key) never enters the main process's
# memory; with hooks (issue and renew), only the hook runner (offca-acme-hook) may exec: the
# filters of the main, key, file and DNS processes, read with ptrace and evaluated, refuse execve; strace shows who opens the account key, the TSIG secret, the outputs and privkey.pem.
# Also: --user of a missing user and of root refused, --no-sandbox warns.
ACME_ENV_STAY_ROOT=1
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_SRC/tests/lib/acme_env.sh"
A=${OFFCA_ACME:?}
[ -x "$A" ] || { echo "skip: offca-acme not built" >&2; exit 77; }
[ "$(id -u)" = 0 ] || { echo "skip: needs root (the switch to the user offca-acme)" >&2; exit 77; }
need nsupdate
acme_env_user
acme_env_start
U=offca-acme
UID_U=$(id -u $U)
# $U may pass through $T (named, as root without CAP_DAC_OVERRIDE, must too) and owns $T/u
chmod 711 "$T"
install -d -o $U -m 700 "$T/u"
W=$T/u
S=$W/state
install -o $U -m 600 "$TSIG_SECRET_FILE" "$W/tsig.secret"
(umask 077; printf 'key "%s" { algorithm hmac-sha256; secret "%s"; };\n' "$TSIG_NAME" "$(cat "$TSIG_SECRET_FILE")" > "$W/tsig.key")
chown $U "$W/tsig.key"

expect_fail "--user of a missing user" "$A" --user no-such-user-here --state "$S" list
expect_err_match 'no-such-user-here, which does not exist'
expect_fail "--user root" "$A" --user root --state "$S" list
expect_err_match 'unprivileged'

"$A" --state "$S" --ca-bundle "$ACME_CA_BUNDLE" account new --directory "$ACME_DIR" >/dev/null 2>"$T/acct.err" ||
  fail "account new as root: $(tail -n1 "$T/acct.err")"
[ "$(stat -c %U "$S/account/key.pem")" = $U ] || fail "the account key is not owned by $U"
pass "started as root, account new ran as $U (key owned by $U)"

# hooks that stop at their first call until this (root) script has inspected every process
for h in dns deploy; do
  cat > "$T/$h-hook.sh" <<HOOK
#!/bin/sh
if [ ! -e "$W/$h.pid" ]; then
  echo \$\$ > "$W/$h.pid"
  i=0; while [ ! -e "$W/$h.go" ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i+1)); done
fi
[ "$h" = deploy ] && exit 0
NSUPDATE_KEY_FILE=$W/tsig.key NSUPDATE_SERVER="127.0.0.1 $DNS_PORT" NSUPDATE_ZONE=$DNS_ZONE exec sh "$OFFCA_SRC/scripts/dns-hooks/nsupdate.sh" "\$@"
HOOK
  chmod 755 "$T/$h-hook.sh"
done
wait_file() { local i; for i in $(seq 1 600); do [ -s "$1" ] && return 0; sleep 0.1; done; fail "no $1"; }

# one run with both hooks stopped while every process is inspected; $1: the run's name, then its arguments
inspect_run() {
  local run=$1; shift
  rm -f "$W"/dns.pid "$W"/dns.go "$W"/deploy.pid "$W"/deploy.go
  "$A" --state "$S" "$@" >"$T/$run.out" 2>"$T/$run.err" &
  apid=$!
  e2e_bg $apid
  wait_file "$W/dns.pid"
  python3 "$OFFCA_SRC/tests/lib/acme_procs.py" "$T/procs-$run-dns.txt" "$UID_U" "$(cat "$W/dns.pid")"
  touch "$W/dns.go"
  wait_file "$W/deploy.pid"
  python3 "$OFFCA_SRC/tests/lib/acme_procs.py" "$T/procs-$run-deploy.txt" "$UID_U" "$(cat "$W/deploy.pid")" \
    "$S/live/sb.example.test/privkey.pem"
  touch "$W/deploy.go"
  wait $apid || fail "$run: $(tail -n1 "$T/$run.err")"
  for f in dns deploy; do
    cat "$T/procs-$run-$f.txt"
    ! grep -q VIOLATION "$T/procs-$run-$f.txt" || fail "$run, during the $f hook: $(grep VIOLATION "$T/procs-$run-$f.txt" | tr '\n' ';')"
  done
  grep -q ' key ' "$T/procs-$run-dns.txt" && grep -q ' file ' "$T/procs-$run-dns.txt" && grep -q ' dns ' "$T/procs-$run-dns.txt" &&
    grep -q ' hook ' "$T/procs-$run-dns.txt" || fail "$run: not every role was inspected"
  # the narrow filters, read from the kernel: main and DNS refuse execve, only the runner may exec
  for f in dns deploy; do
    grep -Eq '^[0-9]+ runner uid=' "$T/procs-$run-$f.txt" || fail "$run: no hook runner during the $f hook"
    grep -Eq '^[0-9]+ runner filters=[0-9]+ execve=allowed' "$T/procs-$run-$f.txt" || fail "$run: hook runner's filter not read"
    grep -Eq '^[0-9]+ main filters=1 execve=refused' "$T/procs-$run-$f.txt" || fail "$run: main filter not the narrow one"
  done
  grep -Eq '^[0-9]+ dns filters=2 execve=refused' "$T/procs-$run-dns.txt" || fail "$run: DNS filter not the narrow one"
  grep -q 'certificate key is not in its memory' "$T/procs-$run-deploy.txt" || fail "$run: memory of the main process not searched"
}

inspect_run issue issue --domain sb.example.test --domain '*.sb.example.test' --generate-key \
  --dns-hook "$T/dns-hook.sh" --dns-server "$DNS_SERVER" --deploy-hook "$T/deploy-hook.sh"
[ "$(stat -c %U:%a "$S/archive/sb.example.test/"*/privkey.pem)" = $U:600 ] || fail "privkey.pem not $U 0600"
pass "issue with hooks: every process and hook: uid $UID_U, Seccomp 2, NoNewPrivs 1, CapEff 0, only its own descriptors; main/key/file/DNS filters refuse execve, only the hook runner execs; certificate key never in the main process"
inspect_run renew renew --force sb.example.test
grep -q 'sb.example.test: issued' "$T/renew.out" || fail "renew did not reissue: $(cat "$T/renew.out")"
pass "renew with the recorded hooks: the same separation, the hooks run by the hook runner"

# --no-sandbox: no filter, and it says so
"$A" --no-sandbox --state "$S" list >/dev/null 2>"$T/nosb.err" || fail "list --no-sandbox"
grep -q 'warning: --no-sandbox' "$T/nosb.err" || fail "--no-sandbox did not warn"
pass "--no-sandbox warns: $(cat "$T/nosb.err")"

# who opens what (strace as root follows the processes after they switch users)
if command -v strace >/dev/null 2>&1; then
  DNSARGS=(--dns rfc2136 --dns-server "$DNS_SERVER" --tsig-key "$TSIG_NAME" --tsig-secret-file "$W/tsig.secret")
  # LeakSanitizer cannot run under ptrace: leaks are checked by every other run
  ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace -f -qq -e trace=openat,connect -o "$T/strace.out" \
    "$A" --state "$S" issue --domain sep.example.test --generate-key "${DNSARGS[@]}" >/dev/null 2>"$T/sep.err" || fail "issue under strace: $(tail -n1 "$T/sep.err")"
  main=$(head -n1 "$T/strace.out" | awk '{print $1}')
  keypid=$(grep 'account/key.pem' "$T/strace.out" | awk '{print $1}' | sort -u)
  secpid=$(grep -F "$W/tsig.secret" "$T/strace.out" | awk '{print $1}' | sort -u)
  livepid=$(grep -E '/(live|archive)/(\.)?sep.example.test' "$T/strace.out" | grep -E 'O_CREAT' | grep -v privkey | awk '{print $1}' | sort -u)
  privpid=$(grep -E 'archive/sep.example.test/[^/]+/privkey.pem' "$T/strace.out" | grep O_CREAT | awk '{print $1}' | sort -u)
  [ -n "$keypid" ] && [ -n "$secpid" ] && [ -n "$livepid" ] && [ -n "$privpid" ] || fail "strace saw no key/secret/output opens"
  [ "$(echo "$keypid" | wc -l)" = 1 ] && [ "$keypid" != "$main" ] || fail "account key opened by $keypid (main $main)"
  [ "$(echo "$secpid" | wc -l)" = 1 ] && [ "$secpid" != "$main" ] && [ "$secpid" != "$keypid" ] || fail "TSIG secret opened by $secpid"
  [ "$(echo "$livepid" | wc -l)" = 1 ] && [ "$livepid" != "$main" ] || fail "outputs written by $livepid (main $main)"
  echo "$privpid" | grep -qx "$keypid" && ! echo "$privpid" | grep -qx "$main" || fail "privkey.pem written by $privpid (key process $keypid)"
  pass "process separation: keys in pid $keypid (account key and privkey.pem), TSIG secret in pid $secpid, files by pid $livepid, HTTPS in pid $main"
fi
