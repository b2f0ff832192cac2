#!/usr/bin/env bash
# --json of every printing command (docs/json.md): one JSON document on stdout, dates ISO 8601 UTC,
# the same facts as the human output; and --out-dir creates a missing directory 0700 in every
# command taking it. (list/show: inventory_find; ca list/show: ca_show; ceremony verify:
# transcript_cli.)
source "$(dirname "$0")/../lib/e2e.sh"
need openssl; need python3
export OFFCA_HOME="$T/home"
e2e_token js
P="$T/js.pin"
"$OFFCA" init >/dev/null
RK=$("$OFFCA" token keygen --token "pkcs11:token=js" --label root --type ec-p256 --pin-file "$P")
"$OFFCA" ca root --key "$RK" --subject "CN=JSON Root" --days 365 --pin-file "$P" --out "$T/root.pem" 2>/dev/null
for h in a b; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "/CN=$h.example" \
    -addext "subjectAltName=DNS:$h.example,IP:10.0.0.7" -out "$T/$h.csr" 2>/dev/null
done
"$OFFCA" bundle create --out "$T/in.offca" "$T/a.csr" "$T/b.csr" >/dev/null
# every date-like value in a document is ISO 8601 UTC
iso_check() { python3 - "$1" <<'PY'
import json, re, sys
KEYS = {"notBefore", "notAfter", "issuedAt", "revokedAt", "received", "created", "thisUpdate", "nextUpdate", "time"}
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            if k in KEYS:
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", x), (k, x)
            walk(x)
    elif isinstance(v, list):
        for x in v: walk(x)
walk(json.load(open(sys.argv[1])))
PY
}
# j NAME CMD... : run with --json, stdout to $T/NAME.json, it must be one JSON document with ISO dates
j() { local n=$1; shift; "$OFFCA" "$@" --json > "$T/$n.json" || fail "$*: exit $?"; iso_check "$T/$n.json" || fail "$*: not JSON with ISO dates: $(head -c 400 "$T/$n.json")"; }
py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $2" "$T/$1.json" "${@:3}" || fail "$1: $(head -c 600 "$T/$1.json")"; }

# ---- bundle verify ----
j bverify bundle verify "$T/in.offca"
py bverify 'assert d["direction"]=="in" and d["signed"] is False and [i["type"] for i in d["items"]]==["csr","csr"], d; assert d["signer"] is None and d["chainsTo"] is None'
SHA=$(sha256sum "$T/a.csr" | cut -c1-64)
"$OFFCA" bundle import "$T/in.offca" >/dev/null
pass "bundle verify --json"

# ---- pending list / show ----
j plist pending list
py plist 'assert [x["id"] for x in d]==[1,2] and d[0]["subject"]=="CN=a.example" and d[0]["sans"]==["DNS:a.example","IP:10.0.0.7"], d; assert d[0]["source"].startswith("bundle"), d'
j pshow pending show 2
py pshow 'assert d["id"]==2 and d["subject"]=="CN=b.example" and d["pem"].startswith("-----BEGIN CERTIFICATE REQUEST-----"), d'
"$OFFCA" sign --yes --pending-all --profile server --pin-file "$P" --out-dir "$T/new/out" >/dev/null 2>&1 || fail "sign"
[ "$(stat -c %a "$T/new/out")" = 700 ] || fail "sign --out-dir mode $(stat -c %a "$T/new/out")"
j pempty pending list
py pempty 'assert d==[], d'
pass "pending list/show --json; sign --out-dir created 0700 (parents too)"

# ---- crl status ----
rc=0; "$OFFCA" crl status --json > "$T/crl0.json" 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "crl status --json without a CRL: exit $rc, want 1"
py crl0 'assert d==[{"issuer":"root","state":"none"}], d'
"$OFFCA" crl --pin-file "$P" --out "$T/root.crl" >/dev/null 2>&1 || fail "crl"
j crl crl status
py crl 'assert len(d)==1 and d[0]["issuer"]=="root" and d[0]["state"]=="ok" and d[0]["number"]==1 and d[0]["revoked"]==0, d'
NU=$(openssl crl -in "$T/root.crl" -noout -nextupdate | cut -d= -f2)
py crl 'assert d[0]["nextUpdate"]==sys.argv[2], d' "$(date -u -d "$NU" +%Y-%m-%dT%H:%M:%SZ)"
pass "crl status --json: none (exit 1), then ok with openssl's nextUpdate"

# ---- audit ----
j averify audit verify
py averify 'assert d["ok"] is True and d["certificates"]==3 and d["revoked"]==0 and d["checkpoints"]>=2 and d["entries"]>5, d'
j ashow audit show
py ashow 'assert d[0]["seq"]==1 and d[0]["action"]=="init" and all(x["prevHash"]==y["hash"] for x,y in zip(d[1:],d)), d[:2]'
pass "audit verify/show --json"

# ---- token ----
j tlist token list
py tlist 'assert any(s["label"]=="js" and s["token_present"] for s in d["slots"]), d'
j tobj token objects --token pkcs11:token=js --pin-file "$P"
py tobj 'assert {(o["type"],o["label"]) for o in d} >= {("private","root"),("public","root")}, d'
j tkey token show-key "$RK" --pin-file "$P" --selftest
FP=$(openssl x509 -in "$T/root.pem" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)
py tkey 'import re; assert d["selftest"] is True and d["pem"].startswith("-----BEGIN PUBLIC KEY-----"), d; assert re.sub("[^0-9a-f]","",d["sha256"].lower())==sys.argv[2], (d["sha256"], sys.argv[2])' "$FP"
pass "token list/objects/show-key --json (show-key's SPKI SHA-256 = openssl's)"

# ---- qr decode; qr encode --out-dir 0700 ----
"$OFFCA" qr encode "$T/a.csr" --text > "$T/a.ur"
j qr qr decode --text "$T/a.ur" --quiet
DER=$(openssl req -in "$T/a.csr" -outform DER | sha256sum | cut -c1-64)
py qr 'assert d["type"]=="csr" and d["urType"]=="offca-csr" and d["sha256"]==sys.argv[2] and d["pem"].startswith("-----BEGIN CERTIFICATE REQUEST-----"), d' "$DER"
j qrout qr decode --text "$T/a.ur" --quiet --out "$T/a.der"
py qrout 'assert d["out"]==sys.argv[2] and "pem" not in d, d' "$T/a.der"
cmp "$T/a.der" <(openssl req -in "$T/a.csr" -outform DER) || fail "qr decode --json --out wrote other bytes"
j qrimp qr decode --text "$T/a.ur" --quiet --import
py qrimp 'assert d["pending"]==3, d'
"$OFFCA" qr encode "$T/a.csr" --out-dir "$T/frames/x" >/dev/null
[ "$(stat -c %a "$T/frames/x")" = 700 ] || fail "qr encode --out-dir mode $(stat -c %a "$T/frames/x")"
pass "qr decode --json (pem, --out, --import); qr encode --out-dir created 0700"

# ---- bundle extract and export --layout: --out-dir created 0700 ----
"$OFFCA" bundle extract "$T/in.offca" --out-dir "$T/ex/tract" >/dev/null
[ "$(stat -c %a "$T/ex/tract")" = 700 ] && [ "$(ls "$T/ex/tract" | wc -l)" = 2 ] || fail "bundle extract --out-dir"
S=$("$OFFCA" list --san a.example | awk 'NR==2 {print $1}')
"$OFFCA" export "$S" --layout certbot --out-dir "$T/lay/out" >/dev/null
[ "$(stat -c %a "$T/lay/out")" = 700 ] && [ -f "$T/lay/out/a.example/fullchain.pem" ] || fail "export --out-dir"
: > "$T/afile"
rc=0; "$OFFCA" qr encode "$T/a.csr" --out-dir "$T/afile" >/dev/null 2>"$T/err" || rc=$?
[ "$rc" != 0 ] && grep -q "not a directory" "$T/err" || fail "--out-dir on a file: rc $rc $(cat "$T/err")"
pass "bundle extract and export --layout create --out-dir 0700; a file there is refused"
