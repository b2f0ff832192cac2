#!/bin/sh
# cmake/man-commands.sh PROGRAM DOCDIR OUT: a help2man --include file for PROGRAM's man page: a
# COMMANDS section with `PROGRAM COMMAND --help` of every command its --help lists (verbatim,
# escaped for roff), and a SEE ALSO section naming DOCDIR. Run at build time (OFFCA_MANPAGES).
set -eu
prog=$1 docdir=$2 out=$3
name=$(basename "$prog")
roff() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
{
  echo "[COMMANDS]"
  "$prog" --help 2>&1 | awk '/^Commands:/ { on = 1; next } on && /^$/ { on = 0 } on && /^  [a-z]/ { print $1 }' |
    while read -r cmd; do
      echo ".SS \"$name $cmd\""
      echo ".nf"
      "$prog" "$cmd" --help 2>&1 | roff
      echo ".fi"
    done
  echo "[SEE ALSO]"
  echo "The documentation and examples in"
  echo ".IR $docdir/ ."
} > "$out"
