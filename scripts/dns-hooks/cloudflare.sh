#!/bin/sh
# offca-acme DNS hook for Cloudflare (API v4). Token with Zone:DNS:Edit in a 0600 file:
#   CLOUDFLARE_TOKEN_FILE (default /etc/offca-acme/cloudflare.token)
# Usage: offca-acme ... issue --csr req.pem --dns-hook /usr/share/offca/dns-hooks/cloudflare.sh
. "$(dirname "$0")/common.sh"
[ $# -eq 3 ] || hook_usage
op=$1 name=$2 value=$3
token=$(hook_secret "${CLOUDFLARE_TOKEN_FILE:-/etc/offca-acme/cloudflare.token}")
api=https://api.cloudflare.com/client/v4
zone=$(hook_zone "$name")
zid=$(hook_curl "$token" "$api/zones?name=$zone" | sed -n 's/.*"result":\[{"id":"\([0-9a-f]*\)".*/\1/p')
[ -n "$zid" ] || { echo "cloudflare: zone $zone not found" >&2; exit 1; }
case "$op" in
add)
  hook_curl "$token" -X POST -H 'Content-Type: application/json' "$api/zones/$zid/dns_records" \
    --data "{\"type\":\"TXT\",\"name\":\"$name\",\"content\":\"$value\",\"ttl\":60}" >/dev/null ;;
remove)
  for id in $(hook_curl "$token" "$api/zones/$zid/dns_records?type=TXT&name=$name&content=$value" |
              grep -o '"id":"[0-9a-f]*"' | cut -d'"' -f4); do
    hook_curl "$token" -X DELETE "$api/zones/$zid/dns_records/$id" >/dev/null
  done ;;
*) hook_usage ;;
esac
