#!/bin/sh
# offca-acme DNS hook for Hetzner DNS (dns.hetzner.com API v1). API token in a 0600 file:
#   HETZNER_TOKEN_FILE (default /etc/offca-acme/hetzner.token)
. "$(dirname "$0")/common.sh"
[ $# -eq 3 ] || hook_usage
op=$1 name=$2 value=$3
token=$(hook_secret "${HETZNER_TOKEN_FILE:-/etc/offca-acme/hetzner.token}")
api=https://dns.hetzner.com/api/v1
zone=$(hook_zone "$name")
rel=${name%."$zone"}
# Hetzner uses its own header, not a bearer token
hcurl() { printf 'header = "Auth-API-Token: %s"\n' "$token" | curl -sS --fail-with-body -K - "$@"; }
zid=$(hcurl "$api/zones?name=$zone" | grep -o '"id":"[^"]*"' | head -n1 | cut -d'"' -f4)
[ -n "$zid" ] || { echo "hetzner: zone $zone not found" >&2; exit 1; }
case "$op" in
add)
  hcurl -X POST -H 'Content-Type: application/json' "$api/records" \
    --data "{\"zone_id\":\"$zid\",\"type\":\"TXT\",\"name\":\"$rel\",\"value\":\"$value\",\"ttl\":60}" >/dev/null ;;
remove)
  hcurl "$api/records?zone_id=$zid" | tr '{' '\n' | grep "\"value\":\"$value\"" |
    grep -o '"id":"[^"]*"' | cut -d'"' -f4 |
    while read -r id; do hcurl -X DELETE "$api/records/$id" >/dev/null; done ;;
*) hook_usage ;;
esac
