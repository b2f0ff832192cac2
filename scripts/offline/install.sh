#!/bin/bash
# install.sh - installs an offca offline bundle (made by scripts/offline-bundle.sh) on a Debian 12
# machine that has no network, from this directory alone. Run as root from anywhere:
#   bash /media/usb/offca-bundle/install.sh [--keyring OPERATOR-KEY.gpg] [--check]
# Before anything is installed it checks, and refuses naming the file:
#   - SHA256SUMS.sig against the operator's public key (--keyring, the key you carried apart from
#     the bundle; without it, against the bundle's own operator-key.gpg, whose fingerprint it
#     prints for you to compare); --keyring with no signature in the bundle is refused;
#   - every file against SHA256SUMS, and every file of the bundle is listed there;
#   - the bundle's Debian release and architecture (BUNDLE-INFO) and each package's architecture
#     against this system's;
#   - that the bundle holds every package the installation needs (apt's dry run against this
#     system's installed packages).
# Then apt installs the packages named in BUNDLE-INFO from this directory: the only package source
# it is given is this directory (file:), and --no-download forbids fetching anything.
# --check stops after the checks. Exit 0: installed (or checked); 1: refused; 2: usage.
set -euo pipefail
B=$(cd "$(dirname "$0")" && pwd)
KEYRING="" CHECK=0
die() { echo "install.sh: refusing: $*" >&2; exit 1; }
usage() { echo "usage: install.sh [--keyring OPERATOR-KEY.gpg] [--check]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
  --keyring) [ $# -ge 2 ] || usage; KEYRING=$(readlink -f -- "$2"); shift 2 ;;
  --check) CHECK=1; shift ;;
  *) usage ;;
  esac
done
[ -z "$KEYRING" ] || [ -f "$KEYRING" ] || die "--keyring $KEYRING: no such file"
# everything below works on a private copy: what is checked is what gets installed, whatever
# the USB stick does meanwhile, and nothing is written to the bundle
T=$(mktemp -d /tmp/offca-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/bundle" "$T/lists/partial" "$T/cache/archives/partial"
find "$B" -mindepth 1 -maxdepth 1 -exec cp -r -t "$T/bundle" {} +
cd "$T/bundle"
for f in BUNDLE-INFO SHA256SUMS Packages; do
  [ -f "$f" ] || die "$f is missing from $B: not a complete offca bundle"
done

# --- 1. the signature over SHA256SUMS ----------------------------------------------------------
verify_sig() { # KEYRING NAME-FOR-MESSAGES
  local status
  status=$(gpgv --status-fd 1 --keyring "$1" SHA256SUMS.sig SHA256SUMS 2>/dev/null) ||
    die "SHA256SUMS: its signature SHA256SUMS.sig does not verify with $2 (tampered, or another key)"
  SIGNER=$(printf '%s\n' "$status" | awk '$2 == "VALIDSIG" { print $3; exit }')
}
if [ -n "$KEYRING" ]; then
  [ -f SHA256SUMS.sig ] || die "SHA256SUMS.sig is missing: this bundle is not signed (--keyring given)"
  verify_sig "$KEYRING" "$KEYRING"
  echo "install.sh: SHA256SUMS signed by $SIGNER (key from $KEYRING)"
elif [ -f SHA256SUMS.sig ]; then
  [ -f operator-key.gpg ] || die "operator-key.gpg is missing (SHA256SUMS.sig needs a key: --keyring)"
  verify_sig "$PWD/operator-key.gpg" "the bundle's operator-key.gpg"
  echo "install.sh: SHA256SUMS signed by $SIGNER, a key that came IN the bundle:"
  echo "install.sh:   compare that fingerprint with the one you were given (or use --keyring)"
else
  echo "install.sh: SHA256SUMS is not signed; compare its SHA-256 with the one offline-bundle.sh printed:"
  echo "install.sh:   $(sha256sum SHA256SUMS | cut -d' ' -f1)"
fi

# --- 2. every file against SHA256SUMS, and no file left out -----------------------------------
declare -A listed=()
while IFS= read -r line; do
  [[ $line =~ ^([0-9a-f]{64})\ [\ *]([A-Za-z0-9][A-Za-z0-9._+~:%-]*)$ ]] ||
    die "SHA256SUMS: malformed line: ${line:0:80}"
  sum=${BASH_REMATCH[1]} name=${BASH_REMATCH[2]}
  [ -f "$name" ] || die "$name is listed in SHA256SUMS but missing from the bundle"
  [ "$(sha256sum -- "$name" | cut -d' ' -f1)" = "$sum" ] ||
    die "$name does not match its SHA-256 in SHA256SUMS (tampered or damaged)"
  listed[$name]=1
done < SHA256SUMS
for f in * .[!.]*; do
  case "$f" in SHA256SUMS|SHA256SUMS.sig|'.[!.]*') continue ;; esac
  [ -n "${listed[$f]:-}" ] || die "$f is not listed in SHA256SUMS (not part of this bundle)"
done
echo "install.sh: ${#listed[@]} files match SHA256SUMS"

# --- 3. release and architecture ---------------------------------------------------------------
field() { sed -n "s/^$1: //p" BUNDLE-INFO | head -n1; }
WANT_REL=$(field Debian-Release) WANT_ARCH=$(field Architecture) INSTALL=$(field Install)
[ -n "$WANT_REL" ] && [ -n "$WANT_ARCH" ] && [ -n "$INSTALL" ] ||
  die "BUNDLE-INFO lacks Debian-Release, Architecture or Install"
[[ $INSTALL =~ ^[a-z0-9][a-z0-9.+\ -]*$ ]] || die "BUNDLE-INFO: Install: is not a list of package names"
REL=$( (. /etc/os-release 2>/dev/null && echo "${VERSION_ID:-}") || true)
[ -n "$REL" ] || REL=$(cut -d. -f1 /etc/debian_version 2>/dev/null || true)
ARCH=$(dpkg --print-architecture)
[ "$WANT_REL" = "$REL" ] ||
  die "BUNDLE-INFO: this bundle is for Debian $WANT_REL, this system is Debian ${REL:-unknown}"
[ "$WANT_ARCH" = "$ARCH" ] ||
  die "BUNDLE-INFO: this bundle is for $WANT_ARCH, this system is $ARCH"
for deb in *.deb; do
  [ -e "$deb" ] || die "the bundle holds no .deb"
  a=$(dpkg-deb -f "$deb" Architecture 2>/dev/null) || die "$deb is not a Debian package"
  [ "$a" = "$ARCH" ] || [ "$a" = all ] || die "$deb is for $a, this system is $ARCH"
done

# --- 4. apt, with this directory as its only source ------------------------------------------
[ "$(id -u)" -eq 0 ] || [ "$CHECK" -eq 1 ] || die "run it as root"
echo "deb [trusted=yes] file:$T/bundle ./" > "$T/sources.list"
ln -s "$T"/bundle/*.deb "$T/cache/archives/"   # --no-download: apt takes them from its cache
# trusted=yes: the Packages file was just checked against SHA256SUMS (signed), and apt checks
# each .deb against the sizes and hashes in Packages.
APT=(apt-get -q -o "Dir::Etc::SourceList=$T/sources.list" -o Dir::Etc::SourceParts=/nonexistent
     -o "Dir::State::Lists=$T/lists" -o "Dir::Cache=$T/cache"
     -o Acquire::Languages=none -o APT::Get::List-Cleanup=false -o Debug::NoLocking="$CHECK"
     -o DPkg::Lock::Timeout=120)
"${APT[@]}" update >"$T/update.log" 2>&1 || { cat "$T/update.log" >&2; die "apt could not read Packages"; }
# shellcheck disable=SC2086
if ! "${APT[@]}" --simulate --no-download --no-install-recommends install $INSTALL >"$T/sim.log" 2>&1; then
  # "PKG : Depends: DEP but it is not installable" / "... but 1.0 is to be installed", and the
  # further "Depends:" lines of the same PKG; PKG's file is named from Packages
  missing=$(sed -n -e 's/^ *\([^ ]*\) : \(Pre\)\{0,1\}Depends: \(.*\) but \(.*\)$/\1|needs \3 (\4)/p' \
                   -e 's/^  *\(Pre\)\{0,1\}Depends: \(.*\) but \(.*\)$/|and \2 (\3)/p' "$T/sim.log" |
            while IFS='|' read -r pkg what; do
              [ -z "$pkg" ] || pkg="$pkg ($(awk -v p="$pkg" '$1 == "Package:" { n = $2 }
                                          $1 == "Filename:" && n == p { sub("^[.]/", "", $2); print $2; exit }' Packages))"
              echo "${pkg:+$pkg }$what"
            done | paste -sd';' | sed 's/;/; /g')
  if [ -n "$missing" ]; then
    die "the bundle lacks a dependency: $missing"
  fi
  grep -E '^(E|W):|Unable|not installable' "$T/sim.log" >&2 || cat "$T/sim.log" >&2
  die "apt cannot install $INSTALL from this bundle alone"
fi
n=$(grep -c '^Inst ' "$T/sim.log" || true)
if [ "$CHECK" -eq 1 ]; then
  echo "install.sh: checked: would install $n packages ($INSTALL and what they need)"
  exit 0
fi

echo "install.sh: installing $n packages from $B (no network)"
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive "${APT[@]}" -y --no-download --no-install-recommends install $INSTALL
echo "install.sh: installed; now check:"
command -v offca >/dev/null && offca --version
dpkg-query -W -f='install.sh: ${Package} ${Version} built from commit ${Offca-Commit}\n' \
  $(sed -n 's/^Offca-Packages: //p' BUNDLE-INFO) 2>/dev/null || true
