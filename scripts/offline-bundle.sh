#!/usr/bin/env bash
# Makes an offline installation bundle for an air-gapped Debian 12 machine: DIR and DIR.tar,
# holding offca's packages and every Debian 12 package they need that a minimal Debian 12 system
# (debootstrap --variant=minbase) lacks, a Packages index, BUNDLE-INFO (release, architecture,
# what to install), install.sh, SHA256SUMS and, with --sign-key, SHA256SUMS.sig (gpg, detached)
# plus the signer's public key operator-key.gpg. Run on an online Debian 12 machine, as root.
#
# Usage: scripts/offline-bundle.sh [--debs DIR] [--with PKG]... [--sign-key KEYID] [--no-deps] DIR
#   --debs DIR      offca's .debs (default: build them now with scripts/package.sh into build-pkg/)
#   --with PKG      also carry PKG and what it needs: one of ours (offca-acme) or any Debian
#                   package; the default set is offca opensc-pkcs11 pcscd softhsm2 opensc
#   --sign-key KEY  sign SHA256SUMS with this gpg key of your keyring (gpg --detach-sign)
#   --no-deps       carry only the .debs of --debs DIR, install all of them, resolve nothing
#                   (a bundle for a machine that has the rest; the tests use it)
# docs/install.md is the operator's guide.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/apt-sources.sh"
die() { echo "offline-bundle.sh: $*" >&2; exit 1; }
usage() { sed -n 's/^# \{0,1\}//; 8,15p' "$0" >&2; exit 2; }

DEBS="" SIGN_KEY="" NO_DEPS=0 DIR=""
WANT=(offca opensc-pkcs11 pcscd softhsm2 opensc)
while [ $# -gt 0 ]; do
  case "$1" in
  --debs) [ $# -ge 2 ] || usage; DEBS=$(cd "$2" && pwd) || die "--debs $2: no such directory"; shift 2 ;;
  --with) [ $# -ge 2 ] || usage; WANT+=("$2"); shift 2 ;;
  --sign-key) [ $# -ge 2 ] || usage; SIGN_KEY=$2; shift 2 ;;
  --no-deps) NO_DEPS=1; shift ;;
  -*) usage ;;
  *) [ -z "$DIR" ] || usage; DIR=$1; shift ;;
  esac
done
[ -n "$DIR" ] || usage
if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR")" ]; then die "$DIR exists and is not empty"; fi
if [ -e "$DIR.tar" ]; then die "$DIR.tar exists"; fi
mkdir -p "$(dirname "$DIR")"
PARENT=$(cd "$(dirname "$DIR")" && pwd) NAME=$(basename "$DIR")
FINAL=$PARENT/$NAME
# everything is made in a staging directory next to DIR and renamed at the end: a failure
# leaves no half-made bundle
DIR=$(mktemp -d "$PARENT/.$NAME.XXXXXX")
chmod 755 "$DIR"
ARCH=$(dpkg --print-architecture)
T=$(mktemp -d /tmp/offca-bundle.XXXXXX)
trap 'rm -rf "$T" "$DIR" "$FINAL.tar.tmp"' EXIT

if [ -z "$DEBS" ]; then
  bash "$HERE/package.sh" "$HERE/../build-pkg" >/dev/null
  DEBS=$(cd "$HERE/../build-pkg" && pwd)
fi

# --- our packages (never the -dbgsym ones), newest version of each --------------------------
declare -A ours=()
for deb in "$DEBS"/*.deb; do
  [ -e "$deb" ] || die "no .deb in $DEBS"
  p=$(dpkg-deb -f "$deb" Package)
  case "$p" in *-dbgsym) continue ;; esac
  if [ -n "${ours[$p]:-}" ]; then
    dpkg --compare-versions "$(dpkg-deb -f "$deb" Version)" gt "$(dpkg-deb -f "${ours[$p]}" Version)" || continue
  fi
  ours[$p]=$deb
done

INSTALL=() ARGS=()
if [ "$NO_DEPS" -eq 1 ]; then
  for p in "${!ours[@]}"; do INSTALL+=("$p"); cp "${ours[$p]}" "$DIR/"; done
else
  for p in "${WANT[@]}"; do
    INSTALL+=("$p")
    if [ -n "${ours[$p]:-}" ]; then ARGS+=("${ours[$p]}"); cp "${ours[$p]}" "$DIR/"; else ARGS+=("$p"); fi
  done
  # --- what a minimal Debian 12 lacks: apt's own answer, against the minimal root's dpkg status,
  # from Debian's signed archive (private lists and cache; this machine's apt state is untouched)
  TARBALL=$(bash "$HERE/minbase.sh")
  tar -xzOf "$TARBALL" ./var/lib/dpkg/status > "$T/status"
  mkdir -p "$T/state/lists/partial" "$T/cache/archives/partial"
  debian_sources | while read -r uri suite; do
    echo "deb [arch=$ARCH signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main"
  done > "$T/sources.list"
  [ -s "$T/sources.list" ] || die "no Debian 12 source in /etc/apt (set OFFCA_DEBIAN_MIRROR)"
  cat > "$T/apt.conf" <<EOF
Dir::Etc::Parts "/nonexistent";
Dir::Etc::SourceList "$T/sources.list";
Dir::Etc::SourceParts "/nonexistent";
Dir::Etc::Preferences "/nonexistent";
Dir::Etc::PreferencesParts "/nonexistent";
Dir::State "$T/state";
Dir::State::status "$T/status";
Dir::Cache "$T/cache";
APT::Architecture "$ARCH";
APT::Architectures { "$ARCH"; };
APT::Install-Recommends "false";
Acquire::Languages "none";
Debug::NoLocking "true";
EOF
  export APT_CONFIG=$T/apt.conf
  echo "offline-bundle.sh: resolving ${WANT[*]} against a minimal Debian 12 ($ARCH)" >&2
  apt-get -q update >"$T/apt.log" 2>&1 || { cat "$T/apt.log" >&2; die "apt-get update failed"; }
  if ! apt-get -q -y --download-only install "${ARGS[@]}" >>"$T/apt.log" 2>&1; then
    grep -E '^(E|W):|Depends|not installable' "$T/apt.log" >&2 || tail -n 20 "$T/apt.log" >&2
    die "apt cannot resolve ${WANT[*]} on Debian 12"
  fi
  unset APT_CONFIG
  cp "$T"/cache/archives/*.deb "$DIR/"
fi

# --- the index, what to install, the installer, the sums, the signature ----------------------
cd "$DIR"
dpkg-scanpackages -m . /dev/null 2>/dev/null > Packages
OFFCA_DEB=${ours[offca]:-}
{
  echo "Format: offca-bundle 1"
  echo "Debian-Release: 12"
  echo "Debian-Codename: bookworm"
  echo "Architecture: $ARCH"
  echo "Install: ${INSTALL[*]}"
  echo "Offca-Packages: $(for p in "${!ours[@]}"; do [ -e "$(basename "${ours[$p]}")" ] && echo "$p"; done | sort | paste -sd' ')"
  [ -z "$OFFCA_DEB" ] || echo "Offca-Version: $(dpkg-deb -f "$OFFCA_DEB" Version)"
  [ -z "$OFFCA_DEB" ] || echo "Offca-Commit: $(dpkg-deb -f "$OFFCA_DEB" Offca-Commit)"
  echo "Created: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} > BUNDLE-INFO
install -m 755 "$HERE/offline/install.sh" install.sh
if [ -n "$SIGN_KEY" ]; then
  gpg --batch --yes --export "$SIGN_KEY" > operator-key.gpg
  [ -s operator-key.gpg ] || die "gpg has no public key $SIGN_KEY"
fi
find . -maxdepth 1 -type f ! -name SHA256SUMS ! -name SHA256SUMS.sig -printf '%f\n' | LC_ALL=C sort |
  xargs sha256sum -- > SHA256SUMS
if [ -n "$SIGN_KEY" ]; then
  gpg --batch --yes --local-user "$SIGN_KEY" --detach-sign --output SHA256SUMS.sig SHA256SUMS ||
    die "gpg could not sign with $SIGN_KEY"
fi
tar -C "$PARENT" -cf "$FINAL.tar.tmp" --transform "s|^$(basename "$DIR")|$NAME|" "$(basename "$DIR")"
cd "$PARENT"
[ ! -d "$FINAL" ] || rmdir "$FINAL"
mv "$DIR" "$FINAL" && mv "$FINAL.tar.tmp" "$FINAL.tar"
cd "$FINAL"

echo "offline-bundle.sh: $FINAL ($(ls *.deb | wc -l) packages) and $FINAL.tar"
echo "  SHA-256 of SHA256SUMS: $(sha256sum SHA256SUMS | cut -d' ' -f1)   (write it down; install.sh prints it)"
echo "  SHA-256 of the tarball: $(sha256sum "$FINAL.tar" | cut -d' ' -f1)"
[ -z "$SIGN_KEY" ] || echo "  signed by: $(gpg --batch --with-colons --fingerprint "$SIGN_KEY" 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')"
