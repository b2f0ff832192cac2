#!/usr/bin/env bash
# docs/cli.md is what `offca help --markdown` generates from the command descriptors (every command,
# subcommand and option), so the reference cannot drift from the parser: regenerate it with
# scripts/gen-cli-doc.sh. Also checks, independently of the generator, that every option each
# command's --help shows appears in docs/cli.md under that command.
source "$(dirname "$0")/../lib/e2e.sh"
unset OFFCA_HOME
DOC="$OFFCA_SRC/docs/cli.md"
[ -f "$DOC" ] || fail "docs/cli.md is missing (scripts/gen-cli-doc.sh)"
"$OFFCA" help --markdown > "$T/cli.md"
diff -u "$DOC" "$T/cli.md" > "$T/diff" || fail "docs/cli.md is stale: run scripts/gen-cli-doc.sh ($(head -c 1500 "$T/diff"))"
pass "docs/cli.md is what offca help --markdown generates"

# every command of 'offca help' has a section; every --option in a command's (or subcommand's)
# --help is in the table of its section
mapfile -t CMDS < <("$OFFCA" help | awk '/^Commands:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on=0}')
n=0
section() { awk -v h="offca $1" '$0 ~ "^#+ " && $0 !~ "^#+ "h"$" && found {exit} $0 ~ "^#+ "h"$" {found=1} found' "$DOC"; }
for c in "${CMDS[@]}"; do
  grep -q "^## offca $c\$" "$DOC" || fail "docs/cli.md has no section for offca $c"
  # options described by the descriptor tables: the 'Options' blocks of --help
  "$OFFCA" "$c" --help | awk '/^Options/ {on=1; next} on && /^  --/ {print $1} on && /^$/ {on=0}' > "$T/opts"
  while read -r o; do
    section "$c" | grep -qF -- "| \`$o\`" || fail "docs/cli.md: offca $c does not list $o"
    n=$((n + 1))
  done < "$T/opts"
done
pass "every command has a section in docs/cli.md; $n options of --help are in its table"

# the usage errors of the one parser: one line, exit 2 (docs/exit-codes.md)
H="$T/home"; "$OFFCA" init --home "$H" >/dev/null
err1() { # WANT-IN-MESSAGE CMD...
  local want=$1; shift; local rc=0
  "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
  [ "$rc" = 2 ] || fail "$*: exit $rc, want 2"
  [ "$(wc -l < "$T/err")" = 1 ] || fail "$*: $(wc -l < "$T/err") lines on stderr"
  grep -qF -- "$want" "$T/err" || fail "$*: '$(cat "$T/err")' does not say '$want'"
  [ ! -s "$T/out" ] || fail "$*: printed on stdout"
}
err1 "unknown option '--bogus'" "$OFFCA" list --home "$H" --bogus
err1 "unknown option '-x'" "$OFFCA" list --home "$H" -x
err1 "option '--issuer' needs a value" "$OFFCA" list --home "$H" --issuer
err1 "--expiring takes a number of days 0..36500, not '-1'" "$OFFCA" list --home "$H" --expiring -1
err1 "--expiring takes a number of days 0..36500, not '99999'" "$OFFCA" list --home "$H" --expiring 99999
err1 "--expiring takes a number of days 0..36500, not '3d'" "$OFFCA" list --home "$H" --expiring=3d
err1 "--reason takes one of unspecified, keyCompromise" "$OFFCA" revoke 01 --home "$H" --reason nope
err1 "option '--json' takes no value" "$OFFCA" list --home "$H" --json=yes
err1 "option '--reason' does not apply to list" "$OFFCA" list --home "$H" --reason keyCompromise
err1 "missing SERIAL|FINGERPRINT|SAN" "$OFFCA" show --home "$H"
err1 "unexpected argument 'b'" "$OFFCA" show a b --home "$H"
err1 "--home needs a path" "$OFFCA" list --home ""
err1 "--expiring and --due" "$OFFCA" list --home "$H" --expiring 3 --due
err1 "missing subcommand" "$OFFCA" audit
err1 "unknown subcommand 'nope'" "$OFFCA" audit nope
# --name=value and options before a group's subcommand
"$OFFCA" list --home="$H" --expiring=3 >/dev/null || fail "--name=value"
"$OFFCA" audit --home "$H" verify | grep -q "audit log OK" || fail "options before the subcommand"
pass "usage errors: one line each, exit 2, nothing on stdout; --name=value; options before a subcommand"
