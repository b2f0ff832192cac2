#!/usr/bin/env bash
# The demo itself, given the offca binary: scripts/demo-run.sh PATH/TO/offca [DEMO_DIR]
set -euo pipefail
OFFCA=$(readlink -f "$1")
DEMO=${2:-$(mktemp -d /tmp/offca-demo.XXXXXX)}
mkdir -p "$DEMO"; chmod 700 "$DEMO"
export SOFTHSM2_CONF="$DEMO/softhsm2.conf"
mkdir -p "$DEMO/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$DEMO" > "$SOFTHSM2_CONF"
step() { printf '\n== %s\n' "$*"; }

step "A private SoftHSM2 token for the root CA key ($DEMO/tokens)"
softhsm2-util --init-token --free --label demo-root --so-pin 87654321 --pin 123456 >/dev/null
(umask 077; echo 123456 > "$DEMO/root.pin")
"$OFFCA" token list

step "Generate a non-extractable EC P-384 root key on the token"
ROOT_KEY=$("$OFFCA" token keygen --token "pkcs11:token=demo-root" --label root-ca --type ec-p384 --pin-file "$DEMO/root.pin")
echo "$ROOT_KEY"
pkcs11-tool --module "$("$OFFCA" token list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["module"])')" \
  --token-label demo-root --login --pin "$(cat "$DEMO/root.pin")" --list-objects --type privkey 2>/dev/null | sed 's/^/  /'
echo
echo "Demo directory: $DEMO"
