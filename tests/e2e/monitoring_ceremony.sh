#!/usr/bin/env bash
# e2e: what the report shows of a real key ceremony: the demo ceremony of docs/examples run
# non-interactively (root, intermediate, signing session) on SoftHSM2 tokens, then offca report:
# its certificates under "Issued by ceremonies" with their ceremony source, and the ceremony's
# signed audit checkpoint (the final hash its transcript records) saying it closed that ceremony.
# offca metrics and inventory export see the same certificates.
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
python3 - demo-ceremony-out/transcript.jsonl > ckpt.txt <<'PY' || fail "no audit-checkpoint in the transcript"
import json, sys
c = [json.loads(l)["data"] for l in open(sys.argv[1]) if l.strip() and json.loads(l)["event"] == "audit-checkpoint"]
print(c[0]["seq"], c[0]["sha256"], c[0]["issuer"])
PY
read -r CSEQ CSHA CISS < ckpt.txt

"$OFFCA" report --home "$HOME_DIR" --html r.html > /dev/null || fail "report"
python3 - r.html "$CSEQ" "$CSHA" "$CISS" "$(ls demo-ceremony-out/certs/*.pem | head -1)" <<'PY' || fail "report of the ceremony"
import html.parser, subprocess, sys
page, seq, sha, iss, leaf = sys.argv[1:6]
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = []; self.cur = None
    def handle_starttag(self, t, a):
        if t == "tr": self.cur = [dict(a).get("class"), []]
        if t == "td" and self.cur: self.cur[1].append("")
    def handle_endtag(self, t):
        if t == "tr" and self.cur: self.rows.append(self.cur); self.cur = None
    def handle_data(self, d):
        if self.cur and self.cur[1]: self.cur[1][-1] += d
p = P(); p.feed(open(page).read())
rows = lambda c: [r[1] for r in p.rows if r[0] == c]
cer = rows("ceremonies")
assert len(cer) == 3 and all(r[4].startswith("ceremony ") for r in cer), cer   # root, intermediate, leaf
serial = subprocess.run(["openssl", "x509", "-in", leaf, "-noout", "-serial"], capture_output=True, text=True).stdout
assert serial.strip().split("=")[1] in [r[0] for r in cer], (serial, cer)
cp = rows("checkpoint")
mine = [r for r in cp if r[1] == seq]
assert len(mine) == 1 and mine[0][2] == sha and mine[0][3] == iss, (seq, sha, cp)
assert mine[0][4] == "ceremony Demo Root and Intermediate CA ceremony: 3 certificates", mine[0]
print("ceremony rows:", [r[4] for r in cer], "checkpoint:", mine[0][4])
PY
pass "report: the ceremony's certificates and its signed checkpoint (seq $CSEQ, the transcript's final hash)"

mkdir prom
"$OFFCA" metrics --home "$HOME_DIR" --textfile prom --json | python3 -c '
import json, sys; d = json.load(sys.stdin); assert d["certificates"] == 3 and d["series"] == 3, d' || fail "metrics"
pass "metrics sees the ceremony's three certificates"
