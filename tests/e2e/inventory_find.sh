#!/usr/bin/env bash
# e2e: finding certificates and watching expiry (issue 18): list --san (exact, bare, DNS:, *.suffix),
# --subject, --expiring (days left, exit 1 when it lists anything, revoked left out unless
# --revoked), --due by renew_before_days (issuer and profile in config.json), show by SAN (the
# newest). Certificates come from bench_store_bench --seed: leaves hostI.example (SANs hostI.example
# and groupI.example) valid 1..5 days minus one hour, so days left are 0..4.
source "$(dirname "$0")/../lib/e2e.sh"
need python3
SEED="$OFFCA_BUILD/bench/bench_store_bench"
[ -x "$SEED" ] || { echo "skip: $SEED not built" >&2; exit 77; }
export OFFCA_HOME="$T/ca"
"$OFFCA" init >/dev/null
"$SEED" --seed "$OFFCA_HOME" 5 > "$T/serials"
mapfile -t S < "$T/serials"
[ "${#S[@]}" = 5 ] || fail "seed"

# rows CMD... : GOT = the serials listed (table, header skipped) on one line; RC = the exit status
rows() {
  RC=0; "$OFFCA" "$@" > "$T/rows" 2>"$T/rows.err" || RC=$?
  GOT=$(tail -n +2 "$T/rows" | awk '{print $1}' | tr '\n' ' ' | sed 's/ $//')
}
want() { # WANT-ROWS WANT-RC CMD...
  local w=$1 wr=$2; shift 2; rows "$@"
  [ "$GOT" = "$w" ] || fail "$*: listed '$GOT', want '$w' ($(cat "$T/rows.err"))"
  [ "$RC" = "$wr" ] || fail "$*: exit $RC, want $wr"
}

# ---- --san ----
want "${S[2]}" 0 list --san host2.example
want "${S[2]}" 0 list --san DNS:host2.example
want "${S[3]}" 0 list --san group3.example
want "" 0 list --san nothing.example
want "${S[*]}" 0 list --san '*.example'          # each leaf once although both its SANs match
want "" 0 list --san '*.host2.example'
want "${S[4]}" 0 list --san host4.example --issuer int
want "" 0 list --san host4.example --issuer root
n=$("$OFFCA" list --san '*.EXAMPLE' --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 5 ] || fail "list --san '*.EXAMPLE' --json: $n, want 5 (DNS names are case-insensitive)"
pass "list --san: exact, DNS: prefix, second SAN, *.suffix (once per certificate), with --issuer"

# ---- --subject ----
want "${S[3]}" 0 list --subject HOST3.example
want "" 0 list --subject "no such subject"
rows list --subject "offca bench"; n=$(echo "$GOT" | wc -w)
[ "$n" = 2 ] || fail "list --subject 'offca bench': $n rows, want 2 (root, int)"
pass "list --subject: case-insensitive substring"

# ---- --expiring: days left, exit status, revoked ----
want "${S[0]} ${S[1]} ${S[2]}" 1 list --expiring 3
head -1 "$T/rows" | grep -q "DAYS" || fail "list --expiring has no DAYS column: $(head -1 "$T/rows")"
awk 'NR>1 {print $4}' "$T/rows" | tr '\n' ' ' | grep -qx "0 1 2 " || fail "days left: $(awk 'NR>1 {print $4}' "$T/rows")"
want "" 0 list --expiring 0
"$OFFCA" revoke "${S[1]}" --reason superseded >/dev/null
want "${S[0]} ${S[2]}" 1 list --expiring 3
want "${S[0]} ${S[1]} ${S[2]}" 1 list --expiring 3 --revoked
want "${S[1]}" 0 list --revoked
RC=0; "$OFFCA" list --expiring 3 --json > "$T/exp.json" || RC=$?
[ "$RC" = 1 ] || fail "list --expiring --json exits $RC, want 1"
python3 - "$T/exp.json" "${S[0]}" "${S[2]}" <<'PY' || fail "list --expiring --json: $(cat "$T/exp.json")"
import json, re, sys
d = json.load(open(sys.argv[1]))
assert [x["serial"] for x in d] == sys.argv[2:4], d
assert [x["daysLeft"] for x in d] == [0, 2], d
for x in d:
    for k in ("notBefore", "notAfter", "issuedAt"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", x[k]), x[k]
PY
pass "list --expiring: soonest first with days left, exit 1 when listing, 0 when not; revoked only with --revoked"

# ---- --due: renew_before_days (default 30; issuer; profile) ----
want "${S[0]} ${S[2]} ${S[3]} ${S[4]}" 1 list --due
cfg() { python3 - "$OFFCA_HOME/config.json" "$1" <<'PY'
import json, sys
p = sys.argv[1]; c = json.load(open(p)); c["issuers"] = json.loads(sys.argv[2])
open(p, "w").write(json.dumps(c, indent=2))
PY
}
cfg '{"int": {"renew_before_days": 3}}'
want "${S[0]} ${S[2]}" 1 list --due
want "${S[0]} ${S[1]} ${S[2]}" 1 list --due --revoked
cfg '{"int": {"renew_before_days": 3, "renew_before_days_by_profile": {"server": 1}}}'
want "${S[0]}" 1 list --due
want "" 0 list --due --issuer root
cfg '{"int": {"renew_before_days_by_profile": {"bogus": 1}}}'
RC=0; "$OFFCA" list --due > /dev/null 2>"$T/err" || RC=$?
[ "$RC" != 0 ] && [ "$RC" != 1 ] || fail "a bad renew_before_days_by_profile: exit $RC"
[ "$(wc -l < "$T/err")" = 1 ] && grep -q "issuers.int.renew_before_days_by_profile.bogus" "$T/err" \
  || fail "bad profile: $(cat "$T/err")"
cfg '{}'
pass "list --due: default 30 days, issuer's renew_before_days, per profile; a bad profile named"

# ---- show by SAN: the newest certificate holding it ----
"$OFFCA" show host0.example | grep -q "^serial: *${S[0]}" || fail "show host0.example"
"$OFFCA" show DNS:group2.example | grep -q "^serial: *${S[2]}" || fail "show DNS:group2.example"
grep -q "days left" <("$OFFCA" show "${S[3]}") || fail "show prints no days left"
sleep 1.2
"$SEED" --seed "$OFFCA_HOME" 1 > "$T/serials2"  # a newer host0.example
N0=$(cat "$T/serials2")
"$OFFCA" show host0.example | grep -q "^serial: *$N0" || fail "show host0.example is not the newest ($N0)"
"$OFFCA" show host0.example --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["serial"]==sys.argv[1] and "BEGIN CERTIFICATE" in d["pem"], d' "$N0" \
  || fail "show SAN --json"
want "${S[0]} $N0" 0 list --san host0.example
RC=0; "$OFFCA" show nothing.example >/dev/null 2>"$T/err" || RC=$?
[ "$RC" = 3 ] && grep -q "nothing.example" "$T/err" || fail "show of an unknown SAN: exit $RC $(cat "$T/err")"
pass "show SAN: the newest certificate holding it (bare name or DNS:), --json; unknown SAN: exit 3"
