#!/usr/bin/env bash
# e2e: the CA home on a real, small file system (a 2 MB tmpfs mounted here; root only), signed
# into until it is full. Every batch that fails exits 75 with one "full" line and commits
# nothing (LMDB reports a short write as EIO: that is a full disk too); reading (list, show,
# export, audit verify) keeps working on the full disk, also while a dead run's reservations are
# left open (only a writable open voids them, and failing to is not fatal); with room again the
# next writer voids them and signing works. Not OFFCA_STORE_MAPSIZE: the disk itself is full.
source "$(dirname "$0")/../lib/e2e.sh"
source "$(dirname "$0")/../lib/ca_setup.sh"
SEED="$OFFCA_BUILD/bench/bench_store_bench"
[ -x "$SEED" ] || { echo "skip: $SEED not built" >&2; exit 77; }
[ "$(id -u)" = 0 ] || { echo "skip: mounting a tmpfs needs root" >&2; exit 77; }
need mdb_dump
M="$T/mnt"
mkdir "$M"
mount -t tmpfs -o size=2m,mode=700 tmpfs "$M" 2>/dev/null || { echo "skip: cannot mount a tmpfs here" >&2; exit 77; }
trap 'rc=$?; umount "$M" 2>/dev/null || umount -l "$M" 2>/dev/null; (exit $rc); cleanup' EXIT
export OFFCA_HOME="$M/ca"
ca_setup "$OFFCA_HOME"
head -c 524288 /dev/zero > "$M/spare" # freed later, to make room for a dead run's reservations
ca_csrs 50 "$T/csr"
records() { "$OFFCA" list | tail -n +2 | wc -l; }
open_resv() { mdb_dump -s resv_open "$OFFCA_HOME/store" | grep -c '^ ' || true; }

# sign batches of varying size until the disk is full, then keep trying: every failure is 75
fails=0; ok=0; k=0
sizes=(20 7 1 13 3 40 2 5 11 1 30 4 9 2 1 17 6 1 3 25)
while [ $fails -lt 30 ] && [ $k -lt 400 ]; do
  n=${sizes[$((k % ${#sizes[@]}))]}; k=$((k + 1))
  [ $fails -gt 0 ] || n=50 # fill quickly, then batches of every size
  csrs=(); for ((i = 1; i <= n; i++)); do csrs+=("$T/csr/$(( (k * 7 + i) % 50 + 1 )).csr"); done
  mkdir -p "$T/out/$k"
  before=$(records)
  set +e
  "$OFFCA" sign --csr "${csrs[@]}" --profile server --issuer int --pin-file "$PIN" --out-dir "$T/out/$k" \
    >"$T/sign.out" 2>"$T/sign.err"; rc=$?
  set -e
  if [ $rc = 0 ]; then
    ok=$((ok + 1)); continue
  fi
  fails=$((fails + 1))
  [ $rc = 75 ] || fail "batch $k of $n failing on a full disk: exit $rc (want 75): $(cat "$T/sign.err")"
  [ "$(wc -l < "$T/sign.err")" = 1 ] || fail "batch $k: not one error line: $(cat "$T/sign.err")"
  grep -Eqi "full|no space" "$T/sign.err" || fail "batch $k: error does not say full: $(cat "$T/sign.err")"
  [ "$(records)" = "$before" ] || fail "batch $k failed but records changed ($before -> $(records))"
  [ -z "$(ls -A "$T/out/$k")" ] || fail "batch $k failed but wrote $(ls "$T/out/$k" | head -3)"
done
[ $ok -gt 3 ] && [ $fails = 30 ] || fail "did not fill the disk: $ok batches signed, $fails failed"
pass "$ok batches signed, then 30 failing batches of 1..40 each exited 75: $(cat "$T/sign.err")"
df -k "$M" | tail -1 | awk '{print "note: tmpfs used " $3 " KB of " $2 " KB"}'

# a dead run's reservations on the full disk: make a little room, reserve and die, fill it again
rm "$M/spare"
set +e; "$SEED" --reserve-and-die "$OFFCA_HOME" 7 2>"$T/seed.err"; rc=$?; set -e
[ "$rc" = 137 ] || fail "reserve-and-die helper: exit $rc: $(cat "$T/seed.err")"
head -c 4194304 /dev/zero > "$M/filler" 2>/dev/null || true
[ "$(open_resv)" -ge 7 ] || fail "the dead run left no open reservation"
n=$(records)

# reading never writes: all of these work on the full disk and leave the reservations alone
S=$("$OFFCA" list | awk 'NR>1 && $4=="server" && !s {s=$1} END {print s}')
[ -n "$S" ] || fail "list on the full disk shows no server certificate"
[ "$(records)" = "$n" ] || fail "list on the full disk: $(records) records, want $n"
"$OFFCA" show "$S" | grep -q "^serial: *$S" || fail "show on the full disk"
"$OFFCA" export "$S" --format pem --out "$T/s.pem" || fail "export on the full disk"
openssl x509 -in "$T/s.pem" -noout || fail "export wrote no certificate"
"$OFFCA" audit verify > "$T/verify" || fail "audit verify on the full disk: $(cat "$T/verify")"
"$OFFCA" audit show --json >/dev/null || fail "audit show on the full disk"
[ "$(open_resv)" -ge 7 ] || fail "a read-only command voided the dead run's reservations (it wrote)"
pass "list, show, export, audit verify and show work on the full disk and write nothing: $(head -1 "$T/verify")"

# a writer opens (voiding them may fail for lack of room: not fatal) and either fits in the
# file's free pages or fails on its own write with 75
set +e
"$OFFCA" sign --csr "$T/csr/1.csr" --profile server --issuer int --pin-file "$PIN" --out-dir "$T/out" \
  >/dev/null 2>"$T/sign.err"; rc=$?
set -e
if [ $rc != 0 ]; then
  [ $rc = 75 ] && [ "$(wc -l < "$T/sign.err")" = 1 ] || fail "sign with stale reservations on a full disk: exit $rc: $(cat "$T/sign.err")"
  "$OFFCA" list >/dev/null || fail "list after a writer failed on the full disk"
fi
pass "a writer on the full disk with stale reservations: exit $rc $(cat "$T/sign.err")"

# room again: the next writer voids the stale reservations (audited) and signing works
rm "$M/filler"
"$OFFCA" sign --csr "$T/csr/2.csr" --profile server --issuer int --pin-file "$PIN" --out-dir "$T/out" \
  >/dev/null 2>"$T/sign.err" || fail "sign with room again: $(cat "$T/sign.err")"
[ "$(open_resv)" = 0 ] || fail "stale reservations still open after a writable open with room"
"$OFFCA" audit show --json | python3 -c '
import json,sys; a=json.load(sys.stdin); v=[e for e in a if e["action"]=="void-stale"]
assert v and json.loads(v[-1]["detail"])["count"] >= 7, v' || fail "no void-stale entry"
"$OFFCA" audit verify >/dev/null || fail "audit verify after recovery"
pass "with room again: stale reservations voided and audited, signing works, the log verifies"
