#!/bin/sh
# offca-acme DNS hook that drives BIND's nsupdate (for setups where the built-in
# `--dns rfc2136` is not wanted, e.g. GSS-TSIG). TSIG key file (BIND key{} syntax, 0600):
#   NSUPDATE_KEY_FILE (default /etc/offca-acme/tsig.key), NSUPDATE_SERVER ("host [port]", default:
#   the zone's SOA primary), NSUPDATE_ZONE (default: found by nsupdate through the resolver)
. "$(dirname "$0")/common.sh"
[ $# -eq 3 ] || hook_usage
op=$1 name=$2 value=$3
key=${NSUPDATE_KEY_FILE:-/etc/offca-acme/tsig.key}
hook_secret "$key" >/dev/null
case "$op" in add) verb=add ;; remove) verb=delete ;; *) hook_usage ;; esac
{
  [ -n "${NSUPDATE_SERVER:-}" ] && echo "server $NSUPDATE_SERVER"
  [ -n "${NSUPDATE_ZONE:-}" ] && echo "zone $NSUPDATE_ZONE"
  echo "update $verb $name 60 TXT \"$value\""
  echo send
} | nsupdate -k "$key"
