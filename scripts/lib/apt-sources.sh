# scripts/lib/apt-sources.sh - sourced by minbase.sh and offline-bundle.sh.
# debian_sources: print "URI SUITE" for every Debian 12 (bookworm, bookworm-updates,
# bookworm-security) main source apt is configured with here, one-line and deb822 formats alike.
# OFFCA_DEBIAN_MIRROR=URI overrides them all with URI (bookworm + bookworm-updates) and
# OFFCA_DEBIAN_SECURITY=URI (bookworm-security), for a machine whose apt points elsewhere.
debian_sources() {
  if [ -n "${OFFCA_DEBIAN_MIRROR:-}" ]; then
    echo "$OFFCA_DEBIAN_MIRROR bookworm"
    echo "$OFFCA_DEBIAN_MIRROR bookworm-updates"
    [ -z "${OFFCA_DEBIAN_SECURITY:-}" ] || echo "$OFFCA_DEBIAN_SECURITY bookworm-security"
    return 0
  fi
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    case "$f" in
    *.sources)
      awk 'function flush() { if (deb && main) for (i in u) for (j in s) print u[i], s[j];
                             deb = 0; main = 0; delete u; delete s }
           /^[ \t]*$/ { flush(); next }
           /^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
           /^URIs:/ { for (i = 2; i <= NF; i++) u[i] = $i }
           /^Suites:/ { for (i = 2; i <= NF; i++) s[i] = $i }
           /^Components:/ { for (i = 2; i <= NF; i++) if ($i == "main") main = 1 }
           END { flush() }' "$f" ;;
    *)
      sed -e 's/\[[^]]*\]//' "$f" |
        awk '$1 == "deb" { for (i = 4; i <= NF; i++) if ($i == "main") print $2, $3 }' ;;
    esac
  done | awk '$2 == "bookworm" || $2 == "bookworm-updates" || $2 == "bookworm-security"' |
    sed 's|/$||' | sort -u
}

# debian_mirror: the URI of the bookworm suite (what debootstrap needs)
debian_mirror() {
  debian_sources | awk '$2 == "bookworm" { print $1; exit }'
}
