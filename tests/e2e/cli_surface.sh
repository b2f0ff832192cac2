#!/usr/bin/env bash
# The offca command surface: every command and subcommand listed by 'offca help' (so new ones are
# covered without editing this file) has --help with a usage line, 'offca help CMD' prints the same;
# unknown commands, subcommands and flags exit 2 with exactly one line on stderr starting "offca";
# a missing CA home and a nonexistent input file each give one clear line and a non-zero exit.
# The command names and flags the issues spell out are asserted present, in --help and in docs/.
source "$(dirname "$0")/../lib/e2e.sh"
need openssl
unset OFFCA_HOME
cd "$T"
TO=30 # seconds any single invocation may take (nothing here waits for a token or a camera)

# run_cap CMD... : run with no stdin, stdout -> $T/last.out, stderr -> $T/last.err, rc -> $RC
run_cap() {
  RC=0
  timeout "$TO" "$@" </dev/null >"$T/last.out" 2>"$T/last.err" || RC=$?
  [ "$RC" != 124 ] || fail "timed out: $*"
}
# one_err WANT_RC WHAT CMD... : exits WANT_RC ("nz": any non-zero) with exactly one stderr line
# starting "offca"; the line is left in $ERR. MAX_LINES=2 allows a second line (known gaps only).
one_err() {
  local want=$1 what=$2 max=${MAX_LINES:-1}; shift 2
  run_cap "$@"
  if [ "$want" = nz ]; then
    [ "$RC" != 0 ] || fail "$what: exit 0, want non-zero"
  else
    [ "$RC" = "$want" ] || fail "$what: exit $RC, want $want (stderr: $(head -c 300 "$T/last.err"))"
  fi
  local n; n=$(wc -l < "$T/last.err")
  [ "$n" -ge 1 ] && [ "$n" -le "$max" ] || fail "$what: $n lines on stderr, want exactly 1: $(head -c 600 "$T/last.err")"
  [ "$n" = 1 ] || echo "note [$E2E_NAME]: known gap, $n lines on stderr: $what"
  ERR=$(head -n1 "$T/last.err")
  [[ "$ERR" == offca* ]] || fail "$what: stderr does not start with 'offca': $ERR"
}
squeeze() { tr -s ' \t' ' '; }
# names WORD... : the last one_err line contains every WORD
names() { for w in "$@"; do [[ "$ERR" == *"$w"* ]] || fail "'$ERR' does not say '$w'"; done; }

# ---- offca --version, offca help ----
run_cap "$OFFCA" --version
[ "$RC" = 0 ] || fail "--version exits $RC"
grep -Eq '^offca [0-9]+\.[0-9]+\.[0-9]+' "$T/last.out" || fail "--version prints '$(cat "$T/last.out")'"
[ ! -s "$T/last.err" ] || fail "--version wrote to stderr"
run_cap "$OFFCA" help
[ "$RC" = 0 ] || fail "offca help exits $RC"
cp "$T/last.out" "$T/help.txt"
grep -q '^usage: offca ' "$T/help.txt" || fail "offca help has no usage line"
mapfile -t CMDS < <(awk '/^Commands:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on=0}' "$T/help.txt")
[ "${#CMDS[@]}" -ge 10 ] || fail "offca help lists only ${#CMDS[@]} commands"
for want in init token ca sign issue list show revoke crl export audit pending bundle qr ceremony; do
  grep -qx "$want" <<< "$(printf '%s\n' "${CMDS[@]}")" || fail "offca help does not list '$want'"  # no pipe: grep -q exiting first would SIGPIPE printf (pipefail)
done
pass "--version; offca help lists ${#CMDS[@]} commands, every issue-named one among them"

# ---- every command: --help, offca help CMD, unknown flag; subcommands from its help ----
declare -A SUBS
nsub=0
for c in "${CMDS[@]}"; do
  run_cap "$OFFCA" "$c" --help
  [ "$RC" = 0 ] || fail "$c --help exits $RC"
  [ ! -s "$T/last.err" ] || fail "$c --help wrote to stderr: $(head -c 300 "$T/last.err")"
  grep -q "^usage: offca $c\\b" "$T/last.out" || fail "$c --help has no 'usage: offca $c' line"
  cp "$T/last.out" "$T/help-$c.txt"
  run_cap "$OFFCA" help "$c"
  [ "$RC" = 0 ] || fail "offca help $c exits $RC"
  cmp -s "$T/last.out" "$T/help-$c.txt" || fail "'offca help $c' differs from '$c --help'"
  one_err 2 "$c --no-such-flag" "$OFFCA" "$c" --no-such-flag
  # subcommands: words right after 'offca CMD' on the usage lines
  SUBS[$c]=$(sed -nE "s/^(usage:)? +offca $c ([a-z][a-z0-9-]*)( .*)?\$/\\2/p" "$T/help-$c.txt" | sort -u | tr '\n' ' ')
  for s in ${SUBS[$c]}; do
    run_cap "$OFFCA" "$c" "$s" --help
    [ "$RC" = 0 ] || fail "$c $s --help exits $RC"
    [ ! -s "$T/last.err" ] || fail "$c $s --help wrote to stderr"
    grep -q '^usage: ' "$T/last.out" || fail "$c $s --help has no usage line"
    grep -q "offca $c $s" "$T/last.out" || fail "$c $s --help does not show 'offca $c $s'"
    one_err 2 "$c $s --no-such-flag" "$OFFCA" "$c" "$s" --no-such-flag
    nsub=$((nsub + 1))
  done
  if [ -n "${SUBS[$c]}" ]; then
    one_err 2 "$c no-such-subcommand" "$OFFCA" "$c" no-such-subcommand
    run_cap "$OFFCA" "$c" # no subcommand: a usage error
    [ "$RC" = 2 ] || fail "'offca $c' without a subcommand exits $RC, want 2"
  fi
done
pass "${#CMDS[@]} commands and $nsub subcommands: --help, help CMD, unknown flag/subcommand -> exit 2, one line"

has_sub() { [[ " ${SUBS[$1]} " == *" $2 "* ]] || fail "'offca $1 --help' does not list subcommand '$2'"; }
for cs in "token list" "token keygen" "token wait" "ca root" "ca intermediate" "crl status" "audit verify" \
  "bundle create" "bundle verify" "bundle import" "bundle export" "qr encode" "qr show" "qr decode" "qr scan" \
  "ceremony run" "ceremony verify"; do
  has_sub $cs
done
for c in token bundle qr pending audit; do
  one_err 2 "$c without a subcommand" "$OFFCA" "$c"; names "$c"
done
pass "issue-named subcommands present; no subcommand: exit 2"

# ---- unknown commands ----
one_err 2 "unknown command" "$OFFCA" no-such-command
[[ "$ERR" == *no-such-command* ]] || fail "unknown command not named: $ERR"
one_err 2 "offca help unknown" "$OFFCA" help no-such-command
one_err 2 "unknown option as command" "$OFFCA" --no-such-flag
run_cap "$OFFCA"
[ "$RC" = 2 ] || fail "offca without arguments exits $RC, want 2"
pass "unknown command -> exit 2, one line naming it"

# ---- the issues' spellings, in --help and in docs/ ----
cat "$OFFCA_SRC"/docs/*.md "$OFFCA_SRC/README.md" | squeeze > "$T/docs.txt"
# spelled CMD NEEDLE [DOCS_NEEDLE] : NEEDLE (whitespace squeezed) is in 'offca CMD --help', and
# DOCS_NEEDLE (default: NEEDLE) somewhere in docs/
spelled() {
  local c=$1 needle docs; needle=$(printf '%s' "$2" | squeeze); docs=$(printf '%s' "${3:-$2}" | squeeze)
  squeeze < "$T/help-$c.txt" | grep -qF -- "$needle" || fail "'offca $c --help' does not show '$needle'"
  grep -qF -- "$docs" "$T/docs.txt" || fail "docs/ do not show '$docs'"
}
grep -qF -- 'offca --version' "$T/docs.txt" || fail "docs/ do not mention offca --version"
grep -qF -- 'offca help' "$T/docs.txt" || fail "docs/ do not mention offca help"
spelled token 'offca token list [--module PATH] [--json]'
spelled token 'offca token keygen --token URI --label NAME --type'
spelled token '[--pin-file F]'
for t in ec-p256 ec-p384 rsa-3072 rsa-4096 ed25519; do spelled token "$t"; done
spelled token 'offca token wait [--timeout SECONDS]'
spelled init 'offca init [--home DIR]'
spelled list '[--expiring DAYS] [--revoked]'
spelled list '[--json]'
spelled show 'offca show SERIAL|FINGERPRINT|SAN [--json]'
spelled revoke 'offca revoke SERIAL [--reason'
spelled export 'offca export SERIAL --format pem|der|chain|fullchain [--out FILE]'
spelled audit 'offca audit verify'
spelled ca 'offca ca root --key URI --subject DN --days N'
spelled ca 'offca ca intermediate --key URI --subject DN --days N'
for f in '--path-len' '--permit-dns SUFFIX' '--csr FILE' '--issuer'; do spelled ca "$f"; done
# docs/ca.md shows examples rather than this synopsis (reported)
spelled sign 'offca sign --csr FILE... --profile server|client|mtls [--days N] [--out FILE|--out-dir DIR]' \
  'offca sign --csr'
spelled sign '--dry-run'
spelled issue 'offca issue --generate-key'
spelled issue '--legacy'
spelled crl 'offca crl [--issuer NAME] [--days N] [--out FILE]'
spelled crl 'offca crl status'
spelled bundle 'offca bundle create --out FILE'
spelled bundle 'ITEM...'
spelled bundle 'offca bundle verify FILE [--ca ROOT.pem]'
spelled bundle 'offca bundle import FILE'
spelled bundle 'offca bundle export --out FILE [--since'
spelled qr 'offca qr encode FILE --out-dir DIR'
spelled qr 'offca qr show FILE'
spelled qr 'offca qr decode IMAGE... [--out FILE]'
spelled qr 'offca qr scan [--device /dev/video0]'
spelled ceremony 'offca ceremony run FILE [--dry-run]'
spelled ceremony '--answers FILE'
spelled ceremony 'offca ceremony verify TRANSCRIPT'
pass "issue-named commands and flags spelled exactly in --help and docs/"

# ---- no CA home: one line naming --home and OFFCA_HOME, exit 2 ----
N="$T/nonexistent"
DOCS_EX="$OFFCA_SRC/docs/examples"
no_home=(
  "init" "list" "show 01" "revoke 01" "export 01 --format pem" "audit verify" "audit show" "pending list"
  "crl" "crl status" "ca list" "sign --pending-all --profile server" "bundle export --out $N.offca"
  "bundle import $N.offca" "qr decode $N.png --import"
)
for a in "${no_home[@]}"; do
  # shellcheck disable=SC2086 # the arguments are words on purpose
  one_err 2 "$a without a CA home" "$OFFCA" $a
  [[ "$ERR" == *--home* && "$ERR" == *OFFCA_HOME* ]] || fail "$a without a home: '$ERR' does not say --home/OFFCA_HOME"
done
pass "${#no_home[@]} commands without --home/OFFCA_HOME: exit 2, one line"

# ---- nonexistent input files: one line naming the file, non-zero exit ----
e2e_token qa
H="$T/home"
"$OFFCA" init --home "$H" >/dev/null || fail "init"
export OFFCA_HOME="$H"
"$OFFCA" token keygen --token pkcs11:token=qa --label root --type ec-p256 --pin-file "$T/qa.pin" >/dev/null \
  || fail "token keygen"
"$OFFCA" ca root --key "pkcs11:token=qa;object=root;type=private" --subject "CN=cli surface root" --days 30 \
  --pin-file "$T/qa.pin" >/dev/null 2>&1 || fail "ca root"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/r.key" -subj /CN=a.example \
  -addext subjectAltName=DNS:a.example -out "$T/r.csr" 2>/dev/null || fail "openssl req"
"$OFFCA" bundle create --out "$T/in.offca" "$T/r.csr" >/dev/null || fail "bundle create"
no_file=(
  "$N.csr|sign --csr $N.csr --profile server --pin-file $T/qa.pin"
  "$N.csr|ca intermediate --csr $N.csr --subject CN=x --days 10 --pin-file $T/qa.pin"
  "$N.pin|crl --pin-file $N.pin"
  "$N.pin|token keygen --token pkcs11:token=qa --label k --type ec-p256 --pin-file $N.pin"
  "$N.pin|token show-key pkcs11:token=qa;object=k --pin-file $N.pin"
  "$N.so|token list --module $N.so"
  "$N.csr|bundle create --out $T/new.offca $N.csr"
  "$N.offca|bundle verify $N.offca"
  "$N.pem|bundle verify $T/in.offca --ca $N.pem"
  "$N.offca|bundle import $N.offca"
  "$N.offca|bundle extract $N.offca --out-dir $T/x"
  "$N.pem|bundle enroll-operator $N.pem --name bob"
  "$N.csr|qr encode $N.csr --out-dir $T/frames"
  "$N.csr|qr show $N.csr"
  "$N.png|qr decode $N.png"
  "$N.txt|qr decode --text $N.txt"
  "$N|qr scan --device $N"
  "$N.transcript|ceremony verify $N.transcript"
  "$N.transcript|ceremony print $N.transcript --out $T/t.pdf"
  "$N.yaml|ceremony run $DOCS_EX/root-key.yaml --answers $N.yaml --dry-run"
  "$N|ceremony run $DOCS_EX/root-key.yaml --credentials $N"
  "$N.yaml|ceremony validate $N.yaml"
  "$N.yaml|ceremony run $N.yaml"
  "$N.yaml|ceremony run $N.yaml --dry-run"
)
for entry in "${no_file[@]}"; do
  path=${entry%%|*}; a=${entry#*|}
  # shellcheck disable=SC2086
  one_err nz "$a (nonexistent file)" "$OFFCA" $a
  [[ "$ERR" == *"$path"* ]] || fail "$a: '$ERR' does not name $path"
done
[ ! -e "$T/new.offca" ] && [ ! -e "$T/frames" ] && [ ! -e "$T/x" ] && [ ! -e "$T/t.pdf" ] \
  || fail "a failed command left an output behind"
pass "${#no_file[@]} commands given a nonexistent file: one line naming it, non-zero exit, no output"

# ---- bad inputs to token, inventory, bundle and qr: one line, "offca", what and where, the exit
# code docs/exit-codes.md gives ----
: > "$T/empty"; mkdir "$T/adir"; (umask 077; : > "$T/empty.pin"; echo 000000 > "$T/wrong.pin")
echo 123456 > "$T/open.pin"; chmod 644 "$T/open.pin"
one_err 7 "keygen with a wrong PIN" "$OFFCA" token keygen --token pkcs11:token=qa --label k --type ec-p256 \
  --pin-file "$T/wrong.pin"; names "wrong PIN" "'qa'"
one_err 9 "keygen on an absent token" "$OFFCA" token keygen --token pkcs11:token=absent --label k --type ec-p256 \
  --pin-file "$T/qa.pin"; names "token=absent"
one_err 77 "PIN file readable by others" "$OFFCA" token keygen --token pkcs11:token=qa --label k --type ec-p256 \
  --pin-file "$T/open.pin"; names "$T/open.pin" "chmod"
one_err 65 "empty PIN file" "$OFFCA" token keygen --token pkcs11:token=qa --label k --type ec-p256 \
  --pin-file "$T/empty.pin"; names "$T/empty.pin" "empty"
one_err 73 "keygen with an existing label" "$OFFCA" token keygen --token pkcs11:token=qa --label root \
  --type ec-p256 --pin-file "$T/qa.pin"; names "root"
one_err 15 "token wait for an absent token" "$OFFCA" token wait --timeout 1 --token pkcs11:token=absent
names "timed out" "pkcs11:token=absent"
one_err 11 "directory as module" "$OFFCA" token list --module "$T/adir"; names "$T/adir"
one_err 2 "option needing a value" "$OFFCA" token list --module; names "--module" "needs a value"
one_err 2 "option of another subcommand" "$OFFCA" token list --label x; names "--label" "does not apply"
one_err 73 "init on a file" "$OFFCA" init --home "$T/empty"; names "$T/empty" "not a directory"
one_err 2 "list --expiring without a value" "$OFFCA" list --expiring; names "--expiring" "needs a value"
one_err 2 "list --reason" "$OFFCA" list --reason keyCompromise; names "--reason" "does not apply"
one_err 3 "show a name no certificate has" "$OFFCA" show not-hex; names "not-hex" "SAN"
one_err 65 "show a serial too long" "$OFFCA" show "$(printf '%070d' 1)"; names "$(printf '%070d' 1)"
one_err 3 "show an unknown serial" "$OFFCA" show 0102; names "0102"
ROOT_SERIAL=$("$OFFCA" list | awk 'NR == 2 {print $1}')
"$OFFCA" export "$ROOT_SERIAL" --format pem --out "$T/root.pem" || fail "export root"
one_err 73 "export over an existing file" "$OFFCA" export "$ROOT_SERIAL" --format pem --out "$T/root.pem"
names "$T/root.pem"
one_err 65 "empty bundle" "$OFFCA" bundle verify "$T/empty"; names "$T/empty"
one_err nz "directory as bundle" "$OFFCA" bundle verify "$T/adir"; names "$T/adir"
one_err 73 "bundle create over an existing file" "$OFFCA" bundle create --out "$T/in.offca" "$T/r.csr"
names "$T/in.offca"
one_err 2 "bundle import --ca (verify's option, not import's)" "$OFFCA" bundle import "$T/in.offca" --ca "$T/root.pem"
names "--ca" "does not apply"
one_err 2 "bundle export --since junk" "$OFFCA" bundle export --out "$T/o.offca" --since yesterday; names "yesterday"
env -u OFFCA_HOME "$OFFCA" bundle create --out "$T/out.offca" --direction out "$T/r.csr" >/dev/null || fail "unsigned outbound bundle"
one_err 4 "importing an outbound bundle" "$OFFCA" bundle import "$T/out.offca"; names "$T/out.offca" "nothing imported"
one_err 6 "unsigned outbound bundle" "$OFFCA" bundle verify "$T/out.offca"; names "$T/out.offca" "not signed"
one_err 65 "qr encode an empty file" "$OFFCA" qr encode "$T/empty" --out-dir "$T/f"; names "$T/empty"
one_err nz "qr encode a directory" "$OFFCA" qr encode "$T/adir" --out-dir "$T/f"; names "$T/adir"
one_err 65 "qr encode garbage" "$OFFCA" qr encode "$T/qa.pin" --out-dir "$T/f"; names "$T/qa.pin"
[ ! -e "$T/f" ] || fail "qr encode left $T/f behind"
one_err 2 "qr encode --out (decode's option)" "$OFFCA" qr encode "$T/r.csr" --out "$T/x"; names "--out" "does not apply"
one_err 2 "qr encode --type junk" "$OFFCA" qr encode "$T/r.csr" --text --type junk; names "--type" "junk"
"$OFFCA" qr encode "$T/r.csr" --out-dir "$T/frames" --quiet || fail "qr encode"
"$OFFCA" qr decode "$T/frames/frame-001.png" --out "$T/r.der" --quiet || fail "qr decode"
openssl req -in "$T/r.csr" -outform der | cmp -s - "$T/r.der" || fail "qr round trip"
one_err 73 "qr decode over an existing file (refused before decoding)" "$OFFCA" qr decode \
  "$T/frames/frame-001.png" --out "$T/r.der"; names "$T/r.der"
one_err 65 "qr decode an empty file" "$OFFCA" qr decode "$T/empty"; names "$T/empty"
one_err 65 "qr decode a CSR as an image" "$OFFCA" qr decode "$T/r.csr"; names "$T/r.csr"
one_err nz "qr decode --text a directory" "$OFFCA" qr decode --text "$T/adir"; names "$T/adir"
one_err 3 "qr decode --text a file without URs" "$OFFCA" qr decode --text "$T/r.csr"; names "$T/r.csr"
one_err 2 "qr decode --import --out" "$OFFCA" qr decode "$T/frames/frame-001.png" --import --out "$T/y"
if command -v python3 >/dev/null; then # a valid PNG without a QR code: one line, not a warning and an error
  python3 -c 'import struct,zlib,sys
def ch(t,d): return struct.pack(">I",len(d))+t+d+struct.pack(">I",zlib.crc32(t+d)&0xffffffff)
raw=b"".join(b"\0"+b"\xff"*64 for _ in range(64))
sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n"+ch(b"IHDR",struct.pack(">IIBBBBB",64,64,8,0,0,0,0))+ch(b"IDAT",zlib.compress(raw))+ch(b"IEND",b""))' \
    > "$T/white.png"
  one_err 3 "qr decode an image without a QR code" "$OFFCA" qr decode "$T/white.png"; names "$T/white.png" "no QR code"
  "$OFFCA" qr decode "$T/white.png" "$T/frames/frame-001.png" --out "$T/r2.der" 2>"$T/mixed.err" \
    || fail "decode with one image lacking a QR code: $(cat "$T/mixed.err")"
  grep -q "warning: $T/white.png: no QR code found" "$T/mixed.err" || fail "no warning for the empty image"
fi
pass "bad inputs to token, inventory, bundle and qr: one line each, documented exit codes"
