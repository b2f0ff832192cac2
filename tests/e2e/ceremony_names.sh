#!/usr/bin/env bash
# ceremony_names: the name constraints of an intermediate a ceremony makes (permit-dns) hold in the
# same ceremony (issue 11, point 2): `ceremony validate` (and `run`) refuse a signing session whose
# CSR files fall outside them, naming the field path; a session over the pending queue (CSRs the
# file cannot name) shows an out-of-scope CSR as refused by rule name-constraints, records
# csr-refused in the transcript and signs only the one inside, which openssl verifies.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_TEST_DATA/ceremonies/lib.sh"
EX="$OFFCA_SRC/docs/examples"

e2e_token demo-root 123456
e2e_token demo-int 123456
cer_home
cd "$T"
sed "s|^module: .*|module: $SOFTHSM_MODULE|" "$EX/demo-credentials.example" > creds.yaml; chmod 600 creds.yaml
for n in mqtt.iot.example x.lab.example; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "/CN=$n" \
    -addext "subjectAltName=DNS:$n" -out "$n.csr" 2>/dev/null
done

# the demo ceremony with permit-dns on its intermediate; its session names CSR files
sed -e 's|^    path-len: 0$|    path-len: 0\n    permit-dns: [lab.example]|' \
    -e 's|csrs: \[demo-server.csr\]|csrs: [x.lab.example.csr, mqtt.iot.example.csr]|' "$EX/demo-ceremony.yaml" > named.yaml
grep -q "permit-dns: \[lab.example\]" named.yaml || fail "test setup: sed did not add permit-dns"
expect_fail "validate: a session CSR outside the intermediate's permit-dns" "$OFFCA" ceremony validate named.yaml --offline
expect_err_match "named.yaml: steps\[4\]\.csrs\[1\]: policy name-constraints: DNS:mqtt\.iot\.example is not within the permitted subtrees of CA 'demo-int, made by steps\[3\]' \(steps\[3\]\.permit-dns\)"
grep -q "csrs\[0\]" "$T/last.err" && fail "the CSR inside lab.example was reported"
expect_fail "run refuses the same file" "$OFFCA" ceremony run named.yaml --home "$HOME_DIR" --answers "$EX/demo-answers.yaml" \
  --credentials creds.yaml
expect_err_match "steps\[4\]\.csrs\[1\]: policy name-constraints"
[ ! -e demo-ceremony-out/transcript.jsonl ] || fail "a transcript was started for a refused file"
pass "ceremony validate / run: session CSR files checked against the ceremony's permit-dns"

# the same ceremony over the pending queue: validate cannot see those CSRs, the session refuses
"$OFFCA" bundle create --out in.bundle --direction in csr:mqtt.iot.example.csr csr:x.lab.example.csr >/dev/null
"$OFFCA" bundle import in.bundle --home "$HOME_DIR" >/dev/null || fail "bundle import"
sed -e 's|csrs: \[x.lab.example.csr, mqtt.iot.example.csr\]|pending: true|' named.yaml > queue.yaml
"$OFFCA" ceremony validate queue.yaml --offline >/dev/null 2>&1 || fail "queue.yaml should validate"
printf '"*": "yes"\n' > all-yes.yaml
"$OFFCA" ceremony run queue.yaml --home "$HOME_DIR" --answers all-yes.yaml --credentials creds.yaml --no-pdf \
  > run.out 2>&1 || { cat run.out; fail "ceremony over the pending queue"; }
grep -q "REFUSED by policy: .*policy name-constraints: DNS:mqtt.iot.example is not within the permitted subtrees of CA 'CN=Demo Intermediate CA,O=offca demo'" run.out \
  || { cat run.out; fail "the session did not show the name-constraints refusal"; }
D=demo-ceremony-out
grep '"event":"csr-refused"' $D/transcript.jsonl | grep -q "name-constraints" || fail "csr-refused not in the transcript"
[ "$(ls $D/certs | wc -l)" = 1 ] || fail "expected exactly one certificate"
leaf=$(ls $D/certs/*.pem)
openssl x509 -in "$leaf" -noout -subject | grep -q "x.lab.example" || fail "the wrong CSR was signed"
openssl verify -x509_strict -purpose sslserver -CAfile $D/root.pem -untrusted $D/intermediate.pem "$leaf" >/dev/null \
  || fail "openssl verify of the session's certificate"
"$OFFCA" pending list --home "$HOME_DIR" | grep -q "mqtt.iot.example" || fail "the refused CSR left the queue"
pass "ceremony session: out-of-scope pending CSR refused (name-constraints), the other signed and verified"

# a later session-only ceremony for the intermediate now in the CA home: checked against its chain
cat > session.yaml <<'EOF2'
version: 1
name: "Session under demo-int"
output-dir: session-out
administrator: "Ada Administrator"
witnesses: ["Wendy Witness"]
tokens:
  int: { uri: "pkcs11:token=demo-int" }
steps:
  - type: signing-session
    issuer: demo-int
    profile: server
    csrs: [x.lab.example.csr, mqtt.iot.example.csr]
    outputs: { directory: certs }
EOF2
expect_fail "validate: session CSR outside the constraints of a store issuer" "$OFFCA" ceremony validate session.yaml --home "$HOME_DIR"
expect_err_match "session.yaml: steps\[0\]\.csrs\[1\]: policy name-constraints: DNS:mqtt\.iot\.example is not within the permitted subtrees of CA 'CN=Demo Intermediate CA,O=offca demo' \(issuer 'demo-int' in the CA home\)"
grep -q "csrs\[0\]" "$T/last.err" && fail "the CSR inside lab.example was reported"
sed -i 's|csrs: \[x.lab.example.csr, mqtt.iot.example.csr\]|csrs: [x.lab.example.csr]|' session.yaml
"$OFFCA" ceremony validate session.yaml --home "$HOME_DIR" >/dev/null 2>&1 || fail "the in-scope session should validate"
pass "ceremony validate: session CSR files against the chain of an issuer in the CA home"
