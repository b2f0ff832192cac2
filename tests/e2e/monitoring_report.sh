#!/usr/bin/env bash
# e2e: offca report --html FILE, rendered by headless Chromium (Debian's chromium): a screenshot is
# taken (a PNG with more than a few colours) and the DOM Chromium builds (--dump-dom) holds the
# expected rows: hierarchy, timeline buckets, revocations, CRLs, pending CSRs, signed checkpoints.
# Subject CNs and a pending CSR holding "<script>alert(1)</script>" appear as text, never as markup;
# the page holds no script and nothing that fetches. Pages for 1,000 and 100,000 certificates
# render (the timeline draws buckets, not one bar per certificate).
source "$(dirname "$0")/../lib/e2e.sh"
source "$(dirname "$0")/../lib/monitoring_env.sh"
need chromium
need convert
mon_setup
EVIL='<script>alert(1)</script>'
"$SEED" --seed-cn "$H" 2 "$EVIL" > "$T/evil.serials" || fail "seed evil CN"

# chrome PAGE NAME : $T/NAME.png (screenshot) and $T/NAME.dom (the DOM after loading)
chrome() {
  local opts=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --user-data-dir="$T/chrome"
              --hide-scrollbars)
  timeout 120 chromium "${opts[@]}" --window-size=1200,3000 --screenshot="$T/$2.png" "file://$1" >/dev/null 2>&1 \
    || fail "chromium --screenshot $1"
  timeout 120 chromium "${opts[@]}" --dump-dom "file://$1" > "$T/$2.dom" 2>/dev/null || fail "chromium --dump-dom $1"
  [ "$(head -c 8 "$T/$2.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] || fail "$2.png is not a PNG"
  local colours
  colours=$(convert "$T/$2.png" -format %k info:)
  [ "$colours" -gt 8 ] || fail "$2.png looks empty ($colours colours)"
  grep -q '</html>' "$T/$2.dom" || fail "$2.dom: no DOM"
}

# ---- bad input ----
expect_fail "report without --html" "$OFFCA" report
expect_err_match "html is required"
touch "$T/exists.html"
expect_fail "report over an existing file" "$OFFCA" report --html "$T/exists.html"
[ ! -s "$T/exists.html" ] || fail "report overwrote a file"
expect_fail "report into a missing directory" "$OFFCA" report --html "$T/no/r.html"
"$OFFCA" report --help | grep -q "usage: offca report --html FILE" || fail "report --help"
pass "report: usage errors, never overwrites"

# ---- the small CA ----
"$OFFCA" report --html "$T/r.html" > "$T/r.out" || fail "report: $(cat "$T/r.out")"
[ "$(stat -c %a "$T/r.html")" = 644 ] || fail "mode"
ls "$T"/r.html.tmp.* 2>/dev/null && fail "temporary file left"
# self-contained: no script, nothing fetched (the SVG namespace is a name, not a fetch)
! grep -qi '<script' "$T/r.html" || fail "the page holds a <script>"
! grep -Eqi '(src|href)=|url\(|@import|<link|<iframe|<img|<object|<embed' "$T/r.html" || fail "the page fetches something"
[ "$(grep -o '&lt;script&gt;alert(1)&lt;/script&gt;' "$T/r.html" | wc -l)" = 2 ] || fail "the injected CNs are not shown escaped"
grep -qF 'CN=\&lt;script\&gt;alert(1)\&lt;/script\&gt;' "$T/r.html" || fail "the injected pending CSR subject is not shown escaped"
pass "page: no script, no external fetch, injected names escaped ($(wc -c < "$T/r.html") bytes)"

chrome "$T/r.html" small
python3 - "$T/small.dom" "$S1" "$S2" "$T/int.crl.pem" <<'PY' || fail "DOM of the small report"
import html.parser, subprocess, sys, datetime
dom, s1, s2, crl = sys.argv[1:5]
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = []; self.cur = None; self.tags = set(); self.li = []; self.in_li = 0
    def handle_starttag(self, t, a):
        self.tags.add(t)
        if t == "tr": self.cur = [dict(a).get("class"), []]
        if t in ("td", "th") and self.cur: self.cur[1].append("")
        if t == "li": self.li.append(dict(a).get("class"))
    def handle_endtag(self, t):
        if t == "tr" and self.cur: self.rows.append(self.cur); self.cur = None
    def handle_data(self, d):
        if self.cur and self.cur[1]: self.cur[1][-1] += d
p = P(); p.feed(open(dom).read())
assert "script" not in p.tags, "a script element in the DOM"
rows = lambda c: [r[1] for r in p.rows if r[0] == c]
summ = rows("summary")[0]
assert summ[:4] == ["7", "6", "1", "0"], summ          # root, int, h1..h3, 2 seeded; h2 revoked
assert summ[4] == "2", summ                            # pending CSRs
assert p.li.count("issuer") == 2, p.li
rev = rows("revoked")
assert len(rev) == 1 and rev[0][0] == s2 and rev[0][1] == "h2.example" and rev[0][4] == "keyCompromise", rev
crls = {r[0]: r for r in rows("crl")}
nu = subprocess.run(["openssl", "crl", "-in", crl, "-noout", "-nextupdate"], capture_output=True, text=True).stdout
nu = datetime.datetime.strptime(nu.split("=", 1)[1].strip(), "%b %d %H:%M:%S %Y GMT").strftime("%Y-%m-%dT%H:%M:%SZ")
assert crls["int"][1] == "1" and crls["int"][3] == nu and crls["int"][4] == "fine", crls["int"]
assert "no CRL" in crls["root"][1], crls["root"]
pend = rows("pending")
assert len(pend) == 2 and pend[0][2] == "CN=\\<script\\>alert(1)\\</script\\>", pend
assert sum(int(r[2]) for r in rows("bucket")) == 4, rows("bucket")  # valid leaves: h1, h3, 2 seeded
soon = rows("soonest")
assert any(r[1] == "<script>alert(1)</script>" for r in soon), soon   # shown as text
assert any(r[0] == s1 for r in soon), soon
cps = rows("checkpoint")
assert len(cps) >= 2 and all(len(r[2]) == 64 for r in cps), cps       # sign sessions and the CRL
assert cps[0][4] == "a CRL" and cps[1][4] == "signing: 1 certificate", cps  # newest first
print(f"rows: {len(p.rows)}, checkpoints {len(cps)}")
PY
pass "Chromium renders the report: screenshot, and the DOM holds the summary, hierarchy, revocation, CRLs, pending, timeline and checkpoint rows"

env -u OFFCA_HOME "$OFFCA" report --home "$H" --html "$T/r2.html" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["certificates"] == 7 and d["revoked"] == 1 and d["pendingCsrs"] == 2, d' || fail "report --json --home"
pass "report --json --home"

# ---- scale: 1,000 and 100,000 certificates ----
"$SEED" --seed "$H" 993 > /dev/null   # 7 + 993 = 1000
"$OFFCA" report --html "$T/r1k.html" | grep -q "1000 certificates" || fail "report of 1,000"
chrome "$T/r1k.html" r1k
grep -c '<rect class="bar"' "$T/r1k.html" | awk '$1 < 1 || $1 > 600 {exit 1}' || fail "timeline bars at 1,000"
pass "a page for 1,000 certificates renders ($(wc -c < "$T/r1k.html") bytes)"

B="$T/big"
"$OFFCA" init --home "$B" >/dev/null
"$SEED" --seed "$B" 99998 > /dev/null   # root + int + 99,998 leaves
t0=$(date +%s.%N)
"$OFFCA" report --home "$B" --html "$T/r100k.html" | grep -q "100000 certificates" || fail "report of 100,000"
t1=$(date +%s.%N)
bars=$(grep -c '<rect class="bar"' "$T/r100k.html")
[ "$bars" -ge 1 ] && [ "$bars" -le 600 ] || fail "$bars timeline bars at 100,000"
[ "$(wc -c < "$T/r100k.html")" -lt 400000 ] || fail "the 100,000 page is $(wc -c < "$T/r100k.html") bytes"
chrome "$T/r100k.html" r100k
python3 - "$T/r100k.dom" <<'PY' || fail "DOM of the 100,000 report"
import re, sys
d = open(sys.argv[1]).read()
b = [int(x) for x in re.findall(r'<tr class="bucket"><td>[^<]*</td><td>[^<]*</td><td>(\d+)</td></tr>', d)]
assert sum(b) == 99998, sum(b)   # the leaves (root and int: in the hierarchy)
assert re.search(r'<tr class="summary"><td>100000</td>', d)
PY
pass "a page for 100,000 certificates renders: $bars timeline bars, $(wc -c < "$T/r100k.html") bytes, written in $(awk "BEGIN {printf \"%.2f\", $t1 - $t0}") s"
