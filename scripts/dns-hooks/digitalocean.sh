#!/bin/sh
# offca-acme DNS hook for DigitalOcean (API v2). Token (write scope) in a 0600 file:
#   DIGITALOCEAN_TOKEN_FILE (default /etc/offca-acme/digitalocean.token)
. "$(dirname "$0")/common.sh"
[ $# -eq 3 ] || hook_usage
op=$1 name=$2 value=$3
token=$(hook_secret "${DIGITALOCEAN_TOKEN_FILE:-/etc/offca-acme/digitalocean.token}")
zone=$(hook_zone "$name")
rel=${name%."$zone"}
api=https://api.digitalocean.com/v2/domains/$zone/records
case "$op" in
add)
  hook_curl "$token" -X POST -H 'Content-Type: application/json' "$api" \
    --data "{\"type\":\"TXT\",\"name\":\"$rel\",\"data\":\"$value\",\"ttl\":60}" >/dev/null ;;
remove)
  # the listing is filtered by type and full name; delete the record carrying our value
  hook_curl "$token" "$api?type=TXT&name=$name&per_page=200" |
    tr '{' '\n' | grep "\"data\":\"$value\"" | grep -o '"id":[0-9]*' | cut -d: -f2 |
    while read -r id; do hook_curl "$token" -X DELETE "$api/$id" >/dev/null; done ;;
*) hook_usage ;;
esac
