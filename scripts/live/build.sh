#!/usr/bin/env bash
# Builds the offca live image (a Debian 12 live ISO, bootable from a USB stick, with offca
# installed and the network off) with live-build, on an online Debian 12 machine, as root.
# Not run by CI (about 15 minutes and 1 GB). Usage: scripts/live/build.sh [WORKDIR]
# Output: WORKDIR/live-image-amd64.hybrid.iso (default WORKDIR build-live/). docs/install.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
W=$(mkdir -p "${1:-$SRC/build-live}" && cd "${1:-$SRC/build-live}" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "build.sh: live-build needs root" >&2; exit 1; }
if ! command -v lb >/dev/null; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends live-build >/dev/null
fi
bash "$SRC/scripts/package.sh" "$W/pkg" >/dev/null
rm -rf "$W/image" && mkdir -p "$W/image"
cp -a "$HERE/auto" "$HERE/config" "$W/image/"
rm -f "$W/image/config/packages.chroot/README"
for deb in "$W"/pkg/offca*_*.deb; do
  case "$deb" in *-dbgsym_*) ;; *) cp "$deb" "$W/image/config/packages.chroot/" ;; esac
done
. "$SRC/scripts/lib/apt-sources.sh"
MIRROR=$(debian_mirror)
cd "$W/image"
lb config --mirror-bootstrap "$MIRROR" --mirror-chroot "$MIRROR" --mirror-binary http://deb.debian.org/debian/
lb build
mv live-image-amd64.hybrid.iso "$W/"
sha256sum "$W/live-image-amd64.hybrid.iso"
