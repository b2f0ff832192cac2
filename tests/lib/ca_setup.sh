# tests/lib/ca_setup.sh - sourced after e2e.sh: a CA home at $1 with a root and an intermediate
# whose keys are on the SoftHSM2 token "ca" (PIN file $PIN), and ca_csrs N DIR: N CSRs for
# hN.example (one key, made once) in DIR/N.csr. Skips (77) where the token tools are missing.
need openssl
need softhsm2-util
ca_setup() {
  local home=$1
  [ -e "$T/ca.pin" ] || e2e_token ca
  PIN="$T/ca.pin"
  "$OFFCA" init --home "$home" >/dev/null
  if ! "$OFFCA" token keygen --token pkcs11:token=ca --label "root${2:-}" --type ec-p256 --pin-file "$PIN" >/dev/null 2>"$T/err"; then
    echo "skip: offca token keygen not available: $(cat "$T/err")" >&2; exit 77
  fi
  "$OFFCA" token keygen --token pkcs11:token=ca --label "int${2:-}" --type ec-p256 --pin-file "$PIN" >/dev/null
  "$OFFCA" ca root --home "$home" --key "pkcs11:token=ca;object=root${2:-}" --subject "CN=Disk Test Root" --days 3650 \
    --pin-file "$PIN" --name root >/dev/null
  "$OFFCA" ca intermediate --home "$home" --key "pkcs11:token=ca;object=int${2:-}" --subject "CN=Disk Test Int" \
    --days 1000 --pin-file "$PIN" --name int >/dev/null
}
ca_csrs() {
  local n=$1 dir=$2 i
  mkdir -p "$dir"
  [ -e "$T/csr.key" ] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/csr.key" 2>/dev/null
  for ((i = 1; i <= n; i++)); do
    openssl req -new -key "$T/csr.key" -subj "/CN=h$i.example" -addext "subjectAltName=DNS:h$i.example" \
      -out "$dir/$i.csr" 2>/dev/null
  done
}
