#!/usr/bin/env bash
# Non-interactive ceremonies (--answers, --credentials) on SoftHSM2 tokens demo-root and demo-int:
#  1. the demo ceremony exactly as docs/examples ships it (root, intermediate, signing session);
#  2. a lifecycle ceremony: sign-intermediate-csr, a signing session over the pending queue (one
#     CSR approved, one declined), a CRL (ledger number, publish bundle), OCSP responses;
#  3. --dry-run of the demo ceremony: throwaway tokens, temp outputs, transcript marked dry run,
#     the real tokens and the current directory untouched.
# Everything is checked with openssl (verify, crl_check, ocsp) and offca's own verifiers.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_TEST_DATA/ceremonies/lib.sh"
EX="$OFFCA_SRC/docs/examples"

e2e_token demo-root 123456
e2e_token demo-int 123456
cer_home
cd "$T"
sed "s|^module: .*|module: $SOFTHSM_MODULE|" "$EX/demo-credentials.example" > creds.yaml; chmod 600 creds.yaml

"$OFFCA" ceremony run "$EX/demo-ceremony.yaml" --home "$HOME_DIR" --answers "$EX/demo-answers.yaml" \
  --credentials creds.yaml > demo.out 2>&1 < /dev/null || { cat demo.out; fail "demo ceremony"; }
grep -q "Ceremony completed: 5 steps" demo.out || fail "demo ceremony did not complete"
grep -q "^PDF: " demo.out || fail "no PDF line"
D=demo-ceremony-out
for f in root.pem intermediate.pem transcript.jsonl transcript.pdf root-key.pub.pem int-key.pub.pem; do
  [ -s "$D/$f" ] || fail "demo output $f missing"
done
leaf=$(ls $D/certs/*.pem); [ -n "$leaf" ] || fail "no certificate from the signing session"
openssl verify -x509_strict -purpose sslserver -CAfile $D/root.pem -untrusted $D/intermediate.pem $leaf >/dev/null \
  || fail "openssl verify of the session's certificate"
"$OFFCA" ceremony verify $D/transcript.jsonl --ca $D/root.pem >/dev/null || fail "demo transcript verify"
grep -q '"dry_run":false' $D/transcript.jsonl || fail "mode entry missing"
pass "demo ceremony (root, intermediate, signing session) non-interactive; chain verifies"

# the ceremony ended by signing the CA home's audit head: in the transcript, in the store, and
# the entry it names still has that hash
python3 - "$D/transcript.jsonl" > ckpt.txt <<'PY' || fail "no audit-checkpoint event in the transcript"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
c = [e["data"] for e in ev if e["event"] == "audit-checkpoint"]
end = [i for i, e in enumerate(ev) if e["event"] == "end"][0]
assert len(c) == 1 and "seq" in c[0] and [e["event"] for e in ev].index("audit-checkpoint") < end, c
print(c[0]["seq"], c[0]["sha256"], c[0]["issuer"])
PY
read -r CSEQ CSHA CISS < ckpt.txt
grep -q "Audit log head #$CSEQ (sha256 $CSHA) signed by issuer '$CISS'" demo.out || fail "checkpoint not shown"
"$OFFCA" audit verify --home "$HOME_DIR" > verify.out || fail "audit verify after the ceremony"
grep -q "^signed checkpoints: 1, the newest at entry #$CSEQ$" verify.out || fail "verify: $(cat verify.out)"
"$OFFCA" audit show --json --home "$HOME_DIR" | python3 -c '
import json, sys
e = [x for x in json.load(sys.stdin) if x["seq"] == int(sys.argv[1])][0]
sys.exit(0 if e["hash"].lower() == sys.argv[2] else 1)' "$CSEQ" "$CSHA" || fail "entry #$CSEQ is not the signed head"
pass "the ceremony signed the audit head (#$CSEQ by '$CISS'): transcript, store and audit verify agree"

# the pending queue: two CSRs come in through an (unsigned) inbound bundle
for cn in queued1 queued2; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "/CN=$cn.demo.example" \
    -addext "subjectAltName=DNS:$cn.demo.example" -out $cn.csr 2>/dev/null
done
"$OFFCA" bundle create --out in.bundle --direction in csr:queued1.csr csr:queued2.csr >/dev/null
"$OFFCA" bundle import in.bundle --home "$HOME_DIR" >/dev/null || fail "bundle import"
"$OFFCA" revoke "$(basename "$leaf" .pem)" --reason superseded --home "$HOME_DIR" >/dev/null || fail "revoke"
cp "$CER_DATA/lifecycle.yaml" "$CER_DATA/partner.csr" .
cat > answers.lines <<'EOF2'
# in order: time, people, step1 confirm, step2 confirm, CSR 1 yes, CSR 2 no, step3, step4
yes
yes
yes
yes
yes
no
yes
yes
EOF2
"$OFFCA" ceremony run lifecycle.yaml --home "$HOME_DIR" --answers answers.lines --credentials creds.yaml --no-pdf \
  > life.out 2>&1 || { cat life.out; fail "lifecycle ceremony"; }
L=lifecycle-out
# the CRL block shows thisUpdate and nextUpdate, as the CRL itself says (issue 17)
nu=$(openssl crl -in $L/int.crl -noout -nextupdate | sed 's/^nextUpdate=//')
nu_iso=$(date -u -d "$nu" '+%Y-%m-%d %H:%M:%S UTC')
tu_iso=$(date -u -d "$(openssl crl -in $L/int.crl -noout -lastupdate | sed 's/^lastUpdate=//')" '+%Y-%m-%d %H:%M:%S UTC')
grep -q "nextUpdate $nu_iso" life.out || { grep -i update life.out; fail "the CRL block does not show nextUpdate $nu_iso"; }
grep -q "thisUpdate $tu_iso" life.out || fail "the CRL block does not show thisUpdate $tu_iso"
pass "CRL block: thisUpdate and nextUpdate as in the CRL"
cat $D/root.pem $D/intermediate.pem > chain.pem
openssl verify -x509_strict -CAfile $D/root.pem $L/partner.pem >/dev/null || fail "partner intermediate"
[ "$(ls $L/certs | wc -l)" = 1 ] || fail "expected exactly the approved CSR signed"
openssl x509 -in $L/certs/*.pem -noout -subject | grep -q queued1 || fail "the wrong CSR was signed"
"$OFFCA" pending list --home "$HOME_DIR" | grep -q queued2 || fail "the declined CSR should stay pending"
"$OFFCA" pending list --home "$HOME_DIR" | grep -q queued1 && fail "the signed CSR is still pending"
grep '"event":"pending-removed"' $L/transcript.jsonl | grep -q '"count":1' || fail "queue drain not recorded"
grep -q "subject (RFC 4514)       CN=queued1.demo.example" life.out && grep -q "SANs in the certificate  DNS:queued2.demo.example" life.out \
  || fail "the operator was not shown each CSR's subject and SANs"
pass "signing session: each subject and SANs shown, the operator's yes/no per CSR obeyed; pending queue updated"
openssl crl -in $L/int.crl -noout -text | grep -q "CRL Number" || fail "CRL number"
if openssl verify -crl_check -CAfile chain.pem -CRLfile $L/int.crl "$leaf" >/dev/null 2>&1; then fail "revoked cert verifies"; fi
openssl verify -crl_check -CAfile chain.pem -CRLfile $L/int.crl $L/certs/*.pem >/dev/null || fail "good cert with CRL"
"$OFFCA" bundle verify $L/int-crl.bundle --ca $D/root.pem >/dev/null || fail "CRL publish bundle does not verify"
pass "CRL: ledger number, revoked entry, signed publish bundle"
openssl ocsp -respin $L/ocsp/demo-int.ocsp.der -issuer $D/root.pem -cert $D/intermediate.pem -CAfile $D/root.pem \
  -no_nonce > ocsp.out 2>&1 || { cat ocsp.out; fail "openssl ocsp"; }
grep -q "Response verify OK" ocsp.out && grep -q "intermediate.pem: good" ocsp.out || fail "OCSP: $(cat ocsp.out)"
"$OFFCA" ceremony verify $L/transcript.jsonl --ca $D/root.pem >/dev/null || fail "lifecycle transcript"
pass "OCSP responses verify with openssl against the root"

# dry run: same prompts, throwaway tokens, nothing real touched
mkdir dry && cd dry
"$OFFCA" ceremony run "$EX/demo-ceremony.yaml" --dry-run --answers "$EX/demo-answers.yaml" --credentials ../creds.yaml \
  --no-pdf > dry.out 2>&1 || { cat dry.out; fail "dry run"; }
grep -q "DRY RUN" dry.out || fail "dry run not announced"
[ ! -e demo-ceremony-out ] || fail "a dry run wrote into the current directory"
tr=$(sed -n 's/^Transcript: //p' dry.out); [ -s "$tr" ] || fail "dry-run transcript not found"
grep -q '"dry_run":true' "$tr" && grep -q '(DRY RUN)' "$tr" || fail "transcript not marked dry run"
"$OFFCA" ceremony verify "$tr" --no-ca >/dev/null || fail "dry-run transcript verify"
"$OFFCA" token list > tokens.out
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label demo-root --login --pin 123456 --list-objects 2>/dev/null \
  | grep -c "label: *demo-root-key" | grep -qx 2 || fail "the real root token changed"
dry=$(dirname "$(dirname "$tr")")
case "$dry" in /tmp/offca-dry-run.*) ;; *) fail "unexpected dry-run dir $dry" ;; esac
[ ! -e "$dry/tokens" ] && [ ! -e "$dry/softhsm2.conf" ] || { ls -la "$dry"; rm -rf "$dry"; fail "the throwaway token store was left behind"; }
[ -s "$dry/out/root.pem" ] || { rm -rf "$dry"; fail "dry-run outputs were not kept for review"; }
grep -q "throwaway tokens were deleted; outputs and the rehearsal CA home are kept for review under $dry" dry.out \
  || { rm -rf "$dry"; fail "the dry run does not say where its outputs are"; }
rm -rf "$dry"
pass "dry run rehearses on throwaway tokens (deleted at the end, outputs kept); real tokens and outputs untouched"
