#!/usr/bin/env bash
# pkg_bundle_refusals: the offline bundle's install.sh refuses, before installing anything and
# naming the file, a tampered package, a tampered or unsigned SHA256SUMS, a bad signature, a
# file left out of or added to SHA256SUMS, a missing dependency, a bundle for another Debian
# release or architecture, a package for another architecture. Bundles of two tiny packages made
# here with dpkg-deb (scripts/offline-bundle.sh --no-deps); a good one installs (as root) and is
# removed again. The whole bundle on a minimal Debian 12: tests/install/offline_install.sh.
source "$(dirname "$0")/../lib/e2e.sh"
need dpkg-deb; need dpkg-scanpackages; need gpg; need gpgv; need apt-get
BUNDLE="$OFFCA_SRC/scripts/offline-bundle.sh"
ROOT=0; [ "$(id -u)" -eq 0 ] && ROOT=1
P=offca-e2e-bundle-$$                  # package names of our own, never installed afterwards
removepkgs() { [ $ROOT -eq 0 ] || dpkg --purge "$P-a" "$P-b" "$P-c" >/dev/null 2>&1 || true; }
trap 'rc=$?; removepkgs; gpgconf --kill all 2>/dev/null; (exit $rc); cleanup' EXIT

mkpkg() { # NAME ARCH [DEPENDS] -> $T/debs-src/NAME_1.0_ARCH.deb
  local d="$T/pkgsrc/$1"
  mkdir -p "$d/DEBIAN" "$d/usr/share/$1" "$T/debs-src"
  echo "$1" > "$d/usr/share/$1/marker"
  { printf 'Package: %s\nVersion: 1.0\nArchitecture: %s\nMaintainer: offca tests <t@example.invalid>\n' "$1" "$2"
    [ -z "${3:-}" ] || printf 'Depends: %s\n' "$3"
    printf 'Description: offca bundle test package\n'; } > "$d/DEBIAN/control"
  dpkg-deb --build --root-owner-group "$d" "$T/debs-src/" >/dev/null
}
ARCH=$(dpkg --print-architecture)
mkpkg "$P-a" all "$P-b"
mkpkg "$P-b" "$ARCH"
mkpkg "$P-c" all "$P-b (>= 2.0)"
OTHER=arm64; [ "$ARCH" = arm64 ] && OTHER=amd64
mkpkg "$P-x" "$OTHER"

# bundle NAME DEB... [-- offline-bundle.sh options]: a fresh bundle of those packages in $T/NAME
bundle() {
  local name=$1; shift
  mkdir -p "$T/in-$name"
  while [ $# -gt 0 ] && [ "$1" != -- ]; do cp "$T/debs-src/$1"_1.0_*.deb "$T/in-$name/"; shift; done
  [ $# -eq 0 ] || shift
  bash "$BUNDLE" --debs "$T/in-$name" --no-deps "$@" "$T/$name" >/dev/null
}
# reseal DIR: SHA256SUMS again after an edit, so that only the edit is checked
reseal() { (cd "$1" && find . -maxdepth 1 -type f ! -name 'SHA256SUMS*' -printf '%f\n' | sort | xargs sha256sum > SHA256SUMS); }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# refuses DESCRIPTION REGEX DIR [install.sh options]: refused naming REGEX, nothing installed,
# nothing written into the bundle (run for real as root: the refusal must come before dpkg)
refuses() {
  local what=$1 re=$2 dir=$3; shift 3
  local before; before=$(cd "$dir" && ls -A | sort | md5sum)
  if [ $ROOT -eq 1 ]; then
    expect_fail "$what" bash "$dir/install.sh" "$@"
  else
    expect_fail "$what" bash "$dir/install.sh" --check "$@"
  fi
  expect_err_match "^install.sh: refusing: .*$re"
  [ "$(grep -c . "$T/last.err")" -eq 1 ] || fail "$what: more than one error line: $(cat "$T/last.err")"
  if installed "$P-a" || installed "$P-b" || installed "$P-c"; then fail "$what: something was installed"; fi
  [ "$(cd "$dir" && ls -A | sort | md5sum)" = "$before" ] || fail "$what: the bundle directory changed"
}

# --- a signing key and another one, in a private keyring -----------------------------------
export GNUPGHOME="$T/gnupg"; mkdir -m 700 "$GNUPGHOME"
gpg --batch --passphrase '' --quick-gen-key 'offca operator <op@example.invalid>' ed25519 sign never 2>/dev/null
gpg --batch --passphrase '' --quick-gen-key 'someone else <else@example.invalid>' ed25519 sign never 2>/dev/null
gpg --batch --export op@example.invalid > "$T/operator.gpg"
gpg --batch --export else@example.invalid > "$T/else.gpg"

# --- the good bundles: checked, and (as root) installed ---------------------------------------
bundle good "$P-a" "$P-b"
[ -f "$T/good.tar" ] || fail "no tarball next to the bundle"
grep -qx "Install: .*$P-a.*" "$T/good/BUNDLE-INFO" || fail "BUNDLE-INFO does not name $P-a"
bash "$T/good/install.sh" --check > "$T/out" || fail "a good bundle does not pass --check"
grep -q "SHA256SUMS is not signed" "$T/out" || fail "an unsigned bundle is not called unsigned"
bundle signed "$P-a" "$P-b" -- --sign-key op@example.invalid
[ -f "$T/signed/SHA256SUMS.sig" ] && [ -f "$T/signed/operator-key.gpg" ] || fail "--sign-key: no SHA256SUMS.sig / operator-key.gpg"
bash "$T/signed/install.sh" --check --keyring "$T/operator.gpg" > "$T/out" || fail "a signed bundle does not verify with its key"
FPR=$(gpg --batch --with-colons --fingerprint op@example.invalid 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')
grep -q "signed by $FPR" "$T/out" || fail "install.sh does not print the signer's fingerprint"
pass "good bundles (unsigned, signed) pass the checks"
if [ $ROOT -eq 1 ]; then
  bash "$T/signed/install.sh" --keyring "$T/operator.gpg" > "$T/out" 2>&1 || { cat "$T/out" >&2; fail "a good bundle did not install"; }
  installed "$P-a" && installed "$P-b" || fail "install.sh exited 0 but did not install"
  removepkgs
  pass "a good bundle installs"
fi

# --- tampering ---------------------------------------------------------------------------------
cp -a "$T/good" "$T/t1"; printf 'x' >> "$T/t1/$P-b"_1.0_*.deb
refuses "a tampered package" "$P-b_1.0_$ARCH.deb does not match its SHA-256" "$T/t1"

cp -a "$T/good" "$T/t2"; c=0; [ "$(head -c1 "$T/t2/SHA256SUMS")" = 0 ] && c=1
sed -i "1s/^./$c/" "$T/t2/SHA256SUMS"
refuses "a tampered SHA256SUMS (unsigned)" "does not match its SHA-256 in SHA256SUMS" "$T/t2"

cp -a "$T/signed" "$T/t3"; sed -i "s/^[0-9a-f]*  \($P-a\)/$(printf '%064d' 0)  \1/" "$T/t3/SHA256SUMS"
refuses "a tampered SHA256SUMS (signed)" "SHA256SUMS: its signature SHA256SUMS.sig does not verify" "$T/t3"

cp -a "$T/signed" "$T/t4"
refuses "a signature by another key" "SHA256SUMS: its signature .* does not verify with $T/else.gpg" "$T/t4" --keyring "$T/else.gpg"

refuses "--keyring on an unsigned bundle" "SHA256SUMS.sig is missing" "$T/good" --keyring "$T/operator.gpg"

cp -a "$T/good" "$T/t5"; rm "$T/t5/$P-a"_1.0_all.deb
refuses "a listed file missing" "$P-a_1.0_all.deb is listed in SHA256SUMS but missing" "$T/t5"

cp -a "$T/good" "$T/t6"; cp "$T/debs-src/$P-x"_1.0_*.deb "$T/t6/"
refuses "a file not in SHA256SUMS" "$P-x_1.0_${OTHER}.deb is not listed in SHA256SUMS" "$T/t6"

cp -a "$T/good" "$T/t7"; echo 'not a sum' >> "$T/t7/SHA256SUMS"
refuses "a malformed SHA256SUMS" "SHA256SUMS: malformed line" "$T/t7"

# --- what the bundle is for ----------------------------------------------------------------------
cp -a "$T/good" "$T/r1"; sed -i 's/^Debian-Release: .*/Debian-Release: 11/' "$T/r1/BUNDLE-INFO"; reseal "$T/r1"
refuses "a bundle for Debian 11" "BUNDLE-INFO: this bundle is for Debian 11, this system is Debian 12" "$T/r1"

cp -a "$T/good" "$T/r2"; sed -i "s/^Architecture: .*/Architecture: $OTHER/" "$T/r2/BUNDLE-INFO"; reseal "$T/r2"
refuses "a bundle for another architecture" "BUNDLE-INFO: this bundle is for $OTHER, this system is $ARCH" "$T/r2"

bundle r3 "$P-a" "$P-b" "$P-x"
refuses "a package for another architecture" "$P-x_1.0_${OTHER}.deb is for $OTHER, this system is $ARCH" "$T/r3"

# --- a dependency left out -----------------------------------------------------------------------
bundle d1 "$P-a"
refuses "a missing dependency" "the bundle lacks a dependency: $P-a \($P-a_1.0_all.deb\) needs $P-b \(it is not installable\)" "$T/d1"
bundle d2 "$P-c" "$P-b"
refuses "a dependency in too old a version" "the bundle lacks a dependency: $P-c \($P-c_1.0_all.deb\) needs $P-b \(>= 2.0\) \(1.0 is to be installed\)" "$T/d2"
