#!/usr/bin/env bash
# Installs every Debian 12 package offca needs to build, test, run the demo and the benchmarks.
# Idempotent and quiet when everything is already there. Must run as root (or with sudo available).
set -euo pipefail

PKGS=(
  # build
  build-essential cmake pkg-config git clang libclang-rt-14-dev
  # libraries
  libssl-dev libp11-dev libp11-kit-dev libpcsclite-dev libcurl4-openssl-dev libqrencode-dev liblmdb-dev
  libzbar-dev libjansson-dev libcmocka-dev libfyaml-dev libcairo2-dev libpng-dev libjpeg-dev
  libcbor-dev
  # offca-acme: allow-list seccomp filters for each of its processes
  libseccomp-dev
  # offca export --zip writes the certbot layout as a ZIP with libzip (no hand-written writer)
  libzip-dev
  # offca-gateway: EST over HTTP/TLS from a well-kept library (libmicrohttpd, built with GnuTLS:
  # the client certificate comes from the GnuTLS session, verified by us with OpenSSL)
  libmicrohttpd-dev libgnutls28-dev
  # (python3-cryptography, below, is also the second strict DER reader of the gateway's PKCS#7
  # answers in e2e est_interop, and the EST load generator of bench/est_bench.sh)
  # tokens and smart cards
  softhsm2 opensc opensc-pkcs11 pcscd pcsc-tools vsmartcard-vpcd libengine-pkcs11-openssl
  # the YubiKey tests: Yubico's PKCS#11 module and tool drive the PIV card emulator
  # (tests/lib/piv_card.py, written with python3-cryptography) as they drive a YubiKey
  ykcs11 yubico-piv-tool python3-cryptography
  # independent verifiers and real peers used by the tests
  openssl gnutls-bin curl nginx-light pebble bind9 bind9-dnsutils lmdb-utils
  imagemagick zbar-tools qrencode tmux poppler-utils python3 faketime strace time
  # Go's crypto/x509 as a third verifier of Ed25519 leaves (tests/interop/x509verify.go, stdlib only)
  golang-go
  # the offline bundle's signature (tests/e2e/pkg_bundle_refusals.sh); package.sh and minbase.sh
  # install their own tools (debhelper, lintian, help2man, debootstrap)
  gnupg dpkg-dev
  # offca metrics and report (tests/e2e/monitoring_*.sh): Prometheus' promtool (Debian ships it in
  # the prometheus package) checks offca.prom, a real prometheus-node-exporter serves it with only
  # its textfile collector on 127.0.0.1, and headless Chromium renders the HTML report (no service
  # is started by the install: policy-rc.d below; the tests start node_exporter themselves)
  prometheus prometheus-node-exporter chromium
  # offca export: ZIPs read back by unzip, SOPS/age data keys decrypted by the age CLI, PKCS#12
  # trust bundles listed by Java's keytool
  unzip age
)
# node and npm (used by the QR interoperability test with @ngraveio/bc-ur): Debian's packages
# only where the machine has no node/npm of its own (a nodesource node conflicts with Debian's npm)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PKGS+=(nodejs npm)
fi

# Java's keytool reads offca's PKCS#12 trust bundles in tests/e2e/export_p12.sh: Debian's JDK
# only where the machine has no keytool of its own
if ! command -v keytool >/dev/null 2>&1; then
  PKGS+=(default-jdk-headless)
fi
# kubectl (tests/e2e/export_k8s.sh compares offca's Secret/ConfigMap with kubectl's): Debian 12's
# kubernetes-client only where the machine has no kubectl of its own (a vendor kubectl owns the path)
if ! command -v kubectl >/dev/null 2>&1; then
  PKGS+=(kubernetes-client)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "offca: installing ${#missing[@]} Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# services we start ourselves in tests must not be started by the package scripts
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
