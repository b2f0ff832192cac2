#!/usr/bin/env bash
# e2e: offca export --layout certbot (directory and ZIP) and offca issue --generate-key --layout:
# the files satisfy openssl (chain verifies to ca.crt, the key matches), metadata.json agrees with
# openssl, selection by serial / --san (newest valid) / --all-valid, unzip -t and Python's zipfile
# read the ZIP, and every bad input is one clear line with nothing written.
source "$(dirname "$0")/../lib/e2e.sh"
source "$(dirname "$0")/../lib/export_env.sh"
need unzip
need python3
export_env_ca
S1=$(export_env_leaf dev1 "DNS:dev1.example.com,DNS:www.dev1.example.com")
sleep 1
S2=$(export_env_leaf dev1b "DNS:dev1.example.com")
S3=$(export_env_leaf api "DNS:api.example.com,IP:10.0.0.7")
S4=$(export_env_leaf gone "DNS:gone.example.com")
"$OFFCA" revoke "$S4" --reason superseded >/dev/null
pass "CA with four leaves (one revoked)"

# --- one certificate by serial ---
"$OFFCA" export "$S1" --layout certbot --out-dir "$T/out" > "$T/o1" || fail "export --layout"
D="$T/out/dev1.example.com"
for f in cert.pem chain.pem fullchain.pem ca.crt metadata.json README.txt; do [ -s "$D/$f" ] || fail "missing $f"; done
[ ! -e "$D/privkey.pem" ] || fail "privkey.pem for a CSR-made certificate"
cmp -s "$D/cert.pem" "$T/dev1.pem" || fail "cert.pem differs from what sign wrote"
cat "$D/cert.pem" "$D/chain.pem" | cmp -s - "$D/fullchain.pem" || fail "fullchain != cert + chain"
openssl verify -x509_strict -purpose sslserver -CAfile "$D/ca.crt" -untrusted "$D/chain.pem" "$D/cert.pem" >/dev/null \
  || fail "openssl verify with ca.crt and chain.pem"
openssl x509 -in "$D/ca.crt" -noout -subject | grep -q "Export Test Root" || fail "ca.crt is not the root"
grep -q "nginx" "$D/README.txt" && grep -q "HAProxy" "$D/README.txt" && grep -q "Mosquitto" "$D/README.txt" \
  && grep -q "keytool" "$D/README.txt" && grep -q "Apache" "$D/README.txt" || fail "README.txt install hints"
python3 - "$D/metadata.json" "$T/dev1.pem" <<'PY' || fail "metadata.json disagrees with openssl"
import json, subprocess, sys, datetime
m = json.load(open(sys.argv[1])); pem = sys.argv[2]
def o(*a): return subprocess.run(["openssl", "x509", "-in", pem, "-noout", *a], capture_output=True, text=True, check=True).stdout.strip()
assert m["serial"] == o("-serial").split("=")[1].rjust(32, "0"), m["serial"]
assert m["sha256"] == o("-fingerprint", "-sha256").split("=")[1].replace(":", "").lower()
assert m["sans"] == ["DNS:dev1.example.com", "DNS:www.dev1.example.com"], m["sans"]
assert m["subject"] == "CN=dev1.example.com" and m["issuer"] == "CN=Export Test Int" and m["profile"] == "server"
def iso(s): return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
def ossl(s): return datetime.datetime.strptime(s.split("=", 1)[1], "%b %d %H:%M:%S %Y GMT")
na, nb, rb = iso(m["not_after"]), iso(m["not_before"]), iso(m["renew_before"])
assert na == ossl(o("-enddate")) and nb == ossl(o("-startdate")), (na, nb)
assert nb < rb < na and abs((na - rb) - (na - nb) / 3) < datetime.timedelta(seconds=2), rb
PY
grep -q "dev1.example.com  serial" "$T/o1" || fail "no summary line"
pass "certbot layout: files, openssl verify, metadata.json = openssl, README hints, no privkey.pem"

# never overwritten, nothing half-written
sum1=$(cd "$D" && cat ./* | sha256sum)
expect_fail "existing directory" "$OFFCA" export "$S1" --layout certbot --out-dir "$T/out"
expect_err_match "exists: refusing to overwrite"
[ "$(cd "$D" && cat ./* | sha256sum)" = "$sum1" ] || fail "existing directory changed"
[ -z "$(find "$T/out" -name '.*tmp*')" ] || fail "temporary files left behind"

# --- --san: newest valid; revoked / unknown refused ---
"$OFFCA" export --san dev1.example.com --layout certbot --out-dir "$T/san" >/dev/null
grep -q "\"serial\": \"$(echo "$S2" | tr a-f A-F)\"" "$T/san/dev1.example.com/metadata.json" || fail "--san did not pick the newest"
expect_fail "revoked serial" "$OFFCA" export "$S4" --layout certbot --out-dir "$T/rev"
expect_err_match "revoked: refusing"
[ ! -e "$T/rev/gone.example.com" ] || fail "revoked certificate written"
"$OFFCA" export "$S4" --force --layout certbot --out-dir "$T/rev" >/dev/null 2>"$T/force.err" || fail "--force"
grep -q "WARNING: --force" "$T/force.err" || fail "--force does not say so"
need faketime
expect_fail "expired certificate" env ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" faketime -f '+400d' "$OFFCA" export "$S3" --layout certbot --out-dir "$T/exp"
expect_err_match "expired: refusing"
[ ! -e "$T/exp/api.example.com" ] || fail "expired certificate written"
expect_fail "unknown serial" "$OFFCA" export 0123456789ABCDEF --layout certbot --out-dir "$T/x"
expect_fail "unknown SAN" "$OFFCA" export --san nope.example.com --layout certbot --out-dir "$T/x"
expect_err_match "no valid certificate holds SAN"
expect_fail "two selections" "$OFFCA" export "$S1" --san dev1.example.com --layout certbot --out-dir "$T/x"
expect_fail "layout without an output" "$OFFCA" export "$S1" --layout certbot
expect_fail "unknown layout" "$OFFCA" export "$S1" --layout acme --out-dir "$T/x"
[ ! -e "$T/x" ] || fail "a refused export left $T/x"
pass "--san picks the newest valid; revoked/expired refused (--force says so); unknown serial/SAN refused"

# --- --all-valid: one directory per valid certificate, named after the first SAN ---
"$OFFCA" export --all-valid --layout certbot --out-dir "$T/all" > "$T/all.out"
ls "$T/all" | sort > "$T/all.ls"
[ "$(wc -l < "$T/all.ls")" = 3 ] || fail "--all-valid wrote $(cat "$T/all.ls")"
grep -qx "api.example.com" "$T/all.ls" && grep -qx "dev1.example.com" "$T/all.ls" \
  && grep -Eq "^dev1.example.com-[0-9A-F]{32}$" "$T/all.ls" || fail "directory names: $(cat "$T/all.ls")"
! grep -q gone "$T/all.ls" || fail "--all-valid exported a revoked certificate"
pass "--all-valid: a directory per valid certificate (first SAN, -SERIAL on a clash), revoked left out"

# --- ZIP ---
"$OFFCA" export --all-valid --layout certbot --zip "$T/all.zip" >/dev/null
unzip -t "$T/all.zip" > "$T/unzip.out" || fail "unzip -t: $(tail -2 "$T/unzip.out")"
python3 - "$T/all.zip" "$T/all" <<'PY' || fail "zipfile disagrees with the directory layout"
import zipfile, os, sys
z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None
names = sorted(n for n in z.namelist() if not n.endswith("/"))
want = sorted(os.path.join(d, f) for d in os.listdir(sys.argv[2]) for f in os.listdir(os.path.join(sys.argv[2], d)))
assert names == want, (names, want)
for n in names:
    assert z.read(n) == open(os.path.join(sys.argv[2], n), "rb").read(), n
    assert (z.getinfo(n).external_attr >> 16) & 0o777 == 0o644, n
PY
expect_fail "existing ZIP" "$OFFCA" export "$S1" --layout certbot --zip "$T/all.zip"
unzip -t "$T/all.zip" >/dev/null || fail "existing ZIP damaged"
pass "ZIP: unzip -t and Python's zipfile read the same files as the directory layout"

# --- issue --generate-key writes the layout with privkey.pem ---
"$OFFCA" issue --generate-key --subject "CN=gen.example.com" --san gen.example.com --profile server \
  --layout certbot --out-dir "$T/gen" --pin-file "$PIN" > "$T/gen.out" 2> "$T/gen.err" || fail "issue --layout: $(cat "$T/gen.err")"
G="$T/gen/gen.example.com"
[ "$(stat -c %a "$G/privkey.pem")" = 600 ] && [ "$(stat -c %a "$G")" = 700 ] || fail "privkey.pem/dir modes"
[ "$(stat -c %a "$T/gen")" = 700 ] || fail "issue --out-dir: the missing directory is created 0700, not $(stat -c %a "$T/gen")"
[ "$(openssl pkey -in "$G/privkey.pem" -pubout)" = "$(openssl x509 -in "$G/cert.pem" -noout -pubkey)" ] || fail "key does not match"
grep -q "NOT encrypted" "$T/gen.err" || fail "no warning about the plaintext key"
openssl verify -CAfile "$G/ca.crt" -untrusted "$G/chain.pem" "$G/cert.pem" >/dev/null || fail "generated cert verify"
"$OFFCA" issue --generate-key --subject "CN=gen.example.com" --san gen.example.com --profile server \
  --layout certbot --out-dir "$T/gen" --pin-file "$PIN" > "$T/gen2.out" 2>/dev/null || fail "second issue --layout"
[ "$(ls "$T/gen" | wc -l)" = 2 ] || fail "second issue did not get its own directory"
pass "issue --generate-key --layout certbot: privkey.pem 0600 matching the certificate; never overwrites"
