#!/usr/bin/env bash
# The PIV card emulator (tests/lib/piv_card.py) at the APDU level, through pcscd and OpenSC's
# opensc-tool: the status words tests/lib/README.md documents (NIST SP 800-73-4 Part 2 and
# Yubico's extensions), so that a middleware test failing later is not the emulator's fault:
# selection, unknown instructions and classes, absent objects, management-key protection, the PIN
# retry counter down to blocked, the PUK resetting it, CHANGE REFERENCE DATA, GET VERSION/SERIAL.
source "$(dirname "$0")/../lib/e2e.sh"
need opensc-tool
source "$OFFCA_SRC/tests/lib/piv_env.sh"
piv_start_pcscd
piv_insert
hexpin() { # PIN -> the 8-byte reference data field, FF-padded
  local h i
  h=$(printf '%s' "$1" | od -An -tx1 | tr -d ' \n')
  for ((i = ${#1}; i < 8; i++)); do h+=ff; done
  printf '%s' "$h"
}
PIN=$(hexpin 123456); PUK=$(hexpin 12345678); BAD=$(hexpin 999999); NEW=$(hexpin 654321)
# apdus NAME=APDU...: send them in one card session; $T/sw has "NAME SW DATA" per APDU
apdus() {
  local args=() a
  for a in "$@"; do args+=(-s "${a#*=}"); done
  opensc-tool -r 0 "${args[@]}" > "$T/tool.out" 2>&1 || fail "opensc-tool: $(cat "$T/tool.out")"
  python3 - "$T/tool.out" "$@" > "$T/sw" <<'PY'
import re, sys
names = [a.split("=", 1)[0] for a in sys.argv[2:]]
out, cur = [], None
for line in open(sys.argv[1]):
    m = re.match(r"Received \(SW1=0x(..), SW2=0x(..)\)", line)
    if m:
        cur = [m.group(1) + m.group(2), ""]
        out.append(cur)
    elif cur is not None and re.match(r"^([0-9A-F]{2} )+", line):
        cur[1] += "".join(line[:48].split())
assert len(out) == len(names), (len(out), names)
for n, (sw, data) in zip(names, out):
    print(n, sw.upper(), data.upper() or "-")
PY
}
check() { # NAME SW [DATA-PREFIX]
  local line sw data; line=$(grep "^$1 " "$T/sw") || fail "no answer for $1"
  sw=$(echo "$line" | cut -d' ' -f2); data=$(echo "$line" | cut -d' ' -f3)
  [ "$sw" = "$2" ] || fail "$1: SW $sw, expected $2"
  [ -z "${3:-}" ] || [[ $data == $3* ]] || fail "$1: data $data does not start with $3"
}
serial=$(python3 -c 'import json,sys; print("%08X" % json.load(open(sys.argv[1]))["serial"])' "$PIV_STATE/state.json")

apdus sel=00A4040005A000000308 pgp=00A4040006D27600012401 chuid=00CB3FFF055C035FC10200 \
  disc=00CB3FFF035C017E00 cert9c=00CB3FFF055C035FC10A00 ins=00EE0000 cla=80CB3FFF055C035FC10200 \
  put=00DB3FFF0C5C035FC1095305AABBCCDDEE gen=0047009C05AC03800111 sign9c=0087119C067C048200810000 \
  att=00F99C0000 ver=00FD000000 ser=00F8000000
check sel 9000 "61114F0600001000010079074F05A000000308"
check pgp 6A82
check chuid 9000 "53"
check disc 9000 "7E124F0BA0000003080000100001005F2F024000"
check cert9c 6A82
check ins 6D00
check cla 6E00
check put 6982
check gen 6982
check att 6A88
check sign9c 6A88
check ver 9000 "050403"
check ser 9000 "$serial"
pass "select (another AID keeps PIV), GET DATA, 6D00/6E00, PUT DATA and GENERATE need the management key, GET VERSION/SERIAL, empty slots 6A88"

apdus sel=00A4040005A000000308 v0=0020008000 w1=0020008008$BAD v1=0020008000 w2=0020008008$BAD \
  w3=0020008008$BAD v3=0020008000 right=0020008008$PIN puk_bad=002C008010$BAD$NEW v4=0020008000 \
  rrc=002C008010$PUK$NEW new=0020008008$NEW ok=0020008000 reset=0020FF8000 out=0020008000 \
  chg_bad=0024008010$BAD$PIN chg=0024008010$NEW$PIN again=0020008008$PIN
check v0 63C3
check w1 63C2
check v1 63C2
check w2 63C1
check w3 63C0
check v3 6983
check right 6983
check puk_bad 63C2
check v4 6983
check rrc 9000
check new 9000
check ok 9000
check reset 9000
check out 63C3
check chg_bad 63C2
check chg 9000
check again 9000
pass "VERIFY counts down to 63C0 then 6983 even for the right PIN; RESET RETRY COUNTER with the PUK; P1=FF logs out; CHANGE REFERENCE DATA"
