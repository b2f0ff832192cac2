#!/usr/bin/env bash
# Quorum: 2 of 3 officers, each with a key on their own SoftHSM2 token and the public key enrolled
# in the ceremony file. alice declines, bob and carol approve: each approval is a signature over
# the step's hash, verified against the enrolled key, and both officers sign the transcript. Then
# the same with carol's enrolled key swapped for another: her approval is rejected, the quorum is
# not reached, the step does not run.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_TEST_DATA/ceremonies/lib.sh"

e2e_token cer-root 123456
for o in alice bob carol; do
  e2e_token "officer-$o" "pin-$o"
  "$OFFCA" token keygen --token "pkcs11:token=officer-$o" --label approval --type ec-p256 \
    --pin-file "$T/officer-$o.pin" >/dev/null || fail "officer key for $o"
  "$OFFCA" token show-key "pkcs11:token=officer-$o;object=approval" --pin-file "$T/officer-$o.pin" \
    | sed -n '/BEGIN PUBLIC KEY/,/END PUBLIC KEY/p' > "$T/$o.pub.pem"
  grep -q "BEGIN PUBLIC KEY" "$T/$o.pub.pem" || fail "public key of $o"
done
cer_home
cer_creds "$T/creds.yaml" root=123456 alice=pin-alice bob=pin-bob carol=pin-carol

write_ceremony() { # FILE CAROL_PUBKEY LABEL
  cat > "$1" <<YAML
version: 1
name: "Quorum test"
output-dir: out-$3
administrator: "Alice Admin"
witnesses: ["Wes Witness"]
tokens:
  root: { uri: "pkcs11:token=cer-root" }
officers:
  alice: { key: "pkcs11:token=officer-alice;object=approval", public-key: $T/alice.pub.pem }
  bob: { key: "pkcs11:token=officer-bob;object=approval", public-key: $T/bob.pub.pem }
  carol: { key: "pkcs11:token=officer-carol;object=approval", public-key: $2 }
steps:
  - type: root-key
    token: root
    key: { label: $3, type: ec-p256 }
    quorum: { required: 2, officers: [alice, bob, carol] }
    outputs: { public-key: root.pub.pem }
YAML
}
cat > "$T/answers.yaml" <<'YAML'
step1.approve.alice: "no"
step1.approve.bob: "yes"
step1.approve.carol: "yes"
"*": "yes"
YAML
cd "$T"
write_ceremony good.yaml "$T/carol.pub.pem" quorum-root
"$OFFCA" ceremony run good.yaml --answers answers.yaml --credentials creds.yaml --no-pdf > good.out 2>&1 \
  || { cat good.out; fail "2 of 3 quorum run"; }
grep -q "Approved by bob" good.out && grep -q "Approved by carol" good.out || fail "approvals not shown"
t=out-quorum-root/transcript.jsonl
[ "$(grep -c '"event":"quorum-approval"' $t)" = 2 ] || fail "expected 2 approvals"
grep -q '"event":"quorum-declined".*alice\|alice.*"event":"quorum-declined"' $t || fail "alice's no not recorded"
grep -q '"event":"quorum-reached"' $t || fail "quorum-reached missing"
"$OFFCA" ceremony verify $t --no-ca > v.out || { cat v.out; fail "verify"; }
grep -q "signatures 3" v.out || fail "expected 3 transcript signatures (ceremony key, bob, carol): $(cat v.out)"
grep -q '"signer":"officer:bob"' $t && grep -q '"signer":"officer:carol"' $t || fail "officer signatures missing"
# an officer's token logs in once: the approval key stays open for the transcript signature
for o in bob carol root; do
  [ "$(grep '"event":"login"' $t | grep -c "\"token\":\"$o\"")" = 1 ] || fail "$o should log in exactly once"
done
# each approval verifies independently with openssl against the enrolled key
python3 - "$t" "$T" <<'PY'
import base64, json, subprocess, sys
t, d = sys.argv[1], sys.argv[2]
for line in open(t):
    e = json.loads(line)
    if e["event"] != "quorum-approval":
        continue
    who = e["data"]["officer"]
    open(d + "/msg", "w").write(e["data"]["message"])
    open(d + "/sig", "wb").write(base64.b64decode(e["data"]["signature"]))
    r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", "%s/%s.pub.pem" % (d, who), "-signature",
                        d + "/sig", d + "/msg"], capture_output=True)
    if r.returncode != 0:
        sys.exit("approval of %s does not verify with openssl" % who)
PY
pass "2 of 3: bob and carol approved (openssl checks each approval), alice declined, 3 transcript signatures, one login per token"

write_ceremony bad.yaml "$T/bob.pub.pem" quorum-root-2
if "$OFFCA" ceremony run bad.yaml --answers answers.yaml --credentials creds.yaml --no-pdf > bad.out 2>&1; then
  fail "quorum with a wrongly enrolled key should fail"
fi
grep -q "REJECTED: carol" bad.out || { cat bad.out; fail "carol's approval not rejected"; }
grep -q "quorum not reached for step 1: 1 of 2" bad.out || fail "quorum failure not reported"
[ ! -e out-quorum-root-2/root.pub.pem ] || fail "the step ran without quorum"
grep -q '"event":"key-generated"' out-quorum-root-2/transcript.jsonl && fail "a key was generated without quorum"
grep '"event":"end"' out-quorum-root-2/transcript.jsonl | grep -q aborted || fail "not aborted"
pass "an approval not matching the enrolled key is rejected; without quorum nothing runs"
