#!/usr/bin/env bash
# Regenerates docs/cli.md from the command descriptors (offca help --markdown): run after adding or
# changing a command or an option. tests/e2e/cli_doc.sh fails while docs/cli.md differs.
# Usage: scripts/gen-cli-doc.sh [path/to/offca]   (default: build-asan/ui-cli/offca, else build/)
set -euo pipefail
cd "$(dirname "$0")/.."
OFFCA=${1:-}
for c in "$OFFCA" build-asan/ui-cli/offca build/ui-cli/offca; do
  if [ -n "$c" ] && [ -x "$c" ]; then OFFCA=$c; break; fi
done
[ -x "$OFFCA" ] || { echo "gen-cli-doc: build offca first (cmake --build build-asan)" >&2; exit 1; }
"$OFFCA" help --markdown > docs/cli.md.new
mv docs/cli.md.new docs/cli.md
echo "docs/cli.md regenerated from $OFFCA"
