# tests/lib/e2e.sh - sourced by every tests/e2e/*.sh script.
# Gives each test a private temp dir, a private SoftHSM2 token store (never the system one),
# and small assertion helpers. A test script exits 0 on success, 77 to skip, anything else fails.
set -euo pipefail

: "${OFFCA:?OFFCA must point to the offca binary (ctest sets it)}"
E2E_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
T=$(mktemp -d "/tmp/offca-e2e-${E2E_NAME}.XXXXXX")
chmod 700 "$T"
E2E_PIDS=()
cleanup() {
  local rc=$?
  for p in "${E2E_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${E2E_PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  if [ $rc -eq 0 ] || [ $rc -eq 77 ]; then rm -rf "$T"; else echo "e2e $E2E_NAME: kept $T for inspection" >&2; fi
  exit $rc
}
trap cleanup EXIT

# grep -q stops reading at its first match; a program still writing into the pipe (openssl
# -text, python, offca list) then dies of SIGPIPE and, under pipefail, fails the pipeline at
# random (seen under load). So a quiet grep that reads a pipe drains what is left after it.
# A grep whose last argument is a file or directory reads that, not stdin: left alone.
grep() {
  local a quiet=0 last="${*: -1}" rc=0
  for a in "$@"; do
    case $a in --quiet | --silent) quiet=1 ;; --*) ;; -*q*) quiet=1 ;; esac
  done
  if [ $quiet = 0 ] || [ ! -p /dev/stdin ] || [ -e "$last" ]; then
    command grep "$@"
    return
  fi
  command grep "$@" || rc=$?
  cat > /dev/null || true
  return $rc
}

# Remember a background process so it is killed when the test ends.
e2e_bg() { E2E_PIDS+=("$1"); }

export SOFTHSM2_CONF="$T/softhsm2.conf"
mkdir -p "$T/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' "$T" > "$SOFTHSM2_CONF"

SOFTHSM_MODULE=""
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so; do
  if [ -e "$m" ]; then SOFTHSM_MODULE=$m; break; fi
done
[ -n "$SOFTHSM_MODULE" ] || { echo "SoftHSM2 module not found (run scripts/deps.sh)" >&2; exit 1; }
export OFFCA_PKCS11_MODULE="$SOFTHSM_MODULE"

# e2e_token LABEL [PIN] : create a SoftHSM2 token; writes $T/LABEL.pin (0600) holding the user PIN.
e2e_token() {
  local label=$1 pin=${2:-123456}
  softhsm2-util --init-token --free --label "$label" --so-pin 12345678 --pin "$pin" >/dev/null
  (umask 077; printf '%s\n' "$pin" > "$T/$label.pin")
}

fail() { echo "FAIL [$E2E_NAME]: $*" >&2; exit 1; }
pass() { echo "ok [$E2E_NAME]: $*"; }

# expect_fail DESCRIPTION CMD... : CMD must exit non-zero and print exactly one line on stderr
# mentioning something; its stderr is left in $T/last.err.
expect_fail() {
  local what=$1; shift
  if "$@" >"$T/last.out" 2>"$T/last.err"; then fail "$what: succeeded but should have failed"; fi
  local n; n=$(grep -c . "$T/last.err" || true)
  [ "$n" -ge 1 ] || fail "$what: failed without an error message"
  pass "$what -> $(head -n1 "$T/last.err")"
}
# expect_err_match REGEX : the last expect_fail's stderr matches REGEX
expect_err_match() { grep -Eq "$1" "$T/last.err" || fail "stderr '$(cat "$T/last.err")' does not match /$1/"; }

need() { command -v "$1" >/dev/null 2>&1 || { echo "skip: $1 not installed" >&2; exit 77; }; }
