/* test_config.c - config.json: defaults written 0600 and never overwritten, strict parsing with
   field paths, per-issuer overrides. */
#include "testutil.h"

#include "offca/config.h"
#include "offca/util.h"

static void test_default_roundtrip(void **state)
{
	const char *dir = tu_tmpdir();
	char path[512];
	struct stat st;
	ca_config *cfg = NULL;
	const ca_issuer_cfg *d;

	(void)state;
	assert_int_equal(ca_config_write_default(dir), OFFCA_OK);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ca_config_write_default(dir), OFFCA_E_EXISTS);
	assert_int_equal(ca_config_load(dir, &cfg), OFFCA_OK);
	d = ca_config_issuer(cfg, "anything");
	assert_int_equal(d->policy.leaf_days_default, 90);
	assert_int_equal(d->policy.leaf_days_max, 397);
	assert_int_equal(d->policy.rsa_min_bits, 2048);
	assert_int_equal(d->policy.cn_only, CA_CN_ONLY_COPY);
	assert_int_equal(d->crl_days, 7);
	assert_int_equal(ca_config_transfer_require_signed(cfg), 0);
	ca_config_free(cfg);
	{
		/* the default file spells the key out, so an operator finds it */
		unsigned char *text = NULL;
		size_t len = 0;
		assert_int_equal(ut_read_file(path, 65536, 1, &text, &len), OFFCA_OK);
		assert_non_null(strstr((char *)text, "\"require_signed\": false"));
		free(text);
	}
	chmod(path, 0644);
	assert_int_equal(ca_config_load(dir, &cfg), OFFCA_E_PERM);
	tu_rmrf(dir);
	assert_int_equal(ca_config_load(dir, &cfg), OFFCA_E_STATE);
}

static void test_overrides(void **state)
{
	const char *t = "{\"version\":1,\"defaults\":{\"crl_dp_url\":\"http://crl.example/int.crl\"},"
			"\"issuers\":{\"int-1\":{\"policy\":{\"dns_suffixes\":[\"corp.example\"],"
			"\"cn_only\":\"refuse\",\"key_types\":[\"ec\"]},\"crl_days\":2}}}";
	ca_config *cfg = NULL;
	const ca_issuer_cfg *c;

	(void)state;
	assert_int_equal(ca_config_parse(t, strlen(t), &cfg), OFFCA_OK);
	c = ca_config_issuer(cfg, "int-1");
	assert_string_equal(c->name, "int-1");
	assert_int_equal(c->policy.n_dns_suffixes, 1);
	assert_string_equal(c->policy.dns_suffixes[0], "corp.example");
	assert_int_equal(c->policy.cn_only, CA_CN_ONLY_REFUSE);
	assert_int_equal(c->policy.allow_rsa, 0);
	assert_int_equal(c->crl_days, 2);
	assert_string_equal(c->crl_dp_url, "http://crl.example/int.crl"); /* inherited */
	c = ca_config_issuer(cfg, NULL);
	assert_int_equal(c->policy.n_dns_suffixes, 0);
	ca_config_free(cfg);
}

/* renew_before_days: default 30, per issuer (inherited from defaults), per profile over it. */
static void test_renew_before(void **state)
{
	const char *t = "{\"version\":1,\"defaults\":{\"renew_before_days\":20},\"issuers\":{\"int-1\":"
			"{\"renew_before_days_by_profile\":{\"mtls\":5}},\"int-2\":{\"renew_before_days\":45}}}";
	const char *bad[] = {
		"{\"version\":1,\"defaults\":{\"renew_before_days\":0}}",
		"{\"version\":1,\"defaults\":{\"renew_before_days\":\"30\"}}",
		"{\"version\":1,\"defaults\":{\"renew_before_days_by_profile\":{\"web\":3}}}",
		"{\"version\":1,\"defaults\":{\"renew_before_days_by_profile\":[3]}}",
		"{\"version\":1,\"defaults\":{\"renew_before_days_by_profile\":{\"server\":4000}}}",
	};
	ca_config *cfg = NULL;
	ca_issuer_cfg d;

	(void)state;
	ca_config_defaults(&d);
	assert_int_equal(ca_config_renew_before(&d, "server"), 30);
	assert_int_equal(ca_config_parse(t, strlen(t), &cfg), OFFCA_OK);
	assert_int_equal(ca_config_renew_before(ca_config_issuer(cfg, NULL), "server"), 20);
	assert_int_equal(ca_config_renew_before(ca_config_issuer(cfg, "int-1"), "server"), 20);
	assert_int_equal(ca_config_renew_before(ca_config_issuer(cfg, "int-1"), "mtls"), 5);
	assert_int_equal(ca_config_renew_before(ca_config_issuer(cfg, "int-1"), "no-such-profile"), 20);
	assert_int_equal(ca_config_renew_before(ca_config_issuer(cfg, "int-2"), "mtls"), 45);
	ca_config_free(cfg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg = NULL;
		assert_int_equal(ca_config_parse(bad[i], strlen(bad[i]), &cfg), OFFCA_E_PARSE);
		assert_non_null(strstr(ut_err_msg(), "defaults.renew_before_days"));
		assert_null(cfg);
	}
}

static void test_transfer(void **state)
{
	const char *on = "{\"version\":1,\"defaults\":{\"transfer\":{\"require_signed\":true}}}";
	const char *off = "{\"version\":1,\"defaults\":{\"transfer\":{}}}";
	ca_config *cfg = NULL;

	(void)state;
	assert_int_equal(ca_config_parse(on, strlen(on), &cfg), OFFCA_OK);
	assert_int_equal(ca_config_transfer_require_signed(cfg), 1);
	ca_config_free(cfg);
	assert_int_equal(ca_config_parse(off, strlen(off), &cfg), OFFCA_OK);
	assert_int_equal(ca_config_transfer_require_signed(cfg), 0);
	ca_config_free(cfg);
	assert_int_equal(ca_config_transfer_require_signed(NULL), 0);
}

static void test_strict(void **state)
{
	static const struct { const char *json; const char *path; } bad[] = {
		{"{\"version\":1,\"defaults\":{\"polcy\":{}}}", "defaults.polcy: unknown key"},
		{"{\"version\":2}", "version"},
		{"{\"version\":1,\"defaults\":{\"policy\":{\"rsa_min_bits\":1024}}}", "defaults.policy.rsa_min_bits"},
		{"{\"version\":1,\"defaults\":{\"policy\":{\"leaf_days_max\":398}}}", "defaults.policy.leaf_days_max"},
		{"{\"version\":1,\"defaults\":{\"policy\":{\"ec_curves\":[\"P-192\"]}}}", "defaults.policy.ec_curves[0]"},
		{"{\"version\":1,\"issuers\":{\"x\":{\"policy\":{\"cn_only\":\"maybe\"}}}}", "issuers.x.policy.cn_only"},
		{"{\"version\":1,\"defaults\":{\"crl_dp_url\":\"file:///etc/passwd\"}}", "defaults.crl_dp_url"},
		{"{\"version\":1,\"defaults\":{\"policy\":{\"dns_suffixes\":[\".Bad\"]}}}", "dns_suffixes[0]"},
		{"{\"version\":1,\"version\":1}", "duplicate"},
		{"[1]", "object"},
		{"{\"version\":1,\"defaults\":{\"transfer\":{\"require_signed\":1}}}", "defaults.transfer.require_signed"},
		{"{\"version\":1,\"defaults\":{\"transfer\":{\"require_signd\":true}}}", "defaults.transfer.require_signd"},
		{"{\"version\":1,\"defaults\":{\"transfer\":true}}", "defaults.transfer: must be an object"},
		{"{\"version\":1,\"issuers\":{\"x\":{\"transfer\":{}}}}", "issuers.x.transfer"},
	};
	ca_config *cfg = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ca_config_parse(bad[i].json, strlen(bad[i].json), &cfg), OFFCA_E_PARSE);
		if (strstr(ut_err_msg(), bad[i].path) == NULL)
			fail_msg("%s: detail '%s' lacks '%s'", bad[i].json, ut_err_msg(), bad[i].path);
		assert_null(cfg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_roundtrip),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_transfer),
		cmocka_unit_test(test_renew_before),
		cmocka_unit_test(test_strict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
