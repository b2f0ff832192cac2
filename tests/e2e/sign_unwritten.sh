#!/usr/bin/env bash
# e2e: exit codes a retrying script can trust. `offca sign --out FILE` that cannot write FILE
# after the records were committed exits 20 (not 75, whose meaning is "nothing was half-written")
# and names the serial and the `offca export` command that writes it again; that command works.
# A failure before the commit (the output disk full while the files are staged) stays 75 with
# no record. `offca issue --generate-key` losing its PKCS#12 says the key is lost (exit 20).
source "$(dirname "$0")/../lib/e2e.sh"
source "$(dirname "$0")/../lib/ca_setup.sh"
export OFFCA_HOME="$T/ca"
ca_setup "$OFFCA_HOME"
ca_csrs 3 "$T/csr"
records() { "$OFFCA" list | tail -n +2 | wc -l; }
sign() { "$OFFCA" sign --csr "$@" --profile server --issuer int --pin-file "$PIN" >"$T/last.out" 2>"$T/last.err"; }

check_unwritten() { # WHAT OUT: the last sign exited 20 with one line naming the serial and export
  local what=$1 out=$2 s
  # the session's signed audit head is reported on its own line (offca: audit head #N ... signed), then the error
  [ "$(grep -vc '^offca: audit head #' "$T/last.err")" = 1 ] || fail "$what: not one error line: $(cat "$T/last.err")"
  s=$(grep -Eo 'certificate [0-9A-F]{32} is signed and recorded' "$T/last.err" | awk '{print $2}')
  [ -n "$s" ] || fail "$what: the message names no serial: $(cat "$T/last.err")"
  grep -q "offca export $s " "$T/last.err" || fail "$what: no export command: $(cat "$T/last.err")"
  grep -qF "$out" "$T/last.err" || fail "$what: the message does not name $out"
  "$OFFCA" show "$s" | grep -q "^status: *valid" || fail "$what: the record of $s is not there"
  cmd=$(sed -n 's/.*write it with: \(offca export .*\)$/\1/p' "$T/last.err" | sed "s|offca|$OFFCA|; s|FILE|$T/again-$s.pem|")
  $cmd || fail "$what: the printed command failed: $cmd"
  [ "$(openssl x509 -in "$T/again-$s.pem" -noout -serial | cut -d= -f2)" = "$s" ] || fail "$what: export wrote another serial"
  pass "$what: exit 20, $s recorded, written again by the printed command"
}

# --out into a path whose directory is a regular file: refused only when writing, after the commit
: > "$T/afile"
n=$(records)
set +e; sign "$T/csr/1.csr" --out "$T/afile/x.pem"; rc=$?; set -e
[ $rc = 20 ] || fail "--out under a regular file: exit $rc (want 20): $(cat "$T/last.err")"
[ "$(records)" = $((n + 1)) ] || fail "--out under a regular file: the record was not committed"
check_unwritten "--out under a regular file" "$T/afile/x.pem"

[ "$(id -u)" = 0 ] || { echo "note: not root, the full-disk cases are skipped" >&2; exit 0; }
mkdir "$T/full"
if ! mount -t tmpfs -o size=16k,mode=700 tmpfs "$T/full" 2>/dev/null; then
  echo "note: cannot mount a tmpfs here, full-disk cases skipped" >&2; exit 0
fi
trap 'rc=$?; umount "$T/full" 2>/dev/null || umount -l "$T/full" 2>/dev/null; (exit $rc); cleanup' EXIT
head -c 65536 /dev/zero > "$T/full/filler" 2>/dev/null || true

# --out FILE on a full disk: written after the commit, so 20 (a script must not sign again)
n=$(records)
set +e; sign "$T/csr/2.csr" --out "$T/full/x.pem"; rc=$?; set -e
[ $rc = 20 ] || fail "--out on a full disk: exit $rc (want 20): $(cat "$T/last.err")"
[ "$(records)" = $((n + 1)) ] || fail "--out on a full disk: the record was not committed"
[ ! -e "$T/full/x.pem" ] || fail "--out on a full disk left a (partial) file"
grep -q "No space left" "$T/last.err" || fail "--out on a full disk: the cause is not named: $(cat "$T/last.err")"
check_unwritten "--out on a full disk" "$T/full/x.pem"

# --out-dir on a full disk: the files are staged before the commit, so nothing is recorded: 75
n=$(records)
set +e; sign "$T/csr/3.csr" "$T/csr/1.csr" --out-dir "$T/full"; rc=$?; set -e
[ $rc = 75 ] || fail "--out-dir on a full disk: exit $rc (want 75): $(cat "$T/last.err")"
[ "$(records)" = "$n" ] || fail "--out-dir on a full disk: exit 75 but records were committed"
pass "--out-dir on a full disk fails before the commit: exit 75, nothing recorded"

# issue --generate-key whose PKCS#12 cannot be written: the key is gone, the record stays: 20
(umask 077; echo "a passphrase for the test" > "$T/pass")
n=$(records)
set +e
"$OFFCA" issue --generate-key --subject CN=k.example --san k.example --profile server --issuer int \
  --out "$T/full/k.p12" --passphrase-file "$T/pass" --pin-file "$PIN" >"$T/last.out" 2>"$T/last.err"; rc=$?
set -e
[ $rc = 20 ] || fail "issue with a full disk: exit $rc (want 20): $(cat "$T/last.err")"
[ "$(grep -vc '^offca: audit head #' "$T/last.err")" = 1 ] || fail "issue: not one line: $(cat "$T/last.err")"
grep -Eq "key is lost: revoke it with offca revoke [0-9A-F]{32}" "$T/last.err" || fail "issue: $(cat "$T/last.err")"
[ "$(records)" = $((n + 1)) ] || fail "issue: the record was not committed"
pass "issue --generate-key on a full disk: $(cat "$T/last.err")"
