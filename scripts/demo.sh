#!/usr/bin/env bash
# Installs what offca needs (Debian 12), builds it, and runs the demo in a private directory:
# a SoftHSM2 token of its own (never the system token store) and a CA key generated on it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
exec bash scripts/demo-run.sh build/ui-cli/offca
