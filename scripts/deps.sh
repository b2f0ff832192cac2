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
  # offca-gateway: EST over HTTP/TLS from a well-kept library (libmicrohttpd, built with GnuTLS:
  # the client certificate comes from the GnuTLS session, verified by us with OpenSSL)
  libmicrohttpd-dev libgnutls28-dev
  # a second, strict DER reader of the gateway's PKCS#7 answers (e2e est_interop), and the EST load
  # generator of bench/est_bench.sh
  python3-cryptography
  # tokens and smart cards
  softhsm2 opensc opensc-pkcs11 pcscd pcsc-tools vsmartcard-vpcd libengine-pkcs11-openssl
  # independent verifiers and real peers used by the tests
  openssl gnutls-bin curl nginx-light pebble bind9 bind9-dnsutils lmdb-utils
  imagemagick zbar-tools qrencode tmux poppler-utils python3 faketime strace time
  # Go's crypto/x509 as a third verifier of Ed25519 leaves (tests/interop/x509verify.go, stdlib only)
  golang-go
)
# node and npm (used by the QR interoperability test with @ngraveio/bc-ur): Debian's packages
# only where the machine has no node/npm of its own (a nodesource node conflicts with Debian's npm)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PKGS+=(nodejs npm)
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
