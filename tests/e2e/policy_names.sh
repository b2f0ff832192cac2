#!/usr/bin/env bash
# policy_names: what the issuance policy refuses before anything is signed (issue 11, points 2, 6, 7).
# An intermediate made with --permit-dns lab.example refuses mqtt.iot.example / dev1.iot.example
# (offca sign and --dry-run, rule name-constraints naming the CA), signs x.lab.example, which
# openssl verify and certtool accept; --permit-dns also lands in config.json's dns_suffixes unless
# the config sets them; a config section for an unknown issuer is refused at every command;
# ip_ranges; CSRs self-signed with SHA-1 / MD5; bidi characters in the subject; Ed25519 endpoint
# keys when key_types lists them (verified by openssl, certtool and Go when installed).
source "$(dirname "$0")/../lib/e2e.sh"
need openssl; need certtool; need python3

export OFFCA_HOME="$T/home"
e2e_token pca
P="$T/pca.pin"
"$OFFCA" init >/dev/null
RK=$("$OFFCA" token keygen --token "pkcs11:token=pca" --label root --type ec-p256 --pin-file "$P")
LK=$("$OFFCA" token keygen --token "pkcs11:token=pca" --label lab --type ec-p256 --pin-file "$P")
"$OFFCA" ca root --key "$RK" --subject "CN=Names Root,O=offca tests" --days 3650 --pin-file "$P" --out "$T/root.pem" 2>/dev/null
"$OFFCA" ca intermediate --key "$LK" --subject "CN=Lab Intermediate,O=offca tests" --days 1000 --issuer root \
  --permit-dns lab.example --name lab --pin-file "$P" --out "$T/lab.pem" 2>"$T/int.err"
grep -q "issuers.lab.policy.dns_suffixes set" "$T/int.err" || fail "ca intermediate did not report the config change: $(cat "$T/int.err")"
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["issuers"]["lab"]["policy"]["dns_suffixes"])' "$OFFCA_HOME/config.json")" = "['lab.example']" ] \
  || fail "config.json: $(cat "$OFFCA_HOME/config.json")"
[ "$(stat -c %a "$OFFCA_HOME/config.json")" = 600 ] || fail "config.json mode after the rewrite"
pass "--permit-dns lab.example also set issuers.lab.policy.dns_suffixes (0600 kept)"

csr() { # csr NAME SUBJ [SAN] [extra openssl args...]
  local n=$1 s=$2 san=${3:-}; shift 3 || shift $#
  local a=(-new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$n.key" -subj "$s" -out "$T/$n.csr")
  [ -n "$san" ] && a+=(-addext "subjectAltName=$san")
  openssl req "${a[@]}" "$@" 2>/dev/null
}
nrec() { "$OFFCA" list --json | grep -o '"serial"' | wc -l; }
csr mqtt "/CN=mqtt.iot.example" "DNS:mqtt.iot.example"
csr dev1 "/CN=dev1.iot.example" ""          # keytool style: CN only, copied into a SAN
csr mixed "/CN=x.lab.example" "DNS:x.lab.example,DNS:mqtt.iot.example"
csr ok "/CN=x.lab.example" "DNS:x.lab.example,DNS:lab.example"
before=$(nrec)
for n in mqtt dev1 mixed; do
  expect_fail "sign $n under lab.example" "$OFFCA" sign --csr "$T/$n.csr" --profile server --issuer lab --pin-file "$P" \
    --out "$T/$n.pem"
  expect_err_match "policy name-constraints: DNS:(mqtt|dev1)\.iot\.example is not within the permitted subtrees of CA 'CN=Lab Intermediate,O=offca tests'"
  [ ! -e "$T/$n.pem" ] || fail "$n: a certificate was written"
  expect_fail "sign --dry-run $n" "$OFFCA" sign --dry-run --csr "$T/$n.csr" --profile server --issuer lab
  expect_err_match "policy name-constraints: DNS:(mqtt|dev1)\.iot\.example"
done
[ "$(nrec)" = "$before" ] || fail "a refused request was recorded"
"$OFFCA" sign --csr "$T/ok.csr" --profile server --issuer lab --pin-file "$P" --out "$T/ok.pem" >/dev/null
openssl verify -x509_strict -CAfile "$T/root.pem" -untrusted "$T/lab.pem" "$T/ok.pem" >/dev/null \
  || fail "openssl verify of x.lab.example"
cat "$T/ok.pem" "$T/lab.pem" "$T/root.pem" > "$T/chain-ok.pem"
certtool --verify-chain --infile "$T/chain-ok.pem" >/dev/null 2>&1 || fail "certtool --verify-chain of x.lab.example"
pass "name constraints: iot.example refused by sign and --dry-run, x.lab.example signed and verified"

# the operator's explicit dns_suffixes win (a section written before the issuer exists is fine)
python3 - "$OFFCA_HOME/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["issuers"]["lab2"] = {"policy": {"dns_suffixes": []}}
json.dump(c, open(sys.argv[1], "w"), indent=2)
EOF
L2=$("$OFFCA" token keygen --token "pkcs11:token=pca" --label lab2 --type ec-p256 --pin-file "$P")
"$OFFCA" ca intermediate --key "$L2" --subject "CN=Lab Two" --days 900 --issuer root --permit-dns .lab.example \
  --name lab2 --pin-file "$P" --out "$T/lab2.pem" 2>"$T/int2.err"
grep -q "already set there: kept" "$T/int2.err" || fail "lab2: $(cat "$T/int2.err")"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["issuers"]["lab2"]["policy"]["dns_suffixes"] == []' \
  "$OFFCA_HOME/config.json" || fail "the operator's dns_suffixes were replaced"
# .lab.example: subdomains only; the config allows any suffix, the certificate still decides
csr apex "/CN=lab.example" "DNS:lab.example"
expect_fail "apex under .lab.example" "$OFFCA" sign --dry-run --csr "$T/apex.csr" --profile server --issuer lab2
expect_err_match "name-constraints: DNS:lab.example is not within the permitted subtrees of CA 'CN=Lab Two'"
"$OFFCA" sign --dry-run --csr "$T/ok.csr" --profile server --issuer lab2 >/dev/null 2>&1 && fail "ok.csr names lab.example too"
csr sub "/CN=y.lab.example" "DNS:y.lab.example"
"$OFFCA" sign --csr "$T/sub.csr" --profile server --issuer lab2 --pin-file "$P" --out "$T/sub.pem" >/dev/null
openssl verify -x509_strict -CAfile "$T/root.pem" -untrusted "$T/lab2.pem" "$T/sub.pem" >/dev/null || fail "verify y.lab.example"
pass "explicit dns_suffixes kept; leading-dot subtree = subdomains only"

# --- point 6: a section for an issuer that does not exist ---
cp "$OFFCA_HOME/config.json" "$T/config.good"
python3 - "$OFFCA_HOME/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["issuers"]["Lab"] = {"policy": {"leaf_days_max": 100}}
json.dump(c, open(sys.argv[1], "w"), indent=2)
EOF
expect_fail "sign with issuers.Lab in config" "$OFFCA" sign --csr "$T/sub.csr" --profile server --issuer lab --pin-file "$P"
expect_err_match "config issuers\.Lab: no issuer is named 'Lab'"
expect_fail "sign --dry-run with issuers.Lab" "$OFFCA" sign --dry-run --csr "$T/sub.csr" --profile server --issuer lab
expect_err_match "config issuers\.Lab:"
expect_fail "crl with issuers.Lab" "$OFFCA" crl --issuer lab --pin-file "$P" --out "$T/x.crl"
expect_err_match "config issuers\.Lab:"
expect_fail "ca intermediate with issuers.Lab" "$OFFCA" ca intermediate --csr "$T/sub.csr" --days 30 --issuer root \
  --name other --pin-file "$P"
expect_err_match "config issuers\.Lab:"
"$OFFCA" bundle create --out "$T/sub.bundle" --direction in "$T/sub.csr" >/dev/null 2>&1 || fail "bundle create"
expect_fail "bundle import with issuers.Lab" "$OFFCA" bundle import "$T/sub.bundle"
expect_err_match "config issuers\.Lab:"
expect_fail "issue with issuers.Lab" "$OFFCA" issue --generate-key --subject "/CN=p.lab.example" --san p.lab.example \
  --profile client --issuer lab --out "$T/p.p12" --passphrase-file "$P" --pin-file "$P"
expect_err_match "config issuers\.Lab:"
[ "$("$OFFCA" pending list | grep -c "lab.example" || true)" = 0 ] || fail "a refused import queued something"
cp "$T/config.good" "$OFFCA_HOME/config.json"
pass "a config section naming no issuer is refused with its field path"

# --- point 7: ip_ranges, weak CSR signatures, invisible characters, Ed25519 ---
python3 - "$OFFCA_HOME/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["issuers"]["lab"]["policy"]["ip_ranges"] = ["10.0.0.0/8", "fd00::/8"]
json.dump(c, open(sys.argv[1], "w"), indent=2)
EOF
for ip in 10.1.2.3 fd00::1 ::ffff:10.0.0.1; do
  csr ip "/CN=i.lab.example" "DNS:i.lab.example,IP:$ip"
  "$OFFCA" sign --dry-run --csr "$T/ip.csr" --profile server --issuer lab >/dev/null 2>"$T/ip.err" || fail "IP $ip: $(cat "$T/ip.err")"
done
for ip in 192.168.1.1 fe80::1 ::ffff:192.168.0.1 11.0.0.1; do
  csr ip "/CN=i.lab.example" "DNS:i.lab.example,IP:$ip"
  expect_fail "IP $ip outside ip_ranges" "$OFFCA" sign --dry-run --csr "$T/ip.csr" --profile server --issuer lab
  expect_err_match "policy san-ip-range: IP:"
done
pass "ip_ranges 10.0.0.0/8, fd00::/8 (IPv4-mapped judged as IPv4)"

csr sha1 "/CN=w.lab.example" "DNS:w.lab.example" -sha1
expect_fail "CSR signed with ecdsa-with-SHA1" "$OFFCA" sign --dry-run --csr "$T/sha1.csr" --profile server --issuer lab
expect_err_match "policy csr-signature-digest: .*SHA1"
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/md5.key" -md5 -subj "/CN=w.lab.example" \
  -addext "subjectAltName=DNS:w.lab.example" -out "$T/md5.csr" 2>/dev/null
expect_fail "CSR signed with md5WithRSAEncryption" "$OFFCA" sign --dry-run --csr "$T/md5.csr" --profile server --issuer lab
expect_err_match "policy csr-signature-digest: .*MD5"
pass "CSRs self-signed with SHA-1 or MD5 refused"

for cp in e280ae e2808b e2808e efbbbf e281a6; do  # U+202E U+200B U+200E U+FEFF U+2066
  ch=$(printf "$(echo "$cp" | sed 's/../\\x&/g')")
  csr bidi "/CN=b.lab.example/O=invoice${ch}fdp.exe" "DNS:b.lab.example" -utf8
  expect_fail "subject with $cp" "$OFFCA" sign --dry-run --csr "$T/bidi.csr" --profile server --issuer lab
  expect_err_match "policy format-char: O holds U\+"
done
pass "subjects with bidirectional / invisible format characters refused"

openssl genpkey -algorithm ed25519 -out "$T/ed.key" 2>/dev/null
openssl req -new -key "$T/ed.key" -subj "/CN=ed.lab.example" -addext "subjectAltName=DNS:ed.lab.example" -out "$T/ed.csr"
expect_fail "Ed25519 by default" "$OFFCA" sign --dry-run --csr "$T/ed.csr" --profile server --issuer lab
expect_err_match "policy key-type: Ed25519 keys are not allowed"
python3 - "$OFFCA_HOME/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["issuers"]["lab"]["policy"]["key_types"] = ["ec", "ed25519"]
json.dump(c, open(sys.argv[1], "w"), indent=2)
EOF
# intake: through an inbound bundle into the pending queue, then signed from the queue
"$OFFCA" bundle create --out "$T/ed.bundle" --direction in "$T/ed.csr" >/dev/null 2>&1 || fail "bundle create with an Ed25519 CSR"
"$OFFCA" bundle import "$T/ed.bundle" >/dev/null 2>"$T/imp.err" || fail "bundle import of an Ed25519 CSR: $(cat "$T/imp.err")"
mkdir "$T/edq"
"$OFFCA" sign --pending-all --profile mtls --issuer lab --pin-file "$P" --out-dir "$T/edq" >/dev/null 2>"$T/pend.err" \
  || fail "sign --pending-all (Ed25519): $(cat "$T/pend.err")"
cp "$T"/edq/*.pem "$T/ed.pem"
openssl x509 -in "$T/ed.pem" -noout -text > "$T/ed.txt"
grep -q "Public Key Algorithm: ED25519" "$T/ed.txt" || fail "not an Ed25519 certificate"
grep -A1 "Key Usage: critical" "$T/ed.txt" | grep -q "Digital Signature$" || fail "Ed25519 keyUsage must be digitalSignature only"
openssl verify -x509_strict -purpose sslserver -CAfile "$T/root.pem" -untrusted "$T/lab.pem" "$T/ed.pem" >/dev/null \
  || fail "openssl verify of the Ed25519 leaf"
cat "$T/ed.pem" "$T/lab.pem" "$T/root.pem" > "$T/chain-ed.pem"
certtool --verify-chain --infile "$T/chain-ed.pem" > "$T/ct.out" 2>&1 || fail "certtool Ed25519 chain: $(tail -3 "$T/ct.out")"
if command -v go >/dev/null 2>&1; then
  mkdir -p "$T/gocache" "$T/gopath"
  GOCACHE="$T/gocache" GOPATH="$T/gopath" GO111MODULE=off go run "$OFFCA_SRC/tests/interop/x509verify.go" "$T/root.pem" "$T/lab.pem" "$T/ed.pem" \
    ed.lab.example >"$T/go.out" 2>&1 || fail "Go crypto/x509: $(cat "$T/go.out")"
  pass "Ed25519 leaf verified by openssl, certtool and Go crypto/x509"
else
  pass "Ed25519 leaf verified by openssl and certtool (go not installed: Go check skipped)"
fi
