/* config.c - config.json of a CA home: defaults, strict parsing, per-issuer overrides (jansson). */
#include "offca/config.h"
#include "offca/profile.h"
#include "offca/token.h"
#include "offca/util.h"
#include "config_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_ISSUER_SECTIONS 256

struct ca_config {
	ca_issuer_cfg defaults;
	ca_issuer_cfg *issuers;
	size_t n_issuers;
	int transfer_require_signed;  /* defaults.transfer.require_signed */
};

const char *ca_cn_only_name(ca_cn_only v)
{
	return v == CA_CN_ONLY_REFUSE ? "refuse" : "copy-cn-to-san";
}

void ca_config_defaults(ca_issuer_cfg *out)
{
	memset(out, 0, sizeof(*out));
	out->policy.allow_rsa = 1;
	out->policy.allow_ec = 1;
	out->policy.rsa_min_bits = 2048;
	out->policy.allow_p256 = 1;
	out->policy.allow_p384 = 1;
	out->policy.allow_ip_san = 1;
	out->policy.allow_email_san = 0;
	out->policy.allow_uri_san = 0;
	out->policy.allow_wildcard = 1;
	out->policy.san_required = 1;
	out->policy.cn_only = CA_CN_ONLY_COPY;
	out->policy.leaf_days_default = 90;
	out->policy.leaf_days_max = 397;
	out->crl_days = 7;
	out->renew_before_days = 30;
	out->touch = TOK_TOUCH_NEVER;
	out->touch_timeout = TOK_TOUCH_TIMEOUT_DEFAULT;
}

/* ---- writing ---- */

static json_t *policy_json(const ca_policy *p)
{
	json_t *o = json_object(), *kt = json_array(), *cv = json_array(), *sfx = json_array();

	if (p->allow_rsa)
		json_array_append_new(kt, json_string("rsa"));
	if (p->allow_ec)
		json_array_append_new(kt, json_string("ec"));
	if (p->allow_ed25519)
		json_array_append_new(kt, json_string("ed25519"));
	if (p->allow_p256)
		json_array_append_new(cv, json_string("P-256"));
	if (p->allow_p384)
		json_array_append_new(cv, json_string("P-384"));
	for (size_t i = 0; i < p->n_dns_suffixes; i++)
		json_array_append_new(sfx, json_string(p->dns_suffixes[i]));
	json_object_set_new(o, "key_types", kt);
	json_object_set_new(o, "rsa_min_bits", json_integer(p->rsa_min_bits));
	json_object_set_new(o, "ec_curves", cv);
	json_object_set_new(o, "dns_suffixes", sfx);
	json_object_set_new(o, "allow_ip_san", json_boolean(p->allow_ip_san));
	json_object_set_new(o, "ip_ranges", json_array());
	json_object_set_new(o, "allow_email_san", json_boolean(p->allow_email_san));
	json_object_set_new(o, "allow_uri_san", json_boolean(p->allow_uri_san));
	json_object_set_new(o, "allow_wildcard", json_boolean(p->allow_wildcard));
	json_object_set_new(o, "san_required", json_boolean(p->san_required));
	json_object_set_new(o, "cn_only", json_string(ca_cn_only_name(p->cn_only)));
	json_object_set_new(o, "leaf_days_default", json_integer(p->leaf_days_default));
	json_object_set_new(o, "leaf_days_max", json_integer(p->leaf_days_max));
	return o;
}

offca_rc ca_config_write_default(const char *home)
{
	offca_rc rc = OFFCA_E_NOMEM;
	ca_issuer_cfg d;
	json_t *root = NULL, *def = NULL;
	char *text = NULL;
	char path[4096];
	int n;

	ca_config_defaults(&d);
	n = snprintf(path, sizeof(path), "%s/%s", home, CA_CONFIG_FILE);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		rc = ut_err(OFFCA_E_USAGE, "CA home path too long");
		goto out;
	}
	root = json_object();
	def = json_object();
	if (root == NULL || def == NULL)
		goto out;
	json_object_set_new(def, "policy", policy_json(&d.policy));
	json_object_set_new(def, "aia_ca_issuers_url", json_string(""));
	json_object_set_new(def, "ocsp_url", json_string(""));
	json_object_set_new(def, "crl_dp_url", json_string(""));
	json_object_set_new(def, "crl_days", json_integer(d.crl_days));
	json_object_set_new(def, "transfer", json_pack("{s:b}", "require_signed", 0));
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "defaults", def);
	def = NULL;
	json_object_set_new(root, "issuers", json_object());
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory writing the default config");
		goto out;
	}
	{
		/* end the file with a newline */
		size_t l = strlen(text);
		char *t2 = realloc(text, l + 2);
		if (t2 == NULL)
			goto out;
		text = t2;
		text[l] = '\n';
		text[l + 1] = '\0';
	}
	rc = ut_write_file(path, text, strlen(text), UT_WF_EXCL | UT_WF_SECRET);
out:
	free(text);
	json_decref(def);
	json_decref(root);
	return rc;
}

/* ---- strict parsing ---- */

static offca_rc check_keys(json_t *obj, const char *path, const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		int ok = 0;
		for (size_t i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				ok = 1;
		if (!ok)
			return ut_err(OFFCA_E_PARSE, "config %s.%s: unknown key", path, key);
	}
	return OFFCA_OK;
}

static offca_rc get_bool(json_t *obj, const char *path, const char *key, int *dst)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return OFFCA_OK;
	if (!json_is_boolean(v))
		return ut_err(OFFCA_E_PARSE, "config %s.%s: must be true or false", path, key);
	*dst = json_is_true(v);
	return OFFCA_OK;
}

static offca_rc get_uint(json_t *obj, const char *path, const char *key, unsigned lo, unsigned hi,
			 unsigned *dst)
{
	json_t *v = json_object_get(obj, key);
	json_int_t x;

	if (v == NULL)
		return OFFCA_OK;
	if (!json_is_integer(v))
		return ut_err(OFFCA_E_PARSE, "config %s.%s: must be an integer", path, key);
	x = json_integer_value(v);
	if (x < (json_int_t)lo || x > (json_int_t)hi)
		return ut_err(OFFCA_E_PARSE, "config %s.%s: must be %u..%u", path, key, lo, hi);
	*dst = (unsigned)x;
	return OFFCA_OK;
}

static offca_rc get_url(json_t *obj, const char *path, const char *key, char *dst, size_t cap)
{
	json_t *v = json_object_get(obj, key);
	const char *s;

	if (v == NULL)
		return OFFCA_OK;
	if (!json_is_string(v))
		return ut_err(OFFCA_E_PARSE, "config %s.%s: must be a string", path, key);
	s = json_string_value(v);
	if (strlen(s) >= cap)
		return ut_err(OFFCA_E_PARSE, "config %s.%s: longer than %zu bytes", path, key, cap - 1);
	if (s[0] != '\0' && strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0 &&
	    strncmp(s, "ldap://", 7) != 0)
		return ut_err(OFFCA_E_PARSE, "config %s.%s: must be an http://, https:// or ldap:// URL",
			      path, key);
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
			return ut_err(OFFCA_E_PARSE, "config %s.%s: must be printable ASCII without spaces",
				      path, key);
	memcpy(dst, s, strlen(s) + 1);
	return OFFCA_OK;
}

/* An array of names out of two (a, b): *fa / *fb set for those present, anything else refused. */
static offca_rc parse_one_of_two(json_t *v, const char *path, const char *key, const char *a, int *fa,
				 const char *b, int *fb)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return ut_err(OFFCA_E_PARSE, "config %s.%s: must be an array", path, key);
	*fa = *fb = 0;
	json_array_foreach(v, i, e) {
		const char *s = json_string_value(e);
		if (s != NULL && strcmp(s, a) == 0)
			*fa = 1;
		else if (s != NULL && strcmp(s, b) == 0)
			*fb = 1;
		else
			return ut_err(OFFCA_E_PARSE, "config %s.%s[%zu]: must be \"%s\" or \"%s\"", path, key, i, a, b);
	}
	return OFFCA_OK;
}

static offca_rc parse_key_types(json_t *v, const char *path, ca_policy *p)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return ut_err(OFFCA_E_PARSE, "config %s.key_types: must be an array", path);
	p->allow_rsa = p->allow_ec = p->allow_ed25519 = 0;
	json_array_foreach(v, i, e) {
		const char *s = json_string_value(e);
		if (s != NULL && strcmp(s, "rsa") == 0)
			p->allow_rsa = 1;
		else if (s != NULL && strcmp(s, "ec") == 0)
			p->allow_ec = 1;
		else if (s != NULL && strcmp(s, "ed25519") == 0)
			p->allow_ed25519 = 1;
		else
			return ut_err(OFFCA_E_PARSE, "config %s.key_types[%zu]: must be \"rsa\", \"ec\" or "
						     "\"ed25519\"", path, i);
	}
	if (!p->allow_rsa && !p->allow_ec && !p->allow_ed25519)
		return ut_err(OFFCA_E_PARSE, "config %s.key_types: must not be empty", path);
	return OFFCA_OK;
}

static offca_rc parse_curves(json_t *v, const char *path, ca_policy *p)
{
	return parse_one_of_two(v, path, "ec_curves", "P-256", &p->allow_p256, "P-384", &p->allow_p384);
}

static int suffix_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CA_POLICY_SUFFIX_LEN || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return 0;
		if (c == '.' && s[i + 1] == '.')
			return 0;
	}
	return 1;
}

static offca_rc parse_suffixes(json_t *v, const char *path, ca_policy *p)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return ut_err(OFFCA_E_PARSE, "config %s.dns_suffixes: must be an array", path);
	if (json_array_size(v) > CA_POLICY_MAX_SUFFIX)
		return ut_err(OFFCA_E_PARSE, "config %s.dns_suffixes: more than %d entries", path,
			      CA_POLICY_MAX_SUFFIX);
	p->n_dns_suffixes = 0;
	json_array_foreach(v, i, e) {
		const char *s = json_string_value(e);
		if (s == NULL || !suffix_ok(s))
			return ut_err(OFFCA_E_PARSE,
				      "config %s.dns_suffixes[%zu]: must be a lower-case A-label DNS name "
				      "without leading/trailing dot", path, i);
		memcpy(p->dns_suffixes[p->n_dns_suffixes++], s, strlen(s) + 1);
	}
	return OFFCA_OK;
}

static offca_rc parse_policy(json_t *o, const char *path, ca_policy *p)
{
	static const char *const keys[] = {"key_types", "rsa_min_bits", "ec_curves", "dns_suffixes",
		"allow_ip_san", "ip_ranges", "allow_email_san", "allow_uri_san", "allow_wildcard", "san_required",
		"cn_only", "leaf_days_default", "leaf_days_max", NULL};
	offca_rc rc;
	json_t *v;

	if (!json_is_object(o))
		return ut_err(OFFCA_E_PARSE, "config %s: must be an object", path);
	if ((rc = check_keys(o, path, keys)) != OFFCA_OK)
		return rc;
	v = json_object_get(o, "key_types");
	if (v != NULL && (rc = parse_key_types(v, path, p)) != OFFCA_OK)
		return rc;
	v = json_object_get(o, "ec_curves");
	if (v != NULL && (rc = parse_curves(v, path, p)) != OFFCA_OK)
		return rc;
	v = json_object_get(o, "dns_suffixes");
	if (v != NULL && (rc = parse_suffixes(v, path, p)) != OFFCA_OK)
		return rc;
	v = json_object_get(o, "ip_ranges");
	if (v != NULL && (rc = ca_config_parse_ip_ranges(v, path, p)) != OFFCA_OK)
		return rc;
	if ((rc = get_uint(o, path, "rsa_min_bits", 2048, 16384, &p->rsa_min_bits)) != OFFCA_OK ||
	    (rc = get_bool(o, path, "allow_ip_san", &p->allow_ip_san)) != OFFCA_OK ||
	    (rc = get_bool(o, path, "allow_email_san", &p->allow_email_san)) != OFFCA_OK ||
	    (rc = get_bool(o, path, "allow_uri_san", &p->allow_uri_san)) != OFFCA_OK ||
	    (rc = get_bool(o, path, "allow_wildcard", &p->allow_wildcard)) != OFFCA_OK ||
	    (rc = get_bool(o, path, "san_required", &p->san_required)) != OFFCA_OK ||
	    (rc = get_uint(o, path, "leaf_days_max", 1, 397, &p->leaf_days_max)) != OFFCA_OK ||
	    (rc = get_uint(o, path, "leaf_days_default", 1, 397, &p->leaf_days_default)) != OFFCA_OK)
		return rc;
	v = json_object_get(o, "cn_only");
	if (v != NULL) {
		const char *s = json_string_value(v);
		if (s != NULL && strcmp(s, "copy-cn-to-san") == 0)
			p->cn_only = CA_CN_ONLY_COPY;
		else if (s != NULL && strcmp(s, "refuse") == 0)
			p->cn_only = CA_CN_ONLY_REFUSE;
		else
			return ut_err(OFFCA_E_PARSE, "config %s.cn_only: must be \"copy-cn-to-san\" or \"refuse\"",
				      path);
	}
	if (p->allow_ec && !p->allow_p256 && !p->allow_p384)
		return ut_err(OFFCA_E_PARSE, "config %s.ec_curves: empty while key_types allows \"ec\"", path);
	if (p->leaf_days_default > p->leaf_days_max)
		return ut_err(OFFCA_E_PARSE, "config %s.leaf_days_default: %u is above leaf_days_max %u", path,
			      p->leaf_days_default, p->leaf_days_max);
	return OFFCA_OK;
}

/* defaults.transfer: how inbound bundles are taken (not per issuer). */
static offca_rc parse_transfer(json_t *o, ca_config *cfg)
{
	static const char *const keys[] = {"require_signed", NULL};
	offca_rc rc;

	if (!json_is_object(o))
		return ut_err(OFFCA_E_PARSE, "config defaults.transfer: must be an object");
	if ((rc = check_keys(o, "defaults.transfer", keys)) != OFFCA_OK)
		return rc;
	return get_bool(o, "defaults.transfer", "require_signed", &cfg->transfer_require_signed);
}

/* "touch": the issuer key's touch policy (never, always, cached). */
static offca_rc get_touch(json_t *o, const char *path, int *dst)
{
	json_t *v = json_object_get(o, "touch");
	tok_touch_mode m;

	if (v == NULL)
		return OFFCA_OK;
	if (!json_is_string(v) || tok_touch_mode_parse(json_string_value(v), &m) != OFFCA_OK)
		return ut_err(OFFCA_E_PARSE, "config %s.touch: must be \"never\", \"always\" or \"cached\"", path);
	*dst = (int)m;
	return OFFCA_OK;
}

/* "renew_before_days_by_profile": {"server": 20, "mtls": 10}: profile names, 1..3650 each. */
static offca_rc get_renew_profiles(json_t *o, const char *path, ca_issuer_cfg *c)
{
	json_t *m = json_object_get(o, "renew_before_days_by_profile"), *v;
	char sub[200];
	const char *name;
	ca_profile p;
	unsigned d;
	offca_rc rc;

	if (m == NULL)
		return OFFCA_OK;
	snprintf(sub, sizeof(sub), "%s.renew_before_days_by_profile", path);
	if (!json_is_object(m))
		return ut_err(OFFCA_E_PARSE, "config %s: must be an object {\"server\": 20}", sub);
	json_object_foreach(m, name, v) {
		if (ca_profile_parse(name, 0, &p) != OFFCA_OK || (unsigned)p >= CA_CONFIG_N_PROFILES)
			return ut_err(OFFCA_E_PARSE, "config %s.%s: not a profile (server, client, mtls, root, intermediate)",
				      sub, name);
		if ((rc = get_uint(m, sub, name, 1, 3650, &d)) != OFFCA_OK)
			return rc;
		c->renew_before_profile[p] = d;
	}
	return OFFCA_OK;
}

unsigned ca_config_renew_before(const ca_issuer_cfg *c, const char *profile)
{
	ca_profile p;

	if (profile != NULL && ca_profile_parse(profile, 0, &p) == OFFCA_OK && (unsigned)p < CA_CONFIG_N_PROFILES &&
	    c->renew_before_profile[p] != 0)
		return c->renew_before_profile[p];
	return c->renew_before_days;
}

static offca_rc parse_section(json_t *o, const char *path, ca_issuer_cfg *c)
{
	static const char *const keys[] = {"policy", "aia_ca_issuers_url", "ocsp_url", "crl_dp_url",
					   "crl_days", "transfer", "touch", "touch_timeout", "renew_before_days",
					   "renew_before_days_by_profile", NULL};
	char sub[160];
	offca_rc rc;
	json_t *v;

	if (!json_is_object(o))
		return ut_err(OFFCA_E_PARSE, "config %s: must be an object", path);
	if ((rc = check_keys(o, path, keys)) != OFFCA_OK)
		return rc;
	if (c->name[0] != '\0' && json_object_get(o, "transfer") != NULL)
		return ut_err(OFFCA_E_PARSE, "config %s.transfer: transfer settings are not per issuer (put them "
			      "in defaults.transfer)", path);
	v = json_object_get(o, "policy");
	snprintf(sub, sizeof(sub), "%s.policy", path);
	if (v != NULL && (rc = parse_policy(v, sub, &c->policy)) != OFFCA_OK)
		return rc;
	if ((rc = get_url(o, path, "aia_ca_issuers_url", c->aia_ca_issuers_url,
			  sizeof(c->aia_ca_issuers_url))) != OFFCA_OK ||
	    (rc = get_url(o, path, "ocsp_url", c->ocsp_url, sizeof(c->ocsp_url))) != OFFCA_OK ||
	    (rc = get_url(o, path, "crl_dp_url", c->crl_dp_url, sizeof(c->crl_dp_url))) != OFFCA_OK ||
	    (rc = get_uint(o, path, "crl_days", 1, 3660, &c->crl_days)) != OFFCA_OK ||
	    (rc = get_touch(o, path, &c->touch)) != OFFCA_OK ||
	    (rc = get_uint(o, path, "touch_timeout", 1, TOK_TOUCH_TIMEOUT_MAX, &c->touch_timeout)) != OFFCA_OK ||
	    (rc = get_uint(o, path, "renew_before_days", 1, 3650, &c->renew_before_days)) != OFFCA_OK ||
	    (rc = get_renew_profiles(o, path, c)) != OFFCA_OK)
		return rc;
	return OFFCA_OK;
}

static offca_rc parse_issuers(json_t *o, ca_config *cfg)
{
	const char *name;
	json_t *v;
	char path[128];
	offca_rc rc;
	size_t i = 0;

	if (!json_is_object(o))
		return ut_err(OFFCA_E_PARSE, "config issuers: must be an object");
	if (json_object_size(o) > MAX_ISSUER_SECTIONS)
		return ut_err(OFFCA_E_PARSE, "config issuers: more than %d sections", MAX_ISSUER_SECTIONS);
	cfg->issuers = calloc(json_object_size(o) + 1, sizeof(*cfg->issuers));
	if (cfg->issuers == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory loading the config");
	json_object_foreach(o, name, v) {
		ca_issuer_cfg *c = &cfg->issuers[i];
		if (name[0] == '\0' || strlen(name) >= sizeof(c->name))
			return ut_err(OFFCA_E_PARSE, "config issuers: issuer name must be 1..63 bytes");
		*c = cfg->defaults;
		memcpy(c->name, name, strlen(name) + 1);
		snprintf(path, sizeof(path), "issuers.%s", name);
		if ((rc = parse_section(v, path, c)) != OFFCA_OK)
			return rc;
		i++;
		cfg->n_issuers = i;
	}
	return OFFCA_OK;
}

offca_rc ca_config_parse(const char *text, size_t len, ca_config **out)
{
	static const char *const keys[] = {"version", "defaults", "issuers", NULL};
	offca_rc rc = OFFCA_E_PARSE;
	ca_config *cfg = NULL;
	json_error_t jerr;
	json_t *root = NULL, *v;

	*out = NULL;
	if (len > CA_CONFIG_MAX_BYTES) {
		rc = ut_err(OFFCA_E_TOO_BIG, "config: more than %u bytes", CA_CONFIG_MAX_BYTES);
		goto out;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		rc = ut_err(OFFCA_E_PARSE, "config: line %d: %s", jerr.line, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		rc = ut_err(OFFCA_E_PARSE, "config: must be a JSON object");
		goto out;
	}
	if ((rc = check_keys(root, "(top)", keys)) != OFFCA_OK)
		goto out;
	v = json_object_get(root, "version");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		rc = ut_err(OFFCA_E_PARSE, "config version: must be 1");
		goto out;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory loading the config");
		goto out;
	}
	ca_config_defaults(&cfg->defaults);
	v = json_object_get(root, "defaults");
	if (v != NULL && (rc = parse_section(v, "defaults", &cfg->defaults)) != OFFCA_OK)
		goto out;
	if (v != NULL && json_object_get(v, "transfer") != NULL &&
	    (rc = parse_transfer(json_object_get(v, "transfer"), cfg)) != OFFCA_OK)
		goto out;
	v = json_object_get(root, "issuers");
	if (v != NULL && (rc = parse_issuers(v, cfg)) != OFFCA_OK)
		goto out;
	*out = cfg;
	cfg = NULL;
	rc = OFFCA_OK;
out:
	ca_config_free(cfg);
	json_decref(root);
	return rc;
}

offca_rc ca_config_load(const char *home, ca_config **out)
{
	offca_rc rc;
	unsigned char *buf = NULL;
	size_t len = 0;
	char path[4096];
	struct stat st;
	int n;

	*out = NULL;
	n = snprintf(path, sizeof(path), "%s/%s", home, CA_CONFIG_FILE);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ut_err(OFFCA_E_USAGE, "CA home path too long");
	if (lstat(path, &st) != 0)
		return ut_err(OFFCA_E_STATE, "no CA config at %s: run offca init", path);
	if ((st.st_mode & 077) != 0)
		return ut_err(OFFCA_E_PERM, "%s: readable or writable by group/other (chmod 600)", path);
	rc = ut_read_file(path, CA_CONFIG_MAX_BYTES, 1, &buf, &len);
	if (rc != OFFCA_OK)
		return rc;
	rc = ca_config_parse((const char *)buf, len, out);
	free(buf);
	return rc;
}

void ca_config_free(ca_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->issuers);
	free(cfg);
}

const ca_issuer_cfg *ca_config_issuer(const ca_config *cfg, const char *name)
{
	if (name != NULL)
		for (size_t i = 0; i < cfg->n_issuers; i++)
			if (strcmp(cfg->issuers[i].name, name) == 0)
				return &cfg->issuers[i];
	return &cfg->defaults;
}

offca_rc ca_config_check_issuers(const ca_config *cfg, const char *const *known, size_t n)
{
	char names[256] = "";
	size_t used = 0;

	for (size_t k = 0; k < n; k++) {
		size_t l = strlen(known[k]);
		if (used + l + 8 > sizeof(names)) {
			memcpy(names + used, ", ...", 6);
			break;
		}
		memcpy(names + used, k ? ", " : "", k ? 3 : 1);
		used += k ? 2 : 0;
		memcpy(names + used, known[k], l + 1);
		used += l;
	}
	for (size_t i = 0; i < cfg->n_issuers; i++) {
		int found = 0;
		for (size_t k = 0; k < n && !found; k++)
			found = strcmp(cfg->issuers[i].name, known[k]) == 0;
		if (!found)
			return ut_err(OFFCA_E_PARSE, "config issuers.%s: no issuer is named '%s' (names are "
						     "case-sensitive; issuers: %s): that section would never apply",
				      cfg->issuers[i].name, cfg->issuers[i].name, n > 0 ? names : "none yet");
	}
	return OFFCA_OK;
}

int ca_config_transfer_require_signed(const ca_config *cfg)
{
	return cfg != NULL && cfg->transfer_require_signed;
}
