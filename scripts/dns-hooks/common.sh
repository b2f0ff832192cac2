# scripts/dns-hooks/common.sh - shared by the example hooks. Sourced, not run.
# Hook contract (offca-acme --dns-hook CMD): CMD add|remove NAME VALUE
#   NAME  the full record name, e.g. _acme-challenge.www.example.com (no trailing dot)
#   VALUE the TXT value (base64url, 43 characters)
# Exit 0 when the record was added / removed; anything else fails the issuance (add) or is
# reported (remove). Output goes to offca-acme's stderr. Credentials come from a file that must
# be 0600 (never from argv or the environment given to offca-acme).
set -eu

hook_usage() { echo "usage: $0 add|remove NAME VALUE" >&2; exit 2; }

# hook_secret FILE : print the first line of FILE after checking it is not readable by others
hook_secret() {
  f=$1
  [ -f "$f" ] || { echo "$0: credentials file $f missing" >&2; exit 1; }
  mode=$(stat -c %a "$f")
  case "$mode" in
    600|400) ;;
    *) echo "$0: $f is readable by others (mode $mode); chmod 600 it" >&2; exit 1 ;;
  esac
  head -n1 "$f"
}

# hook_zone NAME : the registrable zone guess (last two labels) unless HOOK_ZONE is set
hook_zone() { [ -n "${HOOK_ZONE:-}" ] && echo "$HOOK_ZONE" || echo "$1" | awk -F. '{print $(NF-1)"."$NF}'; }

# curl with the token in a header read from stdin-less config (never on the command line)
hook_curl() {
  token=$1; shift
  printf 'header = "Authorization: Bearer %s"\n' "$token" | curl -sS --fail-with-body -K - "$@"
}
