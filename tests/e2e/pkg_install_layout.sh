#!/usr/bin/env bash
# pkg_install_layout: `cmake --install` of this build puts every program's files where the docs
# and the units say (binaries, docs, ceremony examples, offca-acme's units, sysusers.d and
# tmpfiles.d entries, /etc/default file, DNS hooks in share/offca/dns-hooks/), per component
# (the Debian package split), with the units' ExecStart naming the installed binary
# (systemd-analyze verify, which fails when the ExecStart binary is missing).
source "$(dirname "$0")/../lib/e2e.sh"
need cmake
B=${OFFCA_BUILD:?ctest sets OFFCA_BUILD}

# 1. the /usr layout, into a DESTDIR, as debian/rules does it (one component at a time)
for c in offca offca-acme offca-gateway offca-agent; do
  DESTDIR="$T/deb/$c" cmake --install "$B" --prefix /usr --component "$c" >/dev/null
done
D=$T/deb/offca
for f in usr/bin/offca usr/share/doc/offca/README.md usr/share/doc/offca/ceremony-guide.md \
         usr/share/doc/offca/examples/demo-ceremony.yaml usr/share/doc/offca/examples/officers/alice.pub.pem; do
  [ -f "$D/$f" ] || fail "component offca lacks /$f"
done
[ -x "$D/usr/bin/offca" ] || fail "/usr/bin/offca is not executable"
[ ! -e "$D/usr/bin/offca-acme" ] && [ ! -e "$D/usr/share/doc/offca/acme.md" ] || fail "offca-acme's files in component offca"
A=$T/deb/offca-acme
for f in usr/bin/offca-acme usr/share/doc/offca-acme/acme.md usr/lib/systemd/system/offca-acme-renew.service \
         usr/lib/systemd/system/offca-acme-renew.timer usr/lib/sysusers.d/offca-acme.conf \
         usr/lib/tmpfiles.d/offca-acme.conf etc/default/offca-acme usr/share/offca/dns-hooks/common.sh; do
  [ -f "$A/$f" ] || fail "component offca-acme lacks /$f"
done
[ ! -e "$A/usr/bin/offca" ] || fail "offca in component offca-acme"
for h in "$OFFCA_SRC"/scripts/dns-hooks/*.sh; do
  n=$(basename "$h")
  [ "$n" = common.sh ] && continue
  [ -x "$A/usr/share/offca/dns-hooks/$n" ] || fail "hook $n not installed executable"
done
grep -qx 'u offca-acme - "offca-acme ACME client" /var/lib/offca-acme' "$A/usr/lib/sysusers.d/offca-acme.conf" ||
  fail "sysusers entry"
U=$A/usr/lib/systemd/system/offca-acme-renew.service
grep -q '^ExecStart=/usr/bin/offca-acme ' "$U" || fail "ExecStart does not name /usr/bin/offca-acme: $(grep ExecStart "$U")"
grep -q '^User=offca-acme$' "$U" || fail "the unit does not run as offca-acme"
grep -q '^EnvironmentFile=-/etc/default/offca-acme$' "$U" || fail "the unit does not read /etc/default/offca-acme"
pass "the /usr layout, per component"

G=$T/deb/offca-gateway
for f in usr/bin/offca-gateway usr/share/doc/offca-gateway/gateway.md usr/lib/systemd/system/offca-gateway.service \
         usr/lib/sysusers.d/offca-gateway.conf usr/lib/tmpfiles.d/offca-gateway.conf; do
  [ -f "$G/$f" ] || fail "component offca-gateway lacks /$f"
done
grep -q '^ExecStart=/usr/bin/offca-gateway serve ' "$G/usr/lib/systemd/system/offca-gateway.service" ||
  fail "the gateway unit does not start /usr/bin/offca-gateway serve"
grep -q '^User=offca-gateway$' "$G/usr/lib/systemd/system/offca-gateway.service" || fail "the gateway unit does not run as offca-gateway"
grep -qx 'u offca-gateway - "offca EST gateway" /var/lib/offca-gateway' "$G/usr/lib/sysusers.d/offca-gateway.conf" ||
  fail "no sysusers entry for offca-gateway"
AG=$T/deb/offca-agent
for f in usr/bin/offca-agent usr/share/doc/offca-agent/agent.md usr/lib/systemd/system/offca-agent@.service \
         usr/lib/systemd/system/offca-agent@.timer usr/lib/tmpfiles.d/offca-agent.conf; do
  [ -f "$AG/$f" ] || fail "component offca-agent lacks /$f"
done
[ ! -e "$D/usr/bin/offca-gateway" ] && [ ! -e "$D/usr/share/doc/offca/gateway.md" ] && [ ! -e "$G/usr/bin/offca-agent" ] ||
  fail "gateway/agent files in the wrong component"
for p in offca-gateway offca-agent; do
  "$G/../$p/usr/bin/$p" --version | grep -qx "$p $(cat "$OFFCA_SRC/VERSION")" || fail "$p --version is not VERSION"
done
pass "offca-gateway and offca-agent: binaries, docs, units, sysusers/tmpfiles entries, version from VERSION"

# 2. another prefix: ExecStart follows it, and systemd checks the units against what was installed
cmake --install "$B" --prefix "$T/opt" >/dev/null
U=$T/opt/lib/systemd/system/offca-acme-renew.service
grep -q "^ExecStart=$T/opt/bin/offca-acme " "$U" || fail "ExecStart does not follow the prefix: $(grep ExecStart "$U")"
grep -q "file:$T/opt/share/doc/offca-acme/acme.md" "$U" || fail "Documentation= does not follow the prefix"
[ -f "$T/opt/etc/default/offca-acme" ] || fail "/etc/default file not under a non-/usr prefix"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify --man=no "$U" "$T/opt/lib/systemd/system/offca-acme-renew.timer" 2>"$T/verify.err" ||
    fail "systemd-analyze verify: $(cat "$T/verify.err")"
  mv "$T/opt/bin/offca-acme" "$T/opt/bin/moved"
  if systemd-analyze verify --man=no "$U" 2>/dev/null; then fail "systemd-analyze accepts a missing ExecStart binary"; fi
  systemd-analyze verify --man=no "$T/opt/lib/systemd/system/offca-gateway.service" 2>"$T/verify.err" ||
    fail "systemd-analyze verify offca-gateway.service: $(cat "$T/verify.err")"
  systemd-analyze verify --man=no "$T/opt/lib/systemd/system/offca-agent@demo.service" \
    "$T/opt/lib/systemd/system/offca-agent@demo.timer" 2>"$T/verify.err" ||
    fail "systemd-analyze verify offca-agent@demo: $(cat "$T/verify.err")"
  pass "systemd-analyze verify accepts the installed units (and refuses them without the binary)"
else
  echo "systemd-analyze not installed: unit check skipped" >&2
fi
