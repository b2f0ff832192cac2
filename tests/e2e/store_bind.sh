#!/usr/bin/env bash
# store_bind: records bound to the audit chain (docs/store.md). An attacker with write access to
# the CA home rebuilds the store with mdb_dump/mdb_load after editing one record; `offca audit
# verify` must say so, and the command that would act on the edited record refuses with one line
# naming the serial or pending id (exit 6): export (B's DER in A's record), crl (a revocation
# dropped from the index, or moved to another issuer), sign --pending-all (a queued CSR replaced).
# Signing sessions and CRLs end by signing the audit head; cutting the log below it is detected.
source "$(dirname "$0")/../lib/e2e.sh"
need openssl; need python3; need mdb_dump; need mdb_load

export OFFCA_HOME="$T/home"
e2e_token bind
P="$T/bind.pin"
"$OFFCA" init >/dev/null
K=$("$OFFCA" token keygen --token "pkcs11:token=bind" --label root --type ec-p256 --pin-file "$P")
"$OFFCA" ca root --key "$K" --subject "CN=Bind Root,O=offca tests" --days 3650 --pin-file "$P" \
  --out "$T/root.pem" 2>/dev/null

openssl ecparam -name prime256v1 -genkey -noout -out "$T/leaf.key" 2>/dev/null
for n in a b c d; do
  openssl req -new -key "$T/leaf.key" -subj "/CN=$n.bind.example" -addext "subjectAltName=DNS:$n.bind.example" \
    -out "$T/$n.csr" 2>/dev/null || fail "openssl req $n"
done

# ---- a signing session and a CRL end by signing the audit head ----
mkdir "$T/out"
"$OFFCA" sign --csr "$T/a.csr" "$T/b.csr" --profile server --pin-file "$P" --out-dir "$T/out" 2>"$T/sign.err" \
  || fail "sign: $(cat "$T/sign.err")"
grep -Eq "^offca: audit head #[0-9]+ sha256 [0-9a-f]{64} signed by issuer 'root'$" "$T/sign.err" \
  || fail "sign did not sign the audit head: $(cat "$T/sign.err")"
A=$("$OFFCA" list --json | python3 -c 'import json,sys; print([r["serial"] for r in json.load(sys.stdin) if "a.bind" in r["subject"]][0])')
B=$("$OFFCA" list --json | python3 -c 'import json,sys; print([r["serial"] for r in json.load(sys.stdin) if "b.bind" in r["subject"]][0])')
"$OFFCA" revoke "$A" --reason keyCompromise >/dev/null || fail "revoke"
"$OFFCA" crl --pin-file "$P" --out "$T/crl1.pem" >/dev/null 2>"$T/crl.err" || fail "crl: $(cat "$T/crl.err")"
grep -Eq "^offca: audit head #[0-9]+ sha256 [0-9a-f]{64} signed by issuer 'root'$" "$T/crl.err" \
  || fail "crl did not sign the audit head: $(cat "$T/crl.err")"
CK=$(sed -n 's/^offca: audit head #\([0-9]*\) .*/\1/p' "$T/crl.err")
openssl crl -in "$T/crl1.pem" -noout -text | grep -q "Serial Number: 0*$A" || fail "A is not on the CRL"
"$OFFCA" bundle create --out "$T/in.offca" "$T/c.csr" >/dev/null 2>&1 || fail "bundle create"
"$OFFCA" bundle import "$T/in.offca" >/dev/null || fail "bundle import"
"$OFFCA" audit verify > "$T/verify.out" || fail "audit verify of an untouched store"
grep -q "^signed checkpoints: 2, the newest at entry #$CK$" "$T/verify.out" || fail "verify: $(cat "$T/verify.out")"
pass "sign and crl sign the audit head; audit verify checks the checkpoints"

cp -a "$OFFCA_HOME/store" "$T/store.orig"

# edit PYTHON-EXPR: dump every database, let python edit the parsed dump (dbs: name -> {keyhex:
# valhex}), load it into a fresh environment and put that in place of the store (what someone with
# the disk and lmdb-utils can do; the audit chain is left as it was).
edit() {
  rm -rf "$OFFCA_HOME/store" && cp -a "$T/store.orig" "$OFFCA_HOME/store"
  mdb_dump -a "$OFFCA_HOME/store" > "$T/all.dump" || fail "mdb_dump"
  python3 - "$T/all.dump" "$T/all.bad" "$1" "$A" "$B" <<'PY' || fail "editing the dump"
import sys, struct
src, dst, code, A, B = sys.argv[1:6]
dbs, order, heads = {}, [], {}
lines = open(src).read().split("\n")
i = 0
while i < len(lines):
    if not lines[i].startswith("VERSION="):
        i += 1; continue
    head = []
    while lines[i] != "HEADER=END":
        head.append(lines[i]); i += 1
    name = [h for h in head if h.startswith("database=")][0][9:]
    i += 1
    kv = {}
    while lines[i] != "DATA=END":
        kv[lines[i].strip()] = lines[i + 1].strip(); i += 2
    dbs[name], heads[name] = kv, head
    order.append(name)
    i += 1
def strs(b, p, n):  # n u32-length strings from p: their (start, end) and the end
    out = []
    for _ in range(n):
        (l,) = struct.unpack(">I", b[p:p + 4]); out.append((p + 4, p + 4 + l)); p += 4 + l
    return out, p
def record(hexval):  # the certificate record's fields (record_codec.c, version 1)
    b = bytes.fromhex(hexval)
    (iss, prof, subj), p = strs(b, 1 + 16 + 32, 3)
    (nsans,) = struct.unpack(">I", b[p:p + 4])
    _, p = strs(b, p + 4, nsans)
    p += 8 + 8 + 1 + 8 + 1
    _, p = strs(b, p, 1)
    p += 8
    return b, iss, p  # the DER blob (u32 length, bytes) starts at p
def with_der(hexval, der):
    b, _, p = record(hexval)
    return (b[:p] + struct.pack(">I", len(der)) + der).hex()
def der_of(hexval):
    b, _, p = record(hexval)
    return b[p + 4:]
def with_issuer(hexval, name):
    b, (s, e), _ = record(hexval)
    return (b[:s - 4] + struct.pack(">I", len(name)) + name.encode() + b[e:]).hex()
def serial_key(s):
    return s.rjust(32, "0").lower()
def pending_with_der(hexval, der):  # u8 version | i64 received | str source | blob der
    b = bytes.fromhex(hexval)
    _, p = strs(b, 9, 1)
    return (b[:p] + struct.pack(">I", len(der)) + der).hex()
exec(code)
with open(dst, "w") as f:
    for name in order:
        f.write("\n".join(heads[name]) + "\nHEADER=END\n")
        for k, v in dbs[name].items():
            f.write(" %s\n %s\n" % (k, v))
        f.write("DATA=END\n")
PY
  rm -rf "$T/new" && mkdir "$T/new" && mdb_load -f "$T/all.bad" "$T/new" 2>"$T/load.err" \
    || fail "mdb_load: $(cat "$T/load.err")"
  rm -rf "$OFFCA_HOME/store" && mv "$T/new" "$OFFCA_HOME/store" && chmod 700 "$OFFCA_HOME/store"
}

# ---- B's DER in A's record: export A refuses (and writes nothing) ----
edit 'c = dbs["certs"]; c[serial_key(A)] = with_der(c[serial_key(A)], der_of(c[serial_key(B)]))'
expect_fail "audit verify, B's DER in A's record" "$OFFCA" audit verify
expect_err_match "certificate $A .*(SHA-256|another certificate)"
rc=0; "$OFFCA" export "$A" --format pem > "$T/exported" 2>"$T/last.err" || rc=$?
[ "$rc" = 6 ] || fail "export of a swapped record: exit $rc, want 6 ($(cat "$T/last.err"))"
[ "$(wc -l < "$T/last.err")" = 1 ] || fail "export: more than one error line"
expect_err_match "^offca: store does not match the audit log: certificate $A .*refusing to export it"
[ ! -s "$T/exported" ] || fail "export wrote B's certificate for A"
"$OFFCA" export "$B" --format pem > "$T/exported" || fail "export of the untouched B"
pass "B's DER in A's record: audit verify fails, export A refuses naming A"

# ---- A's DER in the valid B's record: bundle export (certificates for the online side) refuses ----
edit 'c = dbs["certs"]; c[serial_key(B)] = with_der(c[serial_key(B)], der_of(c[serial_key(A)]))'
rc=0; "$OFFCA" bundle export --out "$T/b.offca" --since 2000-01-01 --pin-file "$P" 2>"$T/last.err" >/dev/null || rc=$?
[ "$rc" = 6 ] || fail "bundle export of a swapped record: exit $rc, want 6 ($(cat "$T/last.err"))"
expect_err_match "certificate $B "
[ ! -e "$T/b.offca" ] || fail "bundle export wrote a bundle"
pass "A's DER in B's record: bundle export refuses naming B"

# ---- a revocation dropped from the index: crl refuses to sign a shortened CRL ----
for how in index issuer; do
  if [ $how = index ]; then
    edit 'del dbs["revoked"][serial_key(A)]'
  else  # the revoked record moved to another issuer: the next CRL of root would drop it
    edit 'c = dbs["certs"]; c[serial_key(A)] = with_issuer(c[serial_key(A)], "other")'
  fi
  expect_fail "audit verify ($how)" "$OFFCA" audit verify
  expect_err_match "certificate $A "
  before=$(ls "$OFFCA_HOME/outbox" | wc -l)
  rc=0; "$OFFCA" crl --pin-file "$P" 2>"$T/last.err" >/dev/null || rc=$?
  [ "$rc" = 6 ] || fail "crl after the revocation's $how was edited: exit $rc ($(cat "$T/last.err"))"
  [ "$(wc -l < "$T/last.err")" = 1 ] || fail "crl: more than one error line: $(cat "$T/last.err")"
  expect_err_match "certificate $A .*refusing to sign the CRL of 'root'"
  [ "$(ls "$OFFCA_HOME/outbox" | wc -l)" = "$before" ] || fail "crl wrote a CRL"
done
pass "a revocation dropped (index entry deleted, record moved to another issuer): crl refuses naming A"

# ---- a pending CSR replaced by a CSR for another name: sign --pending-all refuses ----
openssl req -in "$T/d.csr" -outform DER -out "$T/d.der" || fail "d.der"
edit 'p = dbs["pending"]; k = list(p)[0]; p[k] = pending_with_der(p[k], open("'"$T/d.der"'", "rb").read())'
"$OFFCA" pending show 1 > "$T/pending.txt"
grep -q "d.bind.example" "$T/pending.txt" || fail "the queue does not hold the replaced CSR"
expect_fail "audit verify (pending CSR replaced)" "$OFFCA" audit verify
expect_err_match "pending CSR #1"
n0=$("$OFFCA" list | tail -n +2 | wc -l)
rc=0; "$OFFCA" sign --pending-all --profile server --pin-file "$P" --out-dir "$T/out" 2>"$T/last.err" >/dev/null || rc=$?
[ "$rc" = 6 ] || fail "sign --pending-all of a replaced CSR: exit $rc ($(cat "$T/last.err"))"
[ "$(wc -l < "$T/last.err")" = 1 ] || fail "sign: more than one error line: $(cat "$T/last.err")"
expect_err_match "pending CSR #1 holds another CSR than the one queued.*refusing to sign it"
[ "$("$OFFCA" list | tail -n +2 | wc -l)" = "$n0" ] || fail "sign --pending-all issued a certificate"
pass "a queued CSR replaced: audit verify fails, sign --pending-all refuses naming #1"

# ---- the log cut below the CRL's signed checkpoint (head rewritten): detected ----
edit '
import hashlib
a = dbs["audit"]
keep = {k: v for k, v in a.items() if int(k, 16) < '"$CK"'}
last = max(keep, key=lambda k: int(k, 16))
dbs["audit"] = keep
dbs["meta"]["audit_head".encode().hex()] = last + keep[last][-64:]
'
"$OFFCA" audit show > /dev/null || fail "audit show after the cut"
expect_fail "audit verify after the cut" "$OFFCA" audit verify
expect_err_match "signed its head at #$CK .*entries were cut"
pass "the log cut below a signed checkpoint: audit verify fails"

rm -rf "$OFFCA_HOME/store" && cp -a "$T/store.orig" "$OFFCA_HOME/store"
"$OFFCA" audit verify >/dev/null || fail "the untouched copy no longer verifies"
"$OFFCA" sign --pending-all --profile server --pin-file "$P" --out-dir "$T/out" 2>/dev/null || fail "sign --pending-all"
"$OFFCA" audit verify >/dev/null || fail "audit verify after sign --pending-all"
pass "the untouched store signs its queue and verifies"
