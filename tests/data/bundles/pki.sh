# tests/data/bundles/pki.sh - sourced by tests/e2e/bundle_*.sh after tests/lib/e2e.sh.
# Builds a small PKI in $T: a software root (root.pem/root.key), an intermediate CA whose key is on
# a SoftHSM2 token "ca" made by `offca token keygen` (int.pem; key URI in $INT_URI), an unrelated
# root (other.pem), an operator key and certificate (op.key/op.pem, issued by the root), and CSRs
# csr1.pem csr2.pem (EC P-256).
need openssl
need python3
CRAFT="$OFFCA_TEST_DATA/bundles/craft.py"

bundle_pki() {
  e2e_token ca
  "$OFFCA" token keygen --token "pkcs11:token=ca" --label int --type ec-p256 --pin-file "$T/ca.pin" \
    > "$T/int.uri" || fail "offca token keygen"
  "$OFFCA" token show-key "pkcs11:token=ca;object=int;type=private" --pin-file "$T/ca.pin" \
    | sed -n '/BEGIN PUBLIC KEY/,/END PUBLIC KEY/p' > "$T/int.pub.pem"
  grep -q "BEGIN PUBLIC KEY" "$T/int.pub.pem" || fail "offca token show-key"
  INT_URI="pkcs11:token=ca;object=int;type=private"
  local ca_ext="$T/ca.cnf"
  printf '[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n[op]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' > "$ca_ext"
  for r in root other; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$r.key" \
      -subj "/CN=Bundle Test $r" -days 30 -addext basicConstraints=critical,CA:TRUE \
      -addext keyUsage=critical,keyCertSign,cRLSign -out "$T/$r.pem" 2>/dev/null || fail "root $r"
  done
  openssl x509 -new -force_pubkey "$T/int.pub.pem" -subj "/CN=Bundle Test Intermediate" -CA "$T/root.pem" \
    -CAkey "$T/root.key" -days 30 -extfile "$ca_ext" -extensions ca -out "$T/int.pem" 2>/dev/null || fail "int cert"
  cat "$T/int.pem" "$T/root.pem" > "$T/int-chain.pem"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/op.key" -subj "/CN=operator alice" \
    -out "$T/op.csr" 2>/dev/null
  openssl x509 -req -in "$T/op.csr" -CA "$T/root.pem" -CAkey "$T/root.key" -days 30 -extfile "$ca_ext" \
    -extensions op -out "$T/op.pem" 2>/dev/null || fail "operator cert"
  for c in csr1 csr2; do
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$c.key" \
      -subj "/CN=$c.example.test" -addext "subjectAltName=DNS:$c.example.test" -out "$T/$c.pem" 2>/dev/null
  done
}

# A CA home for import tests (offca init); skip when the store's commands are not there yet.
bundle_home() {
  export OFFCA_HOME="$T/home"
  if ! "$OFFCA" init --home "$OFFCA_HOME" >"$T/init.out" 2>&1; then
    if grep -q "not implemented" "$T/init.out"; then echo "skip: offca init not implemented yet" >&2; exit 77; fi
    cat "$T/init.out" >&2; fail "offca init"
  fi
}

# The pending queue must be empty (nothing imported by a refused bundle).
pending_empty() {
  "$OFFCA" pending list > "$T/pending.out" || fail "pending list"
  grep -q "no pending CSRs" "$T/pending.out" || fail "pending queue not empty after $1: $(cat "$T/pending.out")"
}

# flip_byte FILE OFFSET : XOR one byte of FILE with 0x01 in place.
flip_byte() {
  python3 - "$1" "$2" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read())
b[off] ^= 0x01
open(p, "wb").write(b)
PY
}
