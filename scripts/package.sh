#!/usr/bin/env bash
# Builds offca's Debian packages (offca, offca-acme, offca-gateway, offca-agent) from this tree with debian/ and
# dpkg-buildpackage, then checks them with lintian (any error fails).
# Usage: scripts/package.sh [OUTDIR]      (default build-pkg/; the .debs land in OUTDIR)
# The version is VERSION's (the one `offca --version` prints); the git commit is recorded in each
# package's control field Offca-Commit and in /usr/share/doc/PACKAGE/build-info ("+dirty" when
# the tree had uncommitted changes). Installs its own build dependencies (Debian 12, as root).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
OUT=$(mkdir -p "${1:-build-pkg}" && cd "${1:-build-pkg}" && pwd)
die() { echo "package.sh: $*" >&2; exit 1; }

VERSION=$(head -n1 VERSION)
[[ $VERSION =~ ^[0-9][0-9A-Za-z.+~]*$ ]] || die "VERSION '$VERSION' is not a Debian native version"

# --- tools, then the build dependencies debian/control names --------------------------------
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "package.sh: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
apt_install dpkg-dev debhelper lintian git

# --- the commit it is built from ------------------------------------------------------------
if COMMIT=$(git -C "$SRC" rev-parse HEAD 2>/dev/null); then
  [ -z "$(git -C "$SRC" status --porcelain)" ] || COMMIT="$COMMIT+dirty"
  DATE=$(git -C "$SRC" log -1 --format=%cD)
else
  COMMIT=${OFFCA_COMMIT:?not a git checkout: set OFFCA_COMMIT to the commit this tree is}
  DATE=$(date -R)
fi

# --- a clean copy of the tree (tracked and new files, not build dirs) -------------------------
STAGE=$OUT/src/offca-$VERSION
rm -rf "$OUT/src" && mkdir -p "$STAGE"
rm -f "$OUT"/offca*_"$VERSION"_*.deb "$OUT"/offca*_"$VERSION"_*.ddeb "$OUT"/offca_"$VERSION"_*.changes \
      "$OUT"/offca_"$VERSION"_*.buildinfo
git -C "$SRC" ls-files -z --cached --others --exclude-standard |
  (cd "$SRC" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
  tar -C "$SRC" --null -T - -cf - | tar -C "$STAGE" -xf -
MAINT=$(sed -n 's/^Maintainer: //p' debian/control)
cat > "$STAGE/debian/changelog" <<EOF
offca ($VERSION) bookworm; urgency=medium

  * Built from git commit $COMMIT.

 -- $MAINT  $DATE
EOF

cd "$STAGE"
if ! dpkg-checkbuilddeps >/dev/null 2>&1; then
  echo "package.sh: installing the build dependencies of debian/control" >&2
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get build-dep -y -qq --no-install-recommends ./ >/dev/null
fi

echo "package.sh: building offca $VERSION from $COMMIT (log: $OUT/build.log)" >&2
if ! OFFCA_COMMIT=$COMMIT DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
     dpkg-buildpackage -b -us -uc >"$OUT/build.log" 2>&1; then
  tail -n 30 "$OUT/build.log" >&2
  die "dpkg-buildpackage failed (whole log: $OUT/build.log)"
fi
mv "$OUT"/src/*.deb "$OUT"/src/*.ddeb "$OUT"/src/*.changes "$OUT"/src/*.buildinfo "$OUT"/ 2>/dev/null || true

CHANGES=$(ls "$OUT"/offca_"$VERSION"_*.changes)
echo "package.sh: lintian (log: $OUT/lintian.log)" >&2
if ! lintian --fail-on error --tag-display-limit 0 "$CHANGES" >"$OUT/lintian.log" 2>&1; then
  grep '^E:' "$OUT/lintian.log" >&2 || cat "$OUT/lintian.log" >&2
  die "lintian reports errors"
fi
n=$(grep -c '^[WIP]:' "$OUT/lintian.log" || true)
echo "package.sh: lintian: no errors ($n warnings and notes: $OUT/lintian.log)" >&2
rm -rf "$OUT/src"
ls "$OUT"/offca*_"$VERSION"_*.deb
