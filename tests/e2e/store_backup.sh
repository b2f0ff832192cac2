#!/usr/bin/env bash
# e2e: offca backup and offca restore. A backup is a verified, compacted copy of the whole home
# that restores to the same listing and audit log; it never overwrites; a damaged store (a flipped
# meta page: every command exits 19) is restored from it without --force and works again, the
# damaged files kept aside; a healthy store is only replaced with --force; bad inputs (missing,
# not a directory, not a backup, a backup whose audit log was edited or whose file is damaged)
# are refused with one line and change nothing.
source "$(dirname "$0")/../lib/e2e.sh"
need python3
need mdb_dump
need mdb_load
SEED="$OFFCA_BUILD/bench/bench_store_bench"
[ -x "$SEED" ] || { echo "skip: $SEED not built" >&2; exit 77; }
export OFFCA_HOME="$T/ca"
"$OFFCA" init >/dev/null
"$SEED" --seed "$OFFCA_HOME" 40 > "$T/serials"
"$OFFCA" revoke "$(sed -n 3p "$T/serials")" --reason keyCompromise >/dev/null
echo "operator notes" > "$OFFCA_HOME/outbox/note.txt"
"$OFFCA" list > "$T/list.before"
"$OFFCA" audit show --json > "$T/audit.before"
one_line() { [ "$(grep -c . "$T/last.err")" = 1 ] || fail "$1: not one error line: $(cat "$T/last.err")"; }
rc_of() { set +e; "$@" >"$T/last.out" 2>"$T/last.err"; echo $? > "$T/rc"; set -e; cat "$T/rc"; }

# backup: verified, complete, private, never overwrites
"$OFFCA" backup "$T/bk" > "$T/out" || fail "backup: $(cat "$T/out")"
grep -q "verified: .* 42 certificates (1 revoked)" "$T/out" || fail "backup summary: $(cat "$T/out")"
[ -f "$T/bk/store/data.mdb" ] && [ -f "$T/bk/config.json" ] && [ -f "$T/bk/outbox/note.txt" ] || fail "backup content: $(find "$T/bk")"
[ ! -e "$T/bk/lock" ] && [ ! -e "$T/bk/store/lock.mdb" ] || fail "backup holds lock files"
[ "$(stat -c %a "$T/bk/store/data.mdb")" = 600 ] && [ "$(stat -c %a "$T/bk")" = 700 ] || fail "backup modes"
ls "$T" | grep -q 'bk.tmp' && fail "backup left its temporary directory"
pass "$(cat "$T/out")"
cp -a "$T/bk" "$T/bk.copy"
[ "$(rc_of "$OFFCA" backup "$T/bk")" = 73 ] || fail "backup onto an existing backup: exit $(cat "$T/rc")"
one_line "backup onto an existing directory"
diff -r "$T/bk" "$T/bk.copy" >/dev/null || fail "a refused backup changed the existing one"
mkdir "$T/emptydir"
[ "$(rc_of "$OFFCA" backup "$T/emptydir")" = 73 ] || fail "backup onto an empty directory: exit $(cat "$T/rc")"
[ "$(rc_of "$OFFCA" backup "$T/no/such/dir")" != 0 ] || fail "backup under a missing directory succeeded"
one_line "backup under a missing directory"
[ "$(rc_of "$OFFCA" backup "$OFFCA_HOME/outbox/bk")" = 2 ] || fail "backup into the home: exit $(cat "$T/rc")"
one_line "backup into the home"; [ ! -e "$OFFCA_HOME/outbox/bk" ] || fail "backup into the home left files"
[ "$(rc_of "$OFFCA" backup)" = 2 ] || fail "backup without DEST: exit $(cat "$T/rc")"
pass "backup refuses existing destinations, bad paths and the home itself with one line"

# the store is damaged after more work: every command says so; restore brings the backup back
"$SEED" --seed "$OFFCA_HOME" 5 >/dev/null
python3 - "$OFFCA_HOME/store/data.mdb" <<'PY'
import sys
p = sys.argv[1]; d = bytearray(open(p, "rb").read())
ps = int.from_bytes(d[40:44], "little")
cur = 0 if int.from_bytes(d[144:152], "little") > int.from_bytes(d[ps + 144:ps + 152], "little") else 1
d[cur * ps + 128] ^= 0x04   # the current meta's main root: another page
open(p, "wb").write(d)
PY
[ "$(rc_of "$OFFCA" list)" = 19 ] || fail "list on the damaged store: exit $(cat "$T/rc"): $(cat "$T/last.err")"
one_line "list on a damaged store"; grep -q "the store is damaged: see offca restore" "$T/last.err" || fail "$(cat "$T/last.err")"
[ "$(rc_of "$OFFCA" backup "$T/bk2")" = 19 ] || fail "backup of a damaged store: exit $(cat "$T/rc")"
[ ! -e "$T/bk2" ] && ! ls "$T" | grep -q 'bk2.tmp' || fail "a failed backup left files"
pass "damaged store: list and backup exit 19 with one line"
cmp -s "$OFFCA_HOME/store/data.mdb" "$T/damaged.mdb" 2>/dev/null || cp "$OFFCA_HOME/store/data.mdb" "$T/damaged.mdb"
"$OFFCA" restore "$T/bk" > "$T/out" || fail "restore over a damaged store: $(cat "$T/out")"
"$OFFCA" list | cmp -s - "$T/list.before" || fail "restored listing differs from the backup's"
"$OFFCA" audit verify >/dev/null || fail "restored store does not verify"
"$OFFCA" audit show --json | cmp -s - "$T/audit.before" || fail "restored audit log differs"
aside=$(ls -d "$OFFCA_HOME"/.restore-old-* | head -1)
cmp -s "$aside/store/data.mdb" "$T/damaged.mdb" || fail "the damaged store was not kept aside"
"$SEED" --seed "$OFFCA_HOME" 2 >/dev/null || fail "writing to the restored store"
"$OFFCA" audit verify >/dev/null || fail "the restored store does not verify after writing"
pass "restored without --force: same listing and log, damaged files kept in $(basename "$aside"), writable"

# a healthy store is only replaced with --force
"$OFFCA" list > "$T/list.now"
[ "$(rc_of "$OFFCA" restore "$T/bk")" = 73 ] || fail "restore over a healthy store: exit $(cat "$T/rc")"
one_line "restore over a healthy store"; grep -q -- "--force" "$T/last.err" || fail "$(cat "$T/last.err")"
"$OFFCA" list | cmp -s - "$T/list.now" || fail "a refused restore changed the store"
"$OFFCA" restore "$T/bk" --force >/dev/null || fail "restore --force"
"$OFFCA" list | cmp -s - "$T/list.before" || fail "restore --force: listing"
[ "$(ls -d "$OFFCA_HOME"/.restore-old-* | wc -l)" = 2 ] || fail "restore --force kept nothing aside"
pass "healthy store: refused without --force (exit 73), replaced with it, old one kept aside"

# a restore into a new home
"$OFFCA" restore "$T/bk" --home "$T/new" >/dev/null || fail "restore into a new home"
"$OFFCA" list --home "$T/new" | cmp -s - "$T/list.before" || fail "restore into a new home: listing"
pass "restore creates a missing home"

# bad backups: refused with one line, the home unchanged
"$OFFCA" list > "$T/list.now"
bad() { # WHAT WANT_RC SRC
  [ "$(rc_of "$OFFCA" restore "$3" --force)" = "$2" ] || fail "restore from $1: exit $(cat "$T/rc") (want $2): $(cat "$T/last.err")"
  one_line "restore from $1"
  "$OFFCA" list | cmp -s - "$T/list.now" || fail "restore from $1 changed the store"
  pass "restore from $1 -> $(cat "$T/last.err")"
}
bad "a missing directory" 3 "$T/nothing"
: > "$T/afile"; bad "a file" 3 "$T/afile"
mkdir -m 700 "$T/empty"; bad "an empty directory" 3 "$T/empty"
cp -a "$T/bk" "$T/bk.tampered"
mdb_dump -s audit "$T/bk.tampered/store" > "$T/audit.dump"
python3 - "$T/audit.dump" "$T/audit.bad" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
start = lines.index("HEADER=END") + 1
b = bytearray.fromhex(lines[start + 3].strip()); b[len(b) - 70] ^= 0x01
lines[start + 3] = " " + b.hex()
open(sys.argv[2], "w").write("\n".join(lines))
PY
mdb_load -s audit -f "$T/audit.bad" "$T/bk.tampered/store"
rm -f "$T/bk.tampered/store/lock.mdb"
bad "a backup whose audit log was edited" 6 "$T/bk.tampered"
cp -a "$T/bk" "$T/bk.damaged"
printf '\x00\x00\x00\x00' | dd of="$T/bk.damaged/store/data.mdb" bs=1 seek=16 conv=notrunc 2>/dev/null
bad "a backup with a damaged data.mdb" 19 "$T/bk.damaged"
[ "$(rc_of "$OFFCA" restore)" = 2 ] || fail "restore without SRC: exit $(cat "$T/rc")"
[ "$(rc_of "$OFFCA" restore "$T/bk" --bogus)" = 2 ] || fail "restore --bogus: exit $(cat "$T/rc")"
pass "restore usage errors exit 2"
