#!/usr/bin/env bash
# offca-acme against a private pebble + BIND9 on 127.0.0.1: account, single name from an endpoint
# CSR, several names, wildcard, outputs, list, renew (idempotent + --force), revoke, ARI, hooks.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_SRC/tests/lib/acme_env.sh"
A=${OFFCA_ACME:?}
[ -x "$A" ] || { echo "skip: offca-acme not built" >&2; exit 77; }
acme_env_start
S=$T/state
DNSARGS=(--dns rfc2136 --dns-server "$DNS_SERVER" --tsig-key "$TSIG_NAME" --tsig-secret-file "$TSIG_SECRET_FILE")

# account
"$A" --state "$S" --ca-bundle "$ACME_CA_BUNDLE" account new --directory "$ACME_DIR" --email ops@example.test > "$T/acct.out"
grep -q '^account https://127.0.0.1' "$T/acct.out" || fail "account new printed no URL"
[ "$(stat -c %a "$S/account/key.pem")" = 600 ] || fail "account key is not 0600"
"$A" --state "$S" account show | grep -q 'contact: mailto:ops@example.test' || fail "account show"
pass "account new/show"
expect_fail "second account new refused" "$A" --state "$S" account new --directory "$ACME_DIR"
expect_err_match 'already holds an account'

# single name, endpoint-owned key (CSR)
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=www.example.test -addext subjectAltName=DNS:www.example.test \
  -keyout "$T/www.key" -out "$T/www.csr" 2>/dev/null
"$A" --state "$S" issue --csr "$T/www.csr" "${DNSARGS[@]}" > "$T/issue1.out"
L=$S/live/www.example.test
for f in cert.pem chain.pem fullchain.pem; do [ -s "$L/$f" ] || fail "missing $f"; done
[ ! -e "$L/privkey.pem" ] || fail "privkey.pem written for a CSR-based issuance"
cmp -s <(openssl x509 -in "$L/cert.pem" -noout -pubkey) <(openssl pkey -in "$T/www.key" -pubout) || fail "cert key != CSR key"
cat "$L/cert.pem" "$L/chain.pem" | cmp -s - "$L/fullchain.pem" || fail "fullchain != cert + chain"
curl -s --cacert "$ACME_CA_BUNDLE" "$ACME_MGMT/roots/0" > "$T/root.pem"
openssl verify -CAfile "$T/root.pem" -untrusted "$L/chain.pem" "$L/cert.pem" >/dev/null 2>&1 ||
  { curl -s --cacert "$ACME_CA_BUNDLE" "$ACME_MGMT/roots/1" > "$T/root1.pem";
    openssl verify -CAfile "$T/root1.pem" -untrusted "$L/chain.pem" "$L/cert.pem" >/dev/null || fail "chain does not verify"; }
acme_no_stray_txt www.example.test
pass "single name from CSR: $(cat "$T/issue1.out")"

# several names + wildcard (generated key: the exception, with a warning)
"$A" --state "$S" issue --domain example.test --domain '*.example.test' --domain api.example.test \
  --generate-key "${DNSARGS[@]}" > "$T/issue2.out" 2> "$T/issue2.err"
grep -q "warning: the private key was generated here" "$T/issue2.err" || fail "no warning for --generate-key"
L2=$S/live/example.test
[ "$(stat -c %a "$L2/privkey.pem")" = 600 ] || fail "privkey.pem not 0600"
san=$(openssl x509 -in "$L2/cert.pem" -noout -ext subjectAltName)
for n in example.test '\*.example.test' api.example.test; do echo "$san" | grep -q "DNS:$n" || fail "SAN $n missing: $san"; done
cmp -s <(openssl x509 -in "$L2/cert.pem" -noout -pubkey) <(openssl pkey -in "$L2/privkey.pem" -pubout) || fail "privkey mismatch"
acme_no_stray_txt example.test api.example.test
pass "several names with a wildcard"

# issue again without --force: refused
expect_fail "re-issue refused" "$A" --state "$S" issue --csr "$T/www.csr" "${DNSARGS[@]}"
expect_err_match 'already issued'

# list
"$A" --state "$S" list > "$T/list.out"
grep -q '^www.example.test' "$T/list.out" && grep -q '^example.test' "$T/list.out" || fail "list: $(cat "$T/list.out")"
"$A" --state "$S" list --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==2 and all(x["status"]=="valid" for x in d), d' || fail "list --json"
pass "list / list --json"

# renew: nothing due -> exit 0 and no new certificate; --force -> new serial, same key (CSR)
old=$(openssl x509 -in "$L/cert.pem" -noout -serial)
"$A" --state "$S" renew > "$T/renew1.out" || fail "renew (nothing due) exited $?"
grep -q 'not due' "$T/renew1.out" || fail "renew said: $(cat "$T/renew1.out")"
[ "$(openssl x509 -in "$L/cert.pem" -noout -serial)" = "$old" ] || fail "renew replaced a certificate that was not due"
if "$A" --state "$S" --directory "$ACME_DIR" renew www.example.test --force > "$T/renew2.out"; then :; else fail "renew --force exited $?"; fi
new=$(openssl x509 -in "$L/cert.pem" -noout -serial)
[ "$new" != "$old" ] || fail "renew --force kept the old certificate"
cmp -s <(openssl x509 -in "$L/cert.pem" -noout -pubkey) <(openssl pkey -in "$T/www.key" -pubout) || fail "renewal changed the endpoint key"
acme_no_stray_txt www.example.test
[ -L "$S/live/www.example.test" ] || fail "live/NAME is not a symlink into archive/"
[ "$(ls "$S/archive/www.example.test" | wc -l)" = 2 ] || fail "archive does not keep both versions"
pass "renew idempotent, --force renews with the endpoint's CSR (live/ switched to the new archive version)"

# ARI (RFC 9773) only if this pebble offers renewalInfo
if curl -s --cacert "$ACME_CA_BUNDLE" "$ACME_DIR" | grep -q renewalInfo; then
  "$A" --state "$S" --verbose renew www.example.test > "$T/ari.out" 2>&1 || fail "renew with ARI: $(cat "$T/ari.out")"
  grep -Eq 'ARI window|issued' "$T/ari.out" || fail "ARI not consulted: $(cat "$T/ari.out")"
  pass "ARI window consulted"
else
  echo "skip: this pebble ($(dpkg-query -W -f='${Version}' pebble 2>/dev/null)) offers no renewalInfo; ARI test skipped"
fi

# revoke (by name), then check with pebble's management API and a second revoke
serial=$(openssl x509 -in "$L/cert.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')
"$A" --state "$S" revoke www.example.test --reason 4 > "$T/revoke.out" || fail "revoke"
st=$(acme_cert_status "$serial")
[ "$st" = Revoked ] || fail "pebble says the certificate is $st"
expect_fail "revoke twice" "$A" --state "$S" revoke "$L/cert.pem"
expect_err_match 'already revoked'
pass "revoke confirmed by pebble"

# a revoked certificate shows as revoked and the next renew replaces it (same endpoint CSR)
"$A" --state "$S" list | grep -E '^www.example.test +revoked' >/dev/null || fail "list does not show the revocation"
"$A" --state "$S" renew > "$T/renew3.out" || fail "renew after revocation exited $?"
grep -q 'www.example.test: revoked, replacing it' "$T/renew3.out" || fail "renew: $(cat "$T/renew3.out")"
serial2=$(openssl x509 -in "$L/cert.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')
[ "$serial2" != "$serial" ] && [ "$(acme_cert_status "$serial2")" = Valid ] || fail "replacement not valid"
# revoked for key compromise: the CSR's key must not be certified again
"$A" --state "$S" revoke www.example.test --reason 1 >/dev/null || fail "revoke keyCompromise"
expect_fail "renew after key compromise" "$A" --state "$S" renew www.example.test
expect_err_match 'key compromise'
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=www.example.test \
  -addext subjectAltName=DNS:www.example.test -keyout "$T/www2.key" -out "$T/www2.csr" 2>/dev/null
"$A" --state "$S" issue --force --csr "$T/www2.csr" "${DNSARGS[@]}" >/dev/null || fail "issue --force with a new CSR"
cmp -s <(openssl x509 -in "$L/cert.pem" -noout -pubkey) <(openssl pkey -in "$T/www2.key" -pubout) || fail "new key not certified"
"$A" --state "$S" list | grep -E '^www.example.test +valid' >/dev/null || fail "list after re-issue"
pass "revoked certificates replaced by renew; key compromise needs a new CSR"

# DNS hook (dehydrated/uacme style): CMD add|remove NAME VALUE, here with nsupdate
cat > "$T/hook.sh" <<HOOK
#!/bin/sh
# test hook: publishes with nsupdate (independent of offca-acme's own RFC 2136 code)
op=\$1 name=\$2 value=\$3
echo "\$op \$name" >> "$T/hook.log"
printf 'server 127.0.0.1 $DNS_PORT\nzone $DNS_ZONE\nupdate %s %s 60 TXT "%s"\nsend\n' \
  "\$( [ "\$op" = add ] && echo add || echo delete )" "\$name" "\$value" |
  nsupdate -y "hmac-sha256:$TSIG_NAME:\$(cat "$TSIG_SECRET_FILE")"
HOOK
chmod 700 "$T/hook.sh"
"$A" --state "$S" issue --domain hook.example.test --generate-key --dns-hook "$T/hook.sh" --dns-server "$DNS_SERVER" > "$T/hook.out" 2>/dev/null || fail "issue with --dns-hook"
grep -q '^add _acme-challenge.hook.example.test' "$T/hook.log" && grep -q '^remove _acme-challenge.hook.example.test' "$T/hook.log" || fail "hook calls: $(cat "$T/hook.log")"
acme_no_stray_txt hook.example.test
pass "DNS hook add/remove"

# process separation (who opens what, descriptors, filters, users): tests/e2e/acme_sandbox.sh

# alternate chains: pebble offers one (PEBBLE_ALTERNATE_ROOTS=1); ask for the one under root 1
alt_cn=$(curl -s --cacert "$ACME_CA_BUNDLE" "$ACME_MGMT/roots/1" | openssl x509 -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= //p')
def_cn=$(openssl x509 -in "$T/root.pem" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= //p')
"$A" --state "$S" issue --domain alt.example.test --generate-key --preferred-chain "$alt_cn" "${DNSARGS[@]}" >/dev/null 2>&1 || fail "issue --preferred-chain"
top=$(openssl crl2pkcs7 -nocrl -certfile "$S/live/alt.example.test/fullchain.pem" | openssl pkcs7 -print_certs -noout | grep '^issuer' | tail -n1)
echo "$top" | grep -qF "$alt_cn" || fail "preferred chain not chosen: top issuer '$top', wanted '$alt_cn' (default '$def_cn')"
pass "alternate chain chosen by --preferred-chain ($alt_cn)"
# every chain offered is kept next to the chosen one, and list --json names them
AL=$S/live/alt.example.test
[ -s "$AL/chains/0.pem" ] && [ -s "$AL/chains/1.pem" ] || fail "alternate chains not kept: $(ls "$AL" "$AL/chains" 2>&1 | tr '\n' ' ')"
for i in 0 1; do cmp -s <(sed -n '1,/END CERT/p' "$AL/chains/$i.pem") "$AL/cert.pem" || fail "chains/$i.pem has another leaf"; done
"$A" --state "$S" list --json > "$T/alt.json"
python3 - "$T/alt.json" "$alt_cn" "$AL" <<'PY' || fail "list --json does not name the chains"
import json, sys
recs = {r["name"]: r for r in json.load(open(sys.argv[1]))}
ch = recs["alt.example.test"]["chains"]
assert len(ch) >= 2, ch
assert ch[0]["default"] and not ch[0]["chosen"], ch
chosen = [c for c in ch if c["chosen"]]
assert len(chosen) == 1 and chosen[0]["top_issuer"] == sys.argv[2], ch
assert open(sys.argv[3] + "/" + chosen[0]["file"]).read() == open(sys.argv[3] + "/fullchain.pem").read()
PY
pass "every chain kept (live/NAME/chains/N.pem), named by list --json"

# --help everywhere, --version
for c in account issue renew revoke list; do "$A" "$c" --help | grep -q "^usage: offca-acme" || fail "$c --help"; done
"$A" --version | grep -q '^offca-acme ' || fail "--version"
expect_fail "unknown option" "$A" --state "$S" list --bogus
pass "--help for every command"

# names in two zones in one certificate, and delegated validation through a CNAME
"$A" --state "$S" --verbose issue --domain z1.example.test --domain z2.delegated.test --domain cn.example.test \
  --generate-key "${DNSARGS[@]}" > "$T/zones.out" 2>&1 || fail "two zones + CNAME: $(tail -n1 "$T/zones.out")"
grep -q '_acme-challenge.cn.example.test is a CNAME to cn.acme.example.test' "$T/zones.out" || fail "CNAME not followed"
acme_no_stray_txt z1.example.test z2.delegated.test
[ -z "$(acme_txt cn.acme.example.test)" ] || fail "stray TXT at the CNAME target"
pass "two zones in one certificate, delegated validation via CNAME"

# deploy hook (certbot's RENEWED_LINEAGE / RENEWED_DOMAINS), kept for renewals
"$A" --state "$S" issue --domain dep.example.test --domain '*.dep.example.test' --generate-key "${DNSARGS[@]}" \
  --deploy-hook "echo \"\$RENEWED_LINEAGE|\$RENEWED_DOMAINS\" >> '$T/deploy.log'" >/dev/null 2>&1 || fail "issue with --deploy-hook"
"$A" --state "$S" renew dep.example.test --force >/dev/null 2>&1 || fail "renew with the recorded deploy hook"
[ "$(grep -c "^$S/live/dep.example.test|dep.example.test \*.dep.example.test$" "$T/deploy.log")" = 2 ] || fail "deploy hook: $(cat "$T/deploy.log")"
expect_fail "failing deploy hook" "$A" --state "$S" renew dep.example.test --force --deploy-hook "exit 4"
expect_err_match 'certificate for dep.example.test was written but the deploy hook .exit 4. failed \(exit 4\)'
pass "deploy hook after issue and renew"

# --verbose never prints the TSIG secret
"$A" --state "$S" --verbose issue --domain v.example.test --generate-key "${DNSARGS[@]}" --dns-tcp > "$T/v.out" 2>&1 || fail "verbose issue"
! grep -qF "$(cat "$TSIG_SECRET_FILE")" "$T/v.out" || fail "TSIG secret printed with --verbose"
pass "secret never printed (updates over TCP)"

# hmac-sha512 TSIG key
"$A" --state "$S" issue --domain s512.example.test --generate-key --dns rfc2136 --dns-server "$DNS_SERVER" \
  --tsig-key "$TSIG512_NAME" --tsig-secret-file "$TSIG512_SECRET_FILE" --tsig-algorithm hmac-sha512 >/dev/null 2>&1 || fail "hmac-sha512"
pass "TSIG hmac-sha512"
acme_no_stray_txt www.example.test example.test api.example.test hook.example.test v.example.test sep.example.test alt.example.test s512.example.test dep.example.test

# key policy for generated keys, recorded per certificate and honoured by renew
pub() { openssl x509 -in "$S/live/$1/cert.pem" -noout -pubkey; }
"$A" --state "$S" issue --domain kn.example.test --generate-key "${DNSARGS[@]}" >/dev/null 2>&1 || fail "issue (key policy new)"
"$A" --state "$S" issue --domain kr.example.test --generate-key --key-policy reuse "${DNSARGS[@]}" >/dev/null 2>&1 || fail "issue --key-policy reuse"
"$A" --state "$S" issue --domain kf.example.test --generate-key --key-policy reuse-for 30 "${DNSARGS[@]}" >/dev/null 2>&1 || fail "issue --key-policy reuse-for 30"
for n in kn kr kf; do pub $n.example.test > "$T/$n.pub1"; done
"$A" --state "$S" renew --force kn.example.test kr.example.test kf.example.test >/dev/null 2>&1 || fail "renew (key policies)"
for n in kn kr kf; do pub $n.example.test > "$T/$n.pub2"; done
! cmp -s "$T/kn.pub1" "$T/kn.pub2" || fail "key policy new: the key was kept"
cmp -s "$T/kr.pub1" "$T/kr.pub2" || fail "key policy reuse: a new key was made"
cmp -s "$T/kf.pub1" "$T/kf.pub2" || fail "key policy reuse-for 30: a new key after minutes"
cmp -s <(openssl pkey -in "$S/live/kr.example.test/privkey.pem" -pubout) "$T/kr.pub2" || fail "privkey.pem does not match the reused key's certificate"
# the key is now 31 days old: reuse-for 30 makes a new one
python3 - "$S/certs/kf.example.test.json" <<'PY'
import json, sys, time
r = json.load(open(sys.argv[1])); r["key_created"] = int(time.time()) - 31 * 86400
json.dump(r, open(sys.argv[1], "w"))
PY
"$A" --state "$S" renew --force kf.example.test >/dev/null 2>&1 || fail "renew (reuse-for, old key)"
! cmp -s "$T/kf.pub2" <(pub kf.example.test) || fail "key policy reuse-for 30: a 31-day-old key was kept"
grep -q '"key_policy": "reuse-for"' "$S/certs/kf.example.test.json" && grep -q '"key_reuse_days": 30' "$S/certs/kf.example.test.json" || fail "key policy not recorded"
expect_fail "--key-policy with a CSR" "$A" --state "$S" issue --csr "$T/www2.csr" --force --key-policy reuse "${DNSARGS[@]}"
expect_fail "--key-policy reuse-for without days" "$A" --state "$S" issue --domain x.example.test --generate-key "${DNSARGS[@]}" --key-policy reuse-for
expect_fail "--key-policy unknown" "$A" --state "$S" issue --domain x.example.test --generate-key --key-policy sometimes "${DNSARGS[@]}"
pass "key policies new, reuse, reuse-for DAYS recorded and honoured by renew"

# metrics: x509-certificate-exporter's names, one line per certificate and metric, written atomically
mkdir -p "$T/prom"
"$A" --state "$S" metrics --textfile "$T/prom" || fail "metrics"
[ "$(ls -A "$T/prom")" = offca-acme.prom ] || fail "metrics left other files: $(ls -A "$T/prom")"
python3 - "$T/prom/offca-acme.prom" "$S" <<'PY' || fail "metrics content"
import re, subprocess, sys, time, os
prom, state = sys.argv[1], sys.argv[2]
got = {}
for line in open(prom):
    if line.startswith("#"):
        continue
    m = re.match(r'^(x509_cert_\w+)\{serial_number="(\d+)",subject_CN="([^"]*)",issuer_CN="([^"]*)"\} (\d+)$', line.strip())
    assert m, line
    got[(m.group(1), m.group(2))] = (m.group(3), m.group(4), int(m.group(5)))
names = sorted(os.listdir(state + "/live"))
assert names, "no certificates"
for n in names:
    cert = f"{state}/live/{n}/cert.pem"
    out = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-serial", "-enddate", "-subject", "-issuer",
                          "-nameopt", "multiline"], capture_output=True, text=True).stdout
    serial = str(int(re.search(r"serial=([0-9A-F]+)", out).group(1), 16))
    end = subprocess.run(["date", "-d", re.search(r"notAfter=(.*)", out).group(1), "+%s"], capture_output=True, text=True).stdout
    na = got[("x509_cert_not_after", serial)]
    assert na[2] == int(end), (n, na, end)
    assert got[("x509_cert_expired", serial)][2] == (1 if int(end) <= time.time() else 0)
    assert ("x509_cert_not_before", serial) in got
PY
pass "metrics --textfile: x509_cert_not_before/not_after/expired for every certificate"
