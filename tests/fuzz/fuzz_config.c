/*
 * fuzz_config.c - the CA home's config.json: ca_config_parse() (what ca_config_load() runs on the
 * file's bytes) on arbitrary input, and for a config it accepts, the effective settings of the
 * defaults and of every issuer section (names taken from the same JSON with jansson) checked
 * against what config.h promises: ranges, NUL-terminated strings within their arrays, an EC
 * policy with a curve, leaf_days_default <= leaf_days_max. A broken promise aborts.
 *
 * FUZZ_MAX_LEN 8192
 */
#include "offca/config.h"
#include "offca/policy.h"
#include "offca/util.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *issuer, const char *what)
{
	fprintf(stderr, "fuzz_config: issuer '%s': %s\n", issuer, what);
	abort();
}

static int terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static void check_issuer(const ca_issuer_cfg *c)
{
	const ca_policy *p = &c->policy;
	unsigned days = 0;

	if (!terminated(c->name, sizeof(c->name)))
		fail("?", "name not NUL-terminated");
	if (!terminated(c->aia_ca_issuers_url, sizeof(c->aia_ca_issuers_url)) ||
	    !terminated(c->ocsp_url, sizeof(c->ocsp_url)) || !terminated(c->crl_dp_url, sizeof(c->crl_dp_url)))
		fail(c->name, "URL not NUL-terminated");
	if (!p->allow_rsa && !p->allow_ec)
		fail(c->name, "no key type allowed");
	if (p->allow_ec && !p->allow_p256 && !p->allow_p384)
		fail(c->name, "EC allowed without a curve");
	if (p->rsa_min_bits < 2048 || p->rsa_min_bits > 16384)
		fail(c->name, "rsa_min_bits out of range");
	if (p->n_dns_suffixes > CA_POLICY_MAX_SUFFIX)
		fail(c->name, "too many DNS suffixes");
	for (size_t i = 0; i < p->n_dns_suffixes; i++)
		if (!terminated(p->dns_suffixes[i], sizeof(p->dns_suffixes[i])) || p->dns_suffixes[i][0] == '\0')
			fail(c->name, "bad DNS suffix entry");
	if (p->leaf_days_default < 1 || p->leaf_days_max > 397 || p->leaf_days_default > p->leaf_days_max)
		fail(c->name, "leaf validity out of range");
	if (c->crl_days < 1 || c->crl_days > 3660)
		fail(c->name, "crl_days out of range");
	if (ca_policy_days(p, 0, &days) != OFFCA_OK || days != p->leaf_days_default)
		fail(c->name, "the default validity is refused by its own policy");
	(void)ca_cn_only_name(p->cn_only);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ca_config *cfg = NULL;
	json_t *root = NULL, *issuers, *v;
	const char *name;

	if (ca_config_parse((const char *)data, size, &cfg) != OFFCA_OK) {
		if (cfg != NULL)
			fail("-", "a refusal left a config behind");
		return 0;
	}
	check_issuer(ca_config_issuer(cfg, NULL));
	if (ca_config_issuer(cfg, NULL)->name[0] != '\0')
		fail("-", "the defaults carry a name");
	(void)ca_config_transfer_require_signed(cfg);
	root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (root == NULL)
		fail("-", "accepted text jansson itself refuses");
	issuers = json_object_get(root, "issuers");
	json_object_foreach(issuers, name, v) {
		const ca_issuer_cfg *c = ca_config_issuer(cfg, name);
		if (strcmp(c->name, name) != 0)
			fail(name, "an issuer section is not found by its name");
		check_issuer(c);
	}
	json_decref(root);
	ca_config_free(cfg);
	return 0;
}
