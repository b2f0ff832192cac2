#!/usr/bin/env bash
# offline_install: offca installed on a minimal Debian 12 that has no network, from the offline
# bundle alone, then used: offca --version, offca init, and a ceremony on SoftHSM2 tokens (root,
# intermediate, one CSR signed: the demo ceremony as installed in /usr/share/doc/offca/examples).
#   - the system: `debootstrap --variant=minbase bookworm` (scripts/minbase.sh, cached);
#   - the bundle: scripts/package.sh + scripts/offline-bundle.sh, or BUNDLE-DIR if given;
#   - inside: chroot in its own network namespace (only a loopback that is down), no
#     /etc/resolv.conf, no apt sources; the bundle is copied to /media/offca-bundle as from a USB
#     stick and its install.sh runs there.
# Usage (root, a few minutes; the first run also makes the minimal root):
#   tests/install/offline_install.sh [BUNDLE-DIR]
# Exit 0: passed; 1: failed (the root is kept for inspection); 77: skipped (not root).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "FAIL [offline_install]: $*" >&2; exit 1; }
ok() { echo "ok [offline_install]: $*"; }
[ "$(id -u)" -eq 0 ] || { echo "skip: offline_install needs root (chroot, unshare)" >&2; exit 77; }
for c in unshare chroot openssl; do command -v $c >/dev/null || fail "$c is needed"; done

T=$(mktemp -d /var/tmp/offca-offline-install.XXXXXX)
cleanup() {
  local rc=$?
  [ ! -d "$T/gnupg" ] || GNUPGHOME=$T/gnupg gpgconf --kill all 2>/dev/null || true
  if [ $rc -eq 0 ]; then rm -rf "$T"; else echo "offline_install: kept $T for inspection" >&2; fi
  exit $rc
}
trap cleanup EXIT
start=$(date +%s)

# --- the bundle ----------------------------------------------------------------------------------
if [ $# -ge 1 ]; then
  BUNDLE=$(cd "$1" && pwd)
else
  bash "$SRC/scripts/package.sh" "$T/pkg" >/dev/null || fail "scripts/package.sh failed"
  # an operator key of its own (docs/install.md: the public key travels apart from the bundle)
  export GNUPGHOME=$T/gnupg; mkdir -m 700 "$GNUPGHOME"
  gpg --batch --passphrase '' --quick-gen-key 'CA operations <ca-ops@example.invalid>' ed25519 sign never 2>/dev/null
  gpg --batch --export ca-ops@example.invalid > "$T/ca-ops.gpg"
  bash "$SRC/scripts/offline-bundle.sh" --debs "$T/pkg" --with offca-acme --sign-key ca-ops@example.invalid \
    "$T/bundle" > "$T/bundle.out" || fail "scripts/offline-bundle.sh failed"
  BUNDLE=$T/bundle
fi
ok "bundle: $(ls "$BUNDLE"/*.deb | wc -l) packages, $(du -sh "$BUNDLE" | cut -f1) ($(($(date +%s) - start)) s)"

# --- the minimal Debian 12, with every way to the network removed ---------------------------------
TARBALL=$(bash "$SRC/scripts/minbase.sh") || fail "scripts/minbase.sh failed"
R=$T/root
mkdir -p "$R" && tar -C "$R" -xzf "$TARBALL" && chmod 755 "$R"
rm -f "$R/etc/resolv.conf" "$R/etc/apt/sources.list" "$R"/etc/apt/sources.list.d/*
# a chroot is not a booted system: services are not started (on the laptop pcscd starts as usual)
printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d" && chmod 755 "$R/usr/sbin/policy-rc.d"
command -v offca >/dev/null && [ -e "$R/usr/bin/offca" ] && fail "offca is already in the minimal root"
mkdir -p "$R/media"
cp -a "$BUNDLE" "$R/media/offca-bundle"
[ ! -f "$T/ca-ops.gpg" ] || cp "$T/ca-ops.gpg" "$R/root/ca-ops.gpg"
# the same bundle without one of offca's libraries (index and sums made anew, unsigned)
X=$R/media/bundle-without-libcbor
cp -a "$BUNDLE" "$X" && rm -f "$X"/libcbor*.deb "$X"/SHA256SUMS* "$X"/operator-key.gpg
(cd "$X" && dpkg-scanpackages -m . /dev/null 2>/dev/null > Packages &&
 find . -maxdepth 1 -type f ! -name 'SHA256SUMS*' -printf '%f\n' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS)

cat > "$R/root/inside.sh" <<'EOF'
#!/bin/bash
# runs inside the chroot, in a network namespace of its own
set -euo pipefail
trap 'echo "inside.sh: line $LINENO failed: $BASH_COMMAND"' ERR
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8
step() { echo "== $*"; }
step "no network: interfaces, resolver, apt sources"
awk 'NR > 2 { sub(":", "", $1); print $1 }' /proc/net/dev | grep -vx lo && { echo "an interface besides lo"; exit 1; }
[ ! -e /etc/resolv.conf ] && [ -z "$(cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null)" ]
if getent hosts deb.debian.org >/dev/null; then echo "a name resolves"; exit 1; fi
command -v offca >/dev/null && { echo "offca before install"; exit 1; }

step "a bundle lacking a library: refused, nothing installed"
before=$(dpkg-query -W | md5sum)
if bash /media/bundle-without-libcbor/install.sh > /root/refused.log 2>&1; then echo "installed anyway"; exit 1; fi
cat /root/refused.log
grep -q '^install.sh: refusing: the bundle lacks a dependency: offca (offca_.*\.deb) needs libcbor' /root/refused.log
[ "$(dpkg-query -W | md5sum)" = "$before" ] || { echo "something was installed"; exit 1; }

KEY=()
if [ -f /root/ca-ops.gpg ]; then
  step "the operator's own check before running install.sh (docs/install.md), with gpgv of the minimal system"
  (cd /media/offca-bundle && gpgv --keyring /root/ca-ops.gpg SHA256SUMS.sig SHA256SUMS 2>&1 | grep 'Good signature' &&
   sha256sum -c --quiet SHA256SUMS)
  KEY=(--keyring /root/ca-ops.gpg)
fi

step "install.sh ${KEY[*]}"
bash /media/offca-bundle/install.sh "${KEY[@]}" > /root/install.log 2>&1 || { tail -n 30 /root/install.log; exit 1; }
grep '^install.sh:' /root/install.log
[ -z "$(ls -A /media/offca-bundle | grep -v -e '\.deb$' -e '^BUNDLE-INFO$' -e '^Packages$' -e '^SHA256SUMS' \
        -e '^install.sh$' -e '^operator-key.gpg$')" ] || { echo "install.sh wrote into the bundle"; exit 1; }

step "offca --version"
offca --version
dpkg-query -W -f='${Package} ${Version} ${Offca-Commit}\n' offca
grep -q '^commit: [0-9a-f]\{40\}' /usr/share/doc/offca/build-info
[ -f /usr/share/man/man1/offca.1.gz ] && [ -f /usr/share/doc/offca/install.md ]
dpkg --verify offca

step "SoftHSM2 tokens, offca init, the demo ceremony from /usr/share/doc/offca/examples"
EX=/usr/share/doc/offca/examples
softhsm2-util --init-token --free --label demo-root --so-pin 12345678 --pin 123456 >/dev/null
softhsm2-util --init-token --free --label demo-int --so-pin 12345678 --pin 123456 >/dev/null
offca token list
offca init --home /root/ca
mkdir -p /root/ceremony && cd /root/ceremony
(umask 077; grep -v '^#' "$EX/demo-credentials.example" > creds.yaml)
offca ceremony run "$EX/demo-ceremony.yaml" --home /root/ca --answers "$EX/demo-answers.yaml" \
  --credentials creds.yaml > ceremony.log 2>&1 || { tail -n 30 ceremony.log; exit 1; }
OUT=demo-ceremony-out
ls "$OUT"/root.pem "$OUT"/intermediate.pem "$OUT"/certs/*.pem
offca ceremony verify "$OUT/transcript.jsonl" --ca "$OUT/root.pem"
offca list --home /root/ca
offca audit verify --home /root/ca

if dpkg-query -W offca-acme >/dev/null 2>&1; then
  step "offca-acme: user, directories, hooks (no systemd here: the useradd path of its postinst)"
  offca-acme --version
  getent passwd offca-acme | grep -q ':/var/lib/offca-acme:/usr/sbin/nologin$'
  [ "$(stat -c '%U %a' /var/lib/offca-acme)" = "offca-acme 700" ]
  [ "$(stat -c '%U %G %a' /etc/offca-acme)" = "root offca-acme 750" ]
  [ -x /usr/share/offca/dns-hooks/nsupdate.sh ] && [ -f /etc/default/offca-acme ]
  grep -q '^ExecStart=/usr/bin/offca-acme ' /lib/systemd/system/offca-acme-renew.service
  hook=$(/usr/share/offca/dns-hooks/cloudflare.sh 2>&1 || true)
  case "$hook" in *usage:*) ;; *) echo "cloudflare.sh does not run: $hook"; exit 1 ;; esac
  echo "offca-acme: user, /var/lib/offca-acme (0700), /etc/offca-acme (0750), hooks, unit: ok"
fi
EOF
chmod 755 "$R/root/inside.sh"

# --- inside: a private network, mount and pid namespace; /proc of its own ------------------------
if ! unshare --net --mount --pid --fork --mount-proc="$R/proc" \
     chroot "$R" /root/inside.sh > "$T/inside.log" 2>&1; then
  cat "$T/inside.log" >&2
  fail "inside the minimal root (log above)"
fi
cat "$T/inside.log"
OUT=$R/root/ceremony/demo-ceremony-out
CERT=$(ls "$OUT"/certs/*.pem | head -n1)
openssl verify -x509_strict -purpose sslserver -CAfile "$OUT/root.pem" -untrusted "$OUT/intermediate.pem" "$CERT" ||
  fail "the signed certificate does not verify with openssl"
openssl x509 -in "$OUT/root.pem" -noout -subject | grep -q 'Demo Root CA' || fail "root.pem is not the demo root"
ok "installed without network, ceremony ran, certificate verifies ($(($(date +%s) - start)) s)"
