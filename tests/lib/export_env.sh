# tests/lib/export_env.sh - a CA for the offca export tests (source after tests/lib/e2e.sh):
# root and intermediate keys on a SoftHSM2 token, and leaves signed from CSRs made by openssl.
#   export_env_ca               OFFCA_HOME=$T/ca with "root" and "int"; PIN file $PIN
#   export_env_leaf NAME SANS   key $T/NAME.key, certificate $T/NAME.pem (profile server);
#                               prints the serial as openssl shows it
export_env_ca() {
  need openssl
  need softhsm2-util
  e2e_token ca
  export OFFCA_HOME="$T/ca"
  PIN="$T/ca.pin"
  "$OFFCA" init >/dev/null
  "$OFFCA" token keygen --token pkcs11:token=ca --label root --type ec-p256 --pin-file "$PIN" >/dev/null
  "$OFFCA" token keygen --token pkcs11:token=ca --label int --type ec-p256 --pin-file "$PIN" >/dev/null
  "$OFFCA" ca root --key "pkcs11:token=ca;object=root" --subject "CN=Export Test Root" --days 3650 \
    --pin-file "$PIN" --name root >/dev/null 2>&1
  "$OFFCA" ca intermediate --key "pkcs11:token=ca;object=int" --subject "CN=Export Test Int" --days 1000 \
    --pin-file "$PIN" --name int >/dev/null 2>&1
}

export_env_leaf() {
  local name=$1 sans=$2 cn
  cn=${sans%%,*}; cn=${cn#DNS:}
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$name.key" \
    -subj "/CN=$cn" -addext "subjectAltName=$sans" -out "$T/$name.csr" 2>/dev/null
  "$OFFCA" sign --csr "$T/$name.csr" --profile server --pin-file "$PIN" --out "$T/$name.pem" >/dev/null 2>&1
  openssl x509 -in "$T/$name.pem" -noout -serial | cut -d= -f2
}
