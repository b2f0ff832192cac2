#!/usr/bin/env bash
# e2e: offca export --k8s-secret --sops --age: the data key opens with the age CLI (Debian's age)
# for each recipient, sops-age (npm, an independent SOPS implementation) decrypts the document to
# the plain Secret, SOPS's MAC verifies (tests/interop/sops/mac.js, since sops-age skips it; and
# `sops -d` itself when a sops binary is installed), and tampering is refused by each of them.
# --git-repo --commit writes into a work tree, which is pushed to a `git daemon` on 127.0.0.1 and
# cloned back: the clone holds the document and no readable certificate or key.
source "$(dirname "$0")/../lib/e2e.sh"
source "$(dirname "$0")/../lib/export_env.sh"
source "$(dirname "$0")/../lib/acme_env.sh" # acme_port, acme_wait_tcp
need age
need age-keygen
need node
need npm
need git
need python3
: "${OFFCA_SRC:?}"

mkdir -p "$T/js"
cp "$OFFCA_SRC"/tests/interop/sops/package.json "$OFFCA_SRC"/tests/interop/sops/package-lock.json \
   "$OFFCA_SRC"/tests/interop/sops/*.js "$T/js/"
if ! (cd "$T/js" && timeout 180 npm ci --no-audit --no-fund --loglevel=error >"$T/npm.log" 2>&1); then
  echo "skip: npm ci of sops-age failed: $(tail -n 1 "$T/npm.log")" >&2
  exit 77
fi
JS="$T/js"

export_env_ca
S=$(export_env_leaf web "DNS:web.example.com,DNS:www.example.com")
age-keygen -o "$T/id1.txt" 2>/dev/null; R1=$(age-keygen -y "$T/id1.txt")
age-keygen -o "$T/id2.txt" 2>/dev/null; R2=$(age-keygen -y "$T/id2.txt")
age-keygen -o "$T/id3.txt" 2>/dev/null
"$OFFCA" export "$S" --k8s-secret web-tls --namespace prod --out "$T/plain.yaml"
"$OFFCA" export "$S" --k8s-secret web-tls --namespace prod --sops --age "$R1,$R2" --out "$T/s.yaml" || fail "export --sops"

# enc[i] -> $T/encI.age
python3 - "$T/s.yaml" "$T" <<'PY' || fail "SOPS structure"
import sys, yaml, re
d = yaml.safe_load(open(sys.argv[1]))
s = d["sops"]
assert s["encrypted_regex"] == "^(data|stringData)$" and re.match(r"^\d+\.\d+\.\d+$", s["version"])
assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", s["lastmodified"])
assert s["mac"].startswith("ENC[AES256_GCM,data:") and s["mac"].endswith(",type:str]")
for k in ("ca.crt", "tls.crt"):
    assert d["data"][k].startswith("ENC[AES256_GCM,data:"), k
assert d["data"]["tls.key"] == ""
assert d["kind"] == "Secret" and d["type"] == "kubernetes.io/tls" and d["metadata"]["name"] == "web-tls"
assert len(s["age"]) == 2
for i, a in enumerate(s["age"]):
    assert a["recipient"].startswith("age1")
    open(f"{sys.argv[2]}/enc{i + 1}.age", "w").write(a["enc"])
PY
grep -q "BEGIN CERTIFICATE\|LS0tLS1CRUdJTi" "$T/s.yaml" && fail "plaintext certificate in the SOPS document"
age -d -i "$T/id1.txt" -o "$T/dk1" "$T/enc1.age" || fail "age -d (recipient 1)"
age -d -i "$T/id2.txt" -o "$T/dk2" "$T/enc2.age" || fail "age -d (recipient 2)"
[ "$(stat -c %s "$T/dk1")" = 32 ] && cmp -s "$T/dk1" "$T/dk2" || fail "the recipients got different data keys"
expect_fail "age -d with a stranger's identity" age -d -i "$T/id3.txt" -o "$T/dk3" "$T/enc1.age"
pass "age CLI opens the 32-byte data key for each of two recipients, not for a third"

for id in id1 id2; do
  node "$JS/decrypt.js" "$T/s.yaml" "$T/$id.txt" > "$T/dec.json" 2>"$T/node.err" || fail "sops-age ($id): $(cat "$T/node.err")"
  python3 - "$T/dec.json" "$T/plain.yaml" <<'PY' || fail "sops-age's result differs from the plain Secret"
import json, sys, yaml
dec = json.load(open(sys.argv[1])); plain = yaml.safe_load(open(sys.argv[2]))
assert dec == plain, (dec.keys(), plain.keys())
PY
done
node "$JS/mac.js" "$T/s.yaml" "$T/dk1" | grep -q "MAC OK" || fail "SOPS MAC does not verify"
if command -v sops >/dev/null 2>&1; then
  SOPS_AGE_KEY_FILE="$T/id2.txt" sops -d "$T/s.yaml" > "$T/sopsd.yaml" || fail "sops -d"
  python3 -c 'import sys,yaml; assert yaml.safe_load(open(sys.argv[1]))==yaml.safe_load(open(sys.argv[2]))' \
    "$T/sopsd.yaml" "$T/plain.yaml" || fail "sops -d gives another Secret"
  pass "sops -d ($(sops --version 2>/dev/null | head -1)) decrypts it to the plain Secret"
else
  echo "note: no sops binary here (no Debian 12 package): sops -d not run" >&2
fi
pass "sops-age decrypts to exactly the plain Secret with either identity; the SOPS MAC verifies"

# tampering
python3 - "$T/s.yaml" "$T" <<'PY'
import sys, re
t = open(sys.argv[1]).read(); d = sys.argv[2]
def flip(s, i): return s[:i] + ("A" if s[i] != "A" else "B") + s[i + 1:]
i = t.index("tls.crt: ENC[AES256_GCM,data:") + 40
open(d + "/t-value.yaml", "w").write(flip(t, i))
j = t.index("mac: ENC[AES256_GCM,data:") + 30
open(d + "/t-mac.yaml", "w").write(flip(t, j))
open(d + "/t-name.yaml", "w").write(t.replace("name: web-tls", "name: evil-tls"))
open(d + "/t-move.yaml", "w").write(re.sub(r"(ca.crt|tls.crt): ENC", lambda m: ("tls.crt" if m.group(1) == "ca.crt" else "ca.crt") + ": ENC", t))
PY
expect_fail "sops-age: tampered value" node "$JS/decrypt.js" "$T/t-value.yaml" "$T/id1.txt"
expect_fail "sops-age: values swapped between keys (associated data)" node "$JS/decrypt.js" "$T/t-move.yaml" "$T/id1.txt"
expect_fail "MAC check: tampered MAC" node "$JS/mac.js" "$T/t-mac.yaml" "$T/dk1"
expect_fail "MAC check: renamed Secret (a clear value)" node "$JS/mac.js" "$T/t-name.yaml" "$T/dk1"
python3 - "$T/enc1.age" "$T/enc1-bad.age" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
l = lines[-3]; lines[-3] = l[:5] + ("A" if l[5] != "A" else "B") + l[6:]  # the payload, after the header
open(sys.argv[2], "w").write("\n".join(lines))
PY
cmp -s "$T/enc1.age" "$T/enc1-bad.age" && fail "tamper did not change the age file"
expect_fail "age -d: tampered data key file" age -d -i "$T/id1.txt" -o "$T/dkx" "$T/enc1-bad.age"
if command -v sops >/dev/null 2>&1; then
  for f in t-value t-mac t-name; do
    expect_fail "sops -d: $f" env SOPS_AGE_KEY_FILE="$T/id1.txt" sops -d "$T/$f.yaml"
  done
fi
pass "tampered value, swapped values, tampered MAC, renamed object and tampered age stanza all refused"

# bad recipients: one line, nothing written
expect_fail "recipient with a bad checksum" "$OFFCA" export "$S" --k8s-secret web-tls --sops --age "${R1%?}q" --out "$T/b1.yaml"
expect_err_match "bad checksum"
expect_fail "not an age1 recipient" "$OFFCA" export "$S" --k8s-secret web-tls --sops --age "ssh-ed25519 AAAA" --out "$T/b2.yaml"
expect_fail "an age identity instead of a recipient" "$OFFCA" export "$S" --k8s-secret web-tls --sops \
  --age "$(grep AGE-SECRET "$T/id1.txt")" --out "$T/b3.yaml"
expect_err_match "secret key"
grep -q "$(grep AGE-SECRET "$T/id1.txt" | cut -c16-40)" "$T/last.err" && fail "the error message repeats the secret key"
expect_fail "--sops without --age" "$OFFCA" export "$S" --k8s-secret web-tls --sops --out "$T/b4.yaml"
expect_fail "existing output" "$OFFCA" export "$S" --k8s-secret web-tls --sops --age "$R1" --out "$T/s.yaml"
ls "$T"/b?.yaml 2>/dev/null && fail "a refused export wrote a file"
pass "bad recipients and an existing output refused, nothing written"

# --- GitOps: work tree -> git daemon on 127.0.0.1 -> clone back ---
git init -q --bare -b main "$T/srv/fleet.git"
touch "$T/srv/fleet.git/git-daemon-export-ok"
git -C "$T/srv/fleet.git" config daemon.receivepack true
git init -q -b main "$T/wt"
git -C "$T/wt" config user.name "offca test"; git -C "$T/wt" config user.email "test@offca.invalid"
echo "# fleet" > "$T/wt/README.md"; git -C "$T/wt" add README.md; git -C "$T/wt" commit -qm init
PORT=""
for try in 1 2 3; do
  PORT=$(acme_port)
  git daemon --reuseaddr --listen=127.0.0.1 --port="$PORT" --base-path="$T/srv" --export-all --enable=receive-pack \
    "$T/srv" >"$T/daemon.log" 2>&1 &
  e2e_bg $!
  acme_wait_tcp "$PORT" && break
  PORT=""
done
[ -n "$PORT" ] || fail "git daemon did not start: $(cat "$T/daemon.log")"
git -C "$T/wt" remote add origin "git://127.0.0.1:$PORT/fleet.git"
"$OFFCA" export "$S" --k8s-secret web-tls --namespace prod --sops --age "$R1" --git-repo "$T/wt" --commit 2>"$T/git.err" \
  || fail "--git-repo --commit: $(cat "$T/git.err")"
git -C "$T/wt" log -1 --format=%s > "$T/msg"
grep -q "$(echo "$S" | tr a-f A-F)" "$T/msg" && grep -q "DNS:web.example.com" "$T/msg" && grep -q "notAfter 20" "$T/msg" \
  || fail "commit message: $(cat "$T/msg")"
[ -z "$(git -C "$T/wt" status --porcelain)" ] || fail "work tree not clean after --commit"
git -C "$T/wt" push -q origin main 2>"$T/push.err" || fail "git push: $(cat "$T/push.err")"
git clone -q "git://127.0.0.1:$PORT/fleet.git" "$T/clone" 2>"$T/clone.err" || fail "git clone: $(cat "$T/clone.err")"
F="$T/clone/offca/web-tls.sops.yaml"
[ -f "$F" ] || fail "the clone has no offca/web-tls.sops.yaml"
node "$JS/decrypt.js" "$F" "$T/id1.txt" > "$T/dec2.json" || fail "sops-age on the cloned file"
python3 -c 'import sys,json,yaml; assert json.load(open(sys.argv[1]))==yaml.safe_load(open(sys.argv[2]))' "$T/dec2.json" "$T/plain.yaml" \
  || fail "cloned document decrypts to another Secret"
CERT_B64=$(python3 -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["data"]["tls.crt"][:40])' "$T/plain.yaml")
if grep -rq -e "BEGIN CERTIFICATE" -e "PRIVATE KEY" -e "$CERT_B64" -e "LS0tLS1CRUdJTi" "$T/clone" --exclude-dir=.git \
   || git -C "$T/clone" log -p --all | grep -q -e "LS0tLS1CRUdJTi" -e "BEGIN CERTIFICATE"; then
  fail "plaintext certificate material in the Git repository"
fi
pass "--git-repo --commit: committed (message: serial, SANs, notAfter), pushed to git daemon, cloned back, decrypts; no plaintext in the repo"

# renewal: a committed file is replaced by a new commit; uncommitted changes refuse
sleep 1
"$OFFCA" export "$S" --k8s-secret web-tls --namespace prod --sops --age "$R1" --git-repo "$T/wt" --commit 2>/dev/null \
  || fail "second --git-repo export over a committed file"
[ "$(git -C "$T/wt" rev-list --count HEAD)" = 3 ] || fail "no second commit"
echo "local edit" >> "$T/wt/offca/web-tls.sops.yaml"
sum=$(sha256sum < "$T/wt/offca/web-tls.sops.yaml")
expect_fail "uncommitted changes at the target path" "$OFFCA" export "$S" --k8s-secret web-tls --namespace prod --sops \
  --age "$R1" --git-repo "$T/wt" --commit
expect_err_match "uncommitted changes"
[ "$(sha256sum < "$T/wt/offca/web-tls.sops.yaml")" = "$sum" ] || fail "the edited file was overwritten"
expect_fail "not a Git work tree" "$OFFCA" export "$S" --k8s-secret web-tls --sops --age "$R1" --git-repo "$T/srv/none"
expect_fail "--git-path escaping the repo" "$OFFCA" export "$S" --k8s-secret web-tls --sops --age "$R1" --git-repo "$T/wt" \
  --git-path ../x.yaml
expect_fail "--git-repo with a plain Secret" "$OFFCA" export "$S" --k8s-secret web-tls --git-repo "$T/wt"
pass "re-export commits over the old version; uncommitted changes, non-repo, escaping path, plain Secret refused"

# --- issue --generate-key straight into a SOPS Secret: tls.key present, equal to kubectl's ---
need kubectl
"$OFFCA" issue --generate-key --subject "CN=gen.example.com" --san gen.example.com --profile server \
  --k8s-secret gen-tls --namespace prod --sops --age "$R1" --out "$T/gen.sops.yaml" --pin-file "$PIN" \
  > "$T/gen.out" 2>"$T/gen.err" || fail "issue --k8s-secret --sops: $(cat "$T/gen.err")"
grep -q "PRIVATE KEY\|LS0tLS1CRUdJTi" "$T/gen.sops.yaml" && fail "plaintext in the generated-key SOPS Secret"
node "$JS/decrypt.js" "$T/gen.sops.yaml" "$T/id1.txt" > "$T/gen.json" || fail "sops-age on the generated-key Secret"
age -d -i "$T/id1.txt" -o "$T/gdk" <(python3 -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["sops"]["age"][0]["enc"],end="")' "$T/gen.sops.yaml")
node "$JS/mac.js" "$T/gen.sops.yaml" "$T/gdk" | grep -q "MAC OK" || fail "MAC of the generated-key Secret"
python3 - "$T/gen.json" "$T" <<'PY' || fail "generated-key Secret content"
import base64, json, sys
d = json.load(open(sys.argv[1])); t = sys.argv[2]
for k, f in (("tls.crt", "gen-fullchain.pem"), ("tls.key", "gen-key.pem"), ("ca.crt", "gen-ca.crt")):
    open(f"{t}/{f}", "wb").write(base64.b64decode(d["data"][k]))
assert b"PRIVATE KEY" in open(f"{t}/gen-key.pem", "rb").read()
PY
[ "$(openssl pkey -in "$T/gen-key.pem" -pubout)" = "$(openssl x509 -in "$T/gen-fullchain.pem" -noout -pubkey)" ] \
  || fail "tls.key does not match tls.crt"
kubectl create secret tls gen-tls --namespace prod --cert "$T/gen-fullchain.pem" --key "$T/gen-key.pem" \
  --dry-run=client -o json > "$T/gen-k.json"
python3 - "$T/gen.json" "$T/gen-k.json" <<'PY' || fail "generated-key Secret differs from kubectl create secret tls"
import json, sys
ours = json.load(open(sys.argv[1])); k = json.load(open(sys.argv[2]))
for f in k:
    if f != "data":
        assert ours[f] == k[f], (f, ours[f], k[f])
for f in k["data"]:
    assert ours["data"][f] == k["data"][f], f
assert set(ours["data"]) - set(k["data"]) == {"ca.crt"}
PY
grep -q "WARNING" "$T/gen.err" || fail "no warning about the generated key"
pass "issue --generate-key --k8s-secret --sops: tls.key inside, encrypted; decrypted it equals kubectl create secret tls (+ ca.crt)"
