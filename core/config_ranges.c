/* config_ranges.c - policy.ip_ranges of config.json: CIDR blocks IP SANs must fall in. */
#include "config_int.h"
#include "offca/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CIDR_TEXT 64

/* "a.b.c.d/n" or "x:y::/n" into *r; 0 when it is not one (or has host bits set). */
static int parse_cidr(const char *s, ca_ip_range *r)
{
	char addr[CIDR_TEXT], *end = NULL;
	const char *slash = strchr(s, '/');
	size_t alen;
	long prefix;

	memset(r, 0, sizeof(*r));
	if (slash == NULL || (alen = (size_t)(slash - s)) == 0 || alen >= sizeof(addr) || slash[1] < '0' ||
	    slash[1] > '9')
		return 0;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	prefix = strtol(slash + 1, &end, 10);
	if (*end != '\0' || (slash[1] == '0' && slash[2] != '\0'))
		return 0;
	if (inet_pton(AF_INET, addr, r->addr) == 1)
		r->len = 4;
	else if (inet_pton(AF_INET6, addr, r->addr) == 1)
		r->len = 16;
	else
		return 0;
	if (prefix < 0 || prefix > (long)(r->len * 8))
		return 0;
	r->prefix = (unsigned)prefix;
	for (unsigned bit = r->prefix; bit < r->len * 8; bit++)
		if (r->addr[bit / 8] & (0x80u >> (bit % 8)))
			return 0;
	return 1;
}

offca_rc ca_config_parse_ip_ranges(json_t *v, const char *path, ca_policy *p)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return ut_err(OFFCA_E_PARSE, "config %s.ip_ranges: must be an array", path);
	if (json_array_size(v) > CA_POLICY_MAX_IP_RANGES)
		return ut_err(OFFCA_E_PARSE, "config %s.ip_ranges: more than %d entries", path, CA_POLICY_MAX_IP_RANGES);
	p->n_ip_ranges = 0;
	json_array_foreach(v, i, e) {
		const char *s = json_string_value(e);
		if (s == NULL || !parse_cidr(s, &p->ip_ranges[p->n_ip_ranges]))
			return ut_err(OFFCA_E_PARSE, "config %s.ip_ranges[%zu]: must be an address/prefix with the host "
						     "bits zero (\"10.0.0.0/8\", \"fd00::/8\")", path, i);
		p->n_ip_ranges++;
	}
	return OFFCA_OK;
}
