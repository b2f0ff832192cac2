/* test_sign.c - the signing flow against a real store, with software keys standing in for the
   token (the EVP_PKEY interface is the same): root, intermediate, batch sign, failure voids,
   chain verification with OpenSSL's verifier, CRL. */
#include "testutil.h"

#include "offca/config.h"
#include "offca/crl.h"
#include "offca/sign.h"
#include "offca/store.h"
#include "offca/util.h"
#include "offca/x509.h"

#include <openssl/evp.h>
#include <openssl/x509_vfy.h>

static char home[512];
static const char *dir;

static EVP_PKEY *ec_key(const char *curve)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
}

static unsigned char *read_data(const char *name, size_t *len)
{
	char path[1024];
	unsigned char *buf = NULL;

	snprintf(path, sizeof(path), "%s/csr/%s", getenv("OFFCA_TEST_DATA"), name);
	assert_int_equal(ut_read_file(path, 65536, 1, &buf, len), OFFCA_OK);
	return buf;
}

static int setup(void **state)
{
	(void)state;
	dir = tu_tmpdir();
	snprintf(home, sizeof(home), "%s/home", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmrf(dir);
	return 0;
}

struct count { size_t n; };
static int count_cb(void *arg, const ca_cert_record *r)
{
	(void)r;
	((struct count *)arg)->n++;
	return 0;
}

static int verify_chain(X509 *leaf, X509 *inter, X509 *root, X509_CRL *crl, int purpose)
{
	X509_STORE *xs = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *chain = sk_X509_new_null();
	int ok;

	X509_STORE_add_cert(xs, root);
	sk_X509_push(chain, inter);
	if (crl != NULL) {
		X509_STORE_add_crl(xs, crl);
		X509_STORE_set_flags(xs, X509_V_FLAG_CRL_CHECK);
	}
	X509_STORE_set_flags(xs, X509_V_FLAG_X509_STRICT);
	X509_STORE_CTX_init(ctx, xs, leaf, chain);
	X509_STORE_CTX_set_purpose(ctx, purpose);
	ok = X509_verify_cert(ctx);
	if (ok != 1)
		fprintf(stderr, "verify: %s\n", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(xs);
	sk_X509_free(chain);
	return ok;
}

static void test_flow(void **state)
{
	ca_store *st = NULL;
	ca_config *cfg = NULL;
	ca_signer *root_s = NULL, *int_s = NULL;
	EVP_PKEY *rk = ec_key("P-384"), *ik = ec_key("P-256");
	X509_NAME *rn = NULL, *in = NULL;
	unsigned char *rder = NULL, *ider = NULL, *crl_der = NULL;
	size_t rlen = 0, ilen = 0, crl_len = 0;
	X509 *root = NULL, *inter = NULL, *leaf = NULL;
	ca_ca_spec spec;
	ca_sign_input inputs[4];
	unsigned char *bufs[4];
	const char *files[4] = {"ok_openssl_ec256.pem", "ok_keytool_cn_only.pem", "ok_certbot_empty_subject.pem",
				"ok_openssl_asks_ca.pem"};
	ca_sign_opts o;
	ca_sign_result res;
	struct count cnt = {0};
	ca_crl_info info;
	const unsigned char *p;
	X509_CRL *crl = NULL;
	const char *permit[] = {"example.com"};

	(void)state;
	memset(inputs, 0, sizeof(inputs));
	assert_int_equal(ca_store_open(home, 1, &st), OFFCA_OK);
	assert_int_equal(ca_config_write_default(home), OFFCA_OK);
	assert_int_equal(ca_config_write_default(home), OFFCA_E_EXISTS);
	assert_int_equal(ca_config_load(home, &cfg), OFFCA_OK);

	/* root */
	assert_int_equal(ca_x509_parse_dn("/CN=Test Root/O=offca tests", &rn), OFFCA_OK);
	memset(&spec, 0, sizeof(spec));
	spec.name = "root";
	spec.subject = rn;
	spec.days = 3650;
	spec.path_len = -1;
	spec.key_uri = "pkcs11:token=t;object=root";
	assert_int_equal(ca_sign_root(st, &spec, rk, rk, &rder, &rlen), OFFCA_OK);
	{
		unsigned char *d2 = NULL;
		size_t l2 = 0;
		assert_int_equal(ca_sign_root(st, &spec, rk, rk, &d2, &l2), OFFCA_E_EXISTS);
		assert_null(d2);
	}
	assert_int_equal(ca_x509_from_der(rder, rlen, &root), OFFCA_OK);
	assert_int_equal(X509_check_ca(root), 1);

	/* intermediate with name constraints */
	assert_int_equal(ca_signer_new(st, cfg, "root", &root_s), OFFCA_OK);
	assert_int_equal(ca_signer_set_key(root_s, ik, ik), OFFCA_E_VERIFY); /* wrong key */
	assert_int_equal(ca_signer_set_key(root_s, rk, rk), OFFCA_OK);
	assert_int_equal(ca_x509_parse_dn("CN=Test Intermediate,O=offca tests", &in), OFFCA_OK);
	spec.name = "int1";
	spec.subject = in;
	spec.days = 1000;
	spec.path_len = 0;
	spec.permit_dns = permit;
	spec.n_permit_dns = 1;
	assert_int_equal(ca_sign_intermediate(st, root_s, &spec, ik, &ider, &ilen), OFFCA_OK);
	assert_int_equal(ca_x509_from_der(ider, ilen, &inter), OFFCA_OK);

	/* batch: default issuer is the newest intermediate */
	assert_int_equal(ca_signer_new(st, cfg, NULL, &int_s), OFFCA_OK);
	assert_string_equal(ca_signer_issuer_name(int_s), "int1");
	assert_int_equal(ca_signer_set_key(int_s, ik, ik), OFFCA_OK);
	for (int i = 0; i < 4; i++) {
		bufs[i] = read_data(files[i], &inputs[i].csr_len);
		inputs[i].csr = bufs[i];
		inputs[i].label = files[i];
	}
	memset(&o, 0, sizeof(o));
	o.profile = CA_PROFILE_MTLS;
	o.source = "unit test";
	assert_int_equal(ca_sign_batch(int_s, st, inputs, 4, &o, &res), OFFCA_OK);
	assert_int_equal(res.n, 4);
	assert_int_equal(res.certs[1].cn_copied, 1);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ca_x509_from_der(res.certs[i].der, res.certs[i].der_len, &leaf), OFFCA_OK);
		assert_int_equal(verify_chain(leaf, inter, root, NULL, X509_PURPOSE_SSL_SERVER), 1);
		assert_int_equal(verify_chain(leaf, inter, root, NULL, X509_PURPOSE_SSL_CLIENT), 1);
		assert_int_equal(X509_check_ca(leaf), 0); /* asks_ca got CA:FALSE */
		X509_free(leaf);
		leaf = NULL;
	}
	assert_int_equal(ca_store_cert_each(st, "int1", 0, 0, count_cb, &cnt), OFFCA_OK);
	assert_int_equal(cnt.n, 4);
	/* the pipeline's own records equal what the store's parser makes of the same DER */
	for (int i = 0; i < 4; i++) {
		ca_cert_record a, b;
		assert_int_equal(ca_store_cert_by_serial(st, &res.certs[i].serial, &a), OFFCA_OK);
		assert_int_equal(ca_cert_record_from_der(res.certs[i].der, res.certs[i].der_len, "int1", "mtls",
							 "unit test", &b), OFFCA_OK);
		assert_string_equal(a.subject, b.subject);
		assert_int_equal(a.n_sans, b.n_sans);
		for (size_t k = 0; k < a.n_sans; k++)
			assert_string_equal(a.sans[k], b.sans[k]);
		assert_memory_equal(a.sha256, b.sha256, 32);
		assert_memory_equal(a.serial.b, b.serial.b, CA_SERIAL_LEN);
		assert_true(a.not_before == b.not_before && a.not_after == b.not_after);
		assert_string_equal(a.profile, b.profile);
		ca_cert_record_clear(&a);
		ca_cert_record_clear(&b);
	}

	/* single thread gives the same result shape */
	ca_sign_result_clear(&res);
	o.threads = 1;
	assert_int_equal(ca_sign_batch(int_s, st, inputs, 2, &o, &res), OFFCA_OK);
	o.threads = 2;

	/* a bad CSR in the batch: nothing committed */
	ca_sign_result_clear(&res);
	free(bufs[3]);
	bufs[3] = read_data("bad_rsa1024.pem", &inputs[3].csr_len);
	inputs[3].csr = bufs[3];
	inputs[3].label = "bad_rsa1024.pem";
	assert_int_equal(ca_sign_batch(int_s, st, inputs, 4, &o, &res), OFFCA_E_POLICY);
	assert_non_null(strstr(ut_err_msg(), "bad_rsa1024.pem: policy rsa-min-bits"));
	assert_int_equal(res.failed_index, 3);
	assert_null(res.certs);
	cnt.n = 0;
	assert_int_equal(ca_store_cert_each(st, "int1", 0, 0, count_cb, &cnt), OFFCA_OK);
	assert_int_equal(cnt.n, 6); /* 4 + 2 */

	/* dry run */
	assert_int_equal(ca_sign_check(int_s, inputs, 3, &o, &res), OFFCA_OK);
	assert_non_null(strstr(res.certs[0].sans, "DNS:www.example.com"));
	ca_sign_result_clear(&res);
	/* over the max validity */
	o.days = 400;
	assert_int_equal(ca_sign_check(int_s, inputs, 3, &o, &res), OFFCA_E_POLICY);
	o.days = 0;

	/* CSRs from the pending queue: the records' commit drains exactly those ids, in the same
	   transaction; a batch whose commit fails drains none */
	{
		const unsigned char *pd[3] = {bufs[0], bufs[1], bufs[2]};
		size_t pls[3] = {inputs[0].csr_len, inputs[1].csr_len, inputs[2].csr_len}, np = 0, before;
		uint64_t ids[3];
		ca_pending *plist = NULL;
		ca_sign_input pin[2];

		assert_int_equal(ca_store_pending_add(st, pd, pls, 3, "unit test", ids), OFFCA_OK);
		pin[0] = inputs[0];
		pin[0].pending_id = ids[0];
		pin[1] = inputs[2];
		pin[1].pending_id = ids[2];
		assert_int_equal(ca_sign_batch(int_s, st, pin, 2, &o, &res), OFFCA_OK);
		ca_sign_result_clear(&res);
		assert_int_equal(ca_store_pending_list(st, &plist, &np), OFFCA_OK);
		assert_int_equal(np, 1);
		assert_int_equal(plist[0].id, ids[1]);
		ca_pending_list_free(plist, np);
		cnt.n = 0;
		assert_int_equal(ca_store_cert_each(st, "int1", 0, 0, count_cb, &cnt), OFFCA_OK);
		before = cnt.n;
		/* ids[0] was signed: signing it again fails at the commit, nothing recorded or drained */
		pin[1].pending_id = ids[1];
		assert_int_equal(ca_sign_batch(int_s, st, pin, 2, &o, &res), OFFCA_E_NOT_FOUND);
		assert_null(res.certs);
		cnt.n = 0;
		assert_int_equal(ca_store_cert_each(st, "int1", 0, 0, count_cb, &cnt), OFFCA_OK);
		assert_int_equal(cnt.n, before);
		assert_int_equal(ca_store_pending_list(st, &plist, &np), OFFCA_OK);
		assert_int_equal(np, 1);
		ca_pending_list_free(plist, np);
		/* the same id twice in one batch is refused before anything is reserved */
		pin[0].pending_id = ids[1];
		assert_int_equal(ca_sign_batch(int_s, st, pin, 2, &o, &res), OFFCA_E_USAGE);
		pin[1] = inputs[1]; /* the CSR queued as ids[1] */
		pin[1].pending_id = ids[1];
		assert_int_equal(ca_sign_batch(int_s, st, pin + 1, 1, &o, &res), OFFCA_OK);
		ca_sign_result_clear(&res);
		assert_int_equal(ca_store_pending_list(st, &plist, &np), OFFCA_OK);
		assert_int_equal(np, 0);
		ca_pending_list_free(plist, np);
	}

	/* a signature that fails (here a key without its private half, as a token pulled out): the
	   detail comes from tok_err_sign, the batch records nothing and voids its serial */
	{
		unsigned char *spki = NULL;
		const unsigned char *q;
		int l = i2d_PUBKEY(ik, &spki);
		EVP_PKEY *pubonly;
		struct count before = {0}, after = {0};

		assert_true(l > 0);
		q = spki;
		pubonly = d2i_PUBKEY(NULL, &q, l);
		assert_non_null(pubonly);
		assert_int_equal(ca_signer_set_key(int_s, pubonly, ik), OFFCA_OK);
		assert_int_equal(ca_store_cert_each(st, "int1", 0, 0, count_cb, &before), OFFCA_OK);
		assert_int_equal(ca_sign_batch(int_s, st, inputs, 1, &o, &res), OFFCA_E_CRYPTO);
		assert_non_null(strstr(ut_err_msg(), "signing the certificate failed"));
		assert_int_equal(ca_store_cert_each(st, "int1", 0, 0, count_cb, &after), OFFCA_OK);
		assert_int_equal(after.n, before.n);
		assert_int_equal(ca_signer_set_key(int_s, ik, ik), OFFCA_OK);
		EVP_PKEY_free(pubonly);
		OPENSSL_free(spki);
	}

	/* revoke the first and issue a CRL; chain verification with the CRL refuses it */
	assert_int_equal(ca_sign_batch(int_s, st, inputs, 1, &o, &res), OFFCA_OK);
	assert_int_equal(ca_store_revoke(st, &res.certs[0].serial, 1, (int64_t)time(NULL) - 10), OFFCA_OK);
	assert_int_equal(ca_crl_issue(st, int_s, 0, NULL, &crl_der, &crl_len, &info), OFFCA_OK);
	assert_int_equal(info.number, 1);
	assert_int_equal(info.n_revoked, 1);
	p = crl_der;
	crl = d2i_X509_CRL(NULL, &p, (long)crl_len);
	assert_non_null(crl);
	assert_int_equal(ca_x509_from_der(res.certs[0].der, res.certs[0].der_len, &leaf), OFFCA_OK);
	assert_int_not_equal(verify_chain(leaf, inter, root, crl, X509_PURPOSE_SSL_SERVER), 1);
	assert_int_equal(ca_crl_status(st, "int1", (int64_t)time(NULL), &info), OFFCA_OK);
	assert_int_equal(info.warn, 0);
	assert_int_equal(info.n_revoked, 1);
	{
		/* an empty CRL (the root has revoked nothing) */
		unsigned char *d = NULL;
		size_t l = 0;
		assert_int_equal(ca_crl_issue(st, root_s, 0, NULL, &d, &l, &info), OFFCA_OK);
		assert_int_equal(info.n_revoked, 0);
		assert_int_equal(ca_crl_status(st, "root", (int64_t)time(NULL), &info), OFFCA_OK);
		assert_int_equal(info.n_revoked, 0);
		OPENSSL_free(d);
	}
	assert_int_equal(ca_crl_status(st, "int1", (int64_t)time(NULL) + 6 * 86400, &info), OFFCA_OK);
	assert_int_equal(info.warn, 1);
	OPENSSL_free(crl_der);
	assert_int_equal(ca_crl_issue(st, int_s, 30, NULL, &crl_der, &crl_len, &info), OFFCA_OK);
	assert_int_equal(info.number, 2);
	{
		uint64_t n;
		assert_int_equal(ca_store_audit_verify(st, &n), OFFCA_OK);
	}

	X509_CRL_free(crl);
	X509_free(leaf);
	ca_sign_result_clear(&res);
	for (int i = 0; i < 4; i++)
		free(bufs[i]);
	OPENSSL_free(crl_der);
	OPENSSL_free(rder);
	OPENSSL_free(ider);
	X509_free(root);
	X509_free(inter);
	X509_NAME_free(rn);
	X509_NAME_free(in);
	ca_signer_free(root_s);
	ca_signer_free(int_s);
	ca_config_free(cfg);
	ca_store_free(st);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_flow, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
