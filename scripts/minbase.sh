#!/usr/bin/env bash
# Prints the path of a Debian 12 root made by `debootstrap --variant=minbase` (the smallest
# Debian 12 system: Priority required packages and apt), as a tarball kept in a cache. Makes it
# on first use: a few minutes, root, and the Debian mirror apt uses here (scripts/lib/apt-sources.sh).
# Used by scripts/offline-bundle.sh (which packages such a system lacks) and by
# tests/install/offline_install.sh (the system the bundle is installed on).
# Cache: $OFFCA_CACHE (default ~/.cache/offca); delete the tarball to make a fresh one.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/apt-sources.sh"
die() { echo "minbase.sh: $*" >&2; exit 1; }

ARCH=$(dpkg --print-architecture)
CACHE=${OFFCA_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/offca}
TARBALL=$CACHE/debian12-minbase-$ARCH.tar.gz
mkdir -p "$CACHE"
exec 9>"$CACHE/.minbase.lock"
flock 9                                  # two callers at once: the second waits and reuses it
if [ ! -s "$TARBALL" ]; then
  [ "$(id -u)" -eq 0 ] || die "making the minimal root needs root (debootstrap)"
  if ! command -v debootstrap >/dev/null; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  fi
  MIRROR=$(debian_mirror)
  [ -n "$MIRROR" ] || die "no bookworm source in /etc/apt (set OFFCA_DEBIAN_MIRROR)"
  ROOT=$(mktemp -d "$CACHE/minbase.XXXXXX")
  trap 'rm -rf "$ROOT" "$TARBALL.tmp"' EXIT
  echo "minbase.sh: debootstrap --variant=minbase bookworm from $MIRROR (once; cached in $TARBALL)" >&2
  if ! debootstrap --variant=minbase --arch="$ARCH" bookworm "$ROOT" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1; then
    tail -n 20 "$CACHE/debootstrap.log" >&2
    die "debootstrap failed (log: $CACHE/debootstrap.log)"
  fi
  chmod 755 "$ROOT"
  rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*_Packages
  tar -C "$ROOT" --numeric-owner -czf "$TARBALL.tmp" .
  mv "$TARBALL.tmp" "$TARBALL"
fi
echo "$TARBALL"
