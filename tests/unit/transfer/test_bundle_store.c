/* Unit tests for bundle import/export against a real CA store (LMDB in a temp dir). */
#include "testutil.h"

#include <time.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "offca/bundle.h"
#include "offca/store.h"
#include "offca/util.h"

static char dir[256], home[300];
static EVP_PKEY *root_key, *int_key, *leaf_key;
static X509 *root_cert, *int_cert;
static ca_serial serials[3];

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
}

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int ca,
		       const ca_serial *serial)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIGNUM *bn = BN_bin2bn(serial->b, CA_SERIAL_LEN, NULL);

	X509_set_version(x, 2);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30);
	X509_set_pubkey(x, key);
	add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (!ca)
		add_ext(x, issuer, NID_subject_alt_name, "DNS:www.example.test");
	assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	X509_NAME_free(name);
	return x;
}

static void der_of(X509 *x, unsigned char **der, size_t *len)
{
	int n;

	*der = NULL;
	n = i2d_X509(x, der);
	assert_true(n > 0);
	*len = (size_t)n;
}

static void add_issuer(ca_store *st, const char *name, const char *parent, X509 *x, int is_root)
{
	ca_issuer iss;

	memset(&iss, 0, sizeof(iss));
	snprintf(iss.name, sizeof(iss.name), "%s", name);
	snprintf(iss.parent, sizeof(iss.parent), "%s", parent);
	snprintf(iss.key_uri, sizeof(iss.key_uri), "pkcs11:token=test;object=%s;type=private", name);
	der_of(x, &iss.der, &iss.der_len);
	iss.is_root = is_root;
	iss.created = 1;
	assert_int_equal(ca_store_issuer_add(st, &iss), OFFCA_OK);
	OPENSSL_free(iss.der);
}

/* A store with root -> int, three leaf certificates from int, one revoked, and a CRL for int. */
static int setup(void **state)
{
	ca_store *st = NULL;
	ca_serial s0;
	ca_cert_record rec;
	unsigned char *der = NULL;
	size_t len = 0;
	X509 *leaf;
	X509_CRL *crl;
	uint64_t number = 0;
	int n;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	snprintf(home, sizeof(home), "%s/home", dir);
	root_key = EVP_EC_gen("P-256");
	int_key = EVP_EC_gen("P-256");
	leaf_key = EVP_EC_gen("P-256");
	assert_int_equal(ca_store_open(home, 1, &st), OFFCA_OK);
	memset(&s0, 0, sizeof(s0));
	s0.b[CA_SERIAL_LEN - 1] = 1;
	root_cert = make_cert("Store Root", root_key, NULL, root_key, 1, &s0);
	s0.b[CA_SERIAL_LEN - 1] = 2;
	int_cert = make_cert("Store Int", int_key, root_cert, root_key, 1, &s0);
	add_issuer(st, "root", "", root_cert, 1);
	add_issuer(st, "int", "root", int_cert, 0);
	assert_int_equal(ca_store_serial_reserve(st, "int", 3, serials), OFFCA_OK);
	for (int i = 0; i < 3; i++) {
		leaf = make_cert("www.example.test", leaf_key, int_cert, int_key, 0, &serials[i]);
		der_of(leaf, &der, &len);
		assert_int_equal(ca_cert_record_from_der(der, len, "int", "server", "test", &rec), OFFCA_OK);
		assert_int_equal(ca_store_cert_commit(st, &rec, 1), OFFCA_OK);
		ca_cert_record_clear(&rec);
		OPENSSL_free(der);
		der = NULL;
		X509_free(leaf);
	}
	assert_int_equal(ca_store_revoke(st, &serials[2], 1, 100), OFFCA_OK);
	crl = X509_CRL_new();
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(int_cert));
	{
		ASN1_TIME *t = ASN1_TIME_adj(NULL, time(NULL), 0, 0), *u = ASN1_TIME_adj(NULL, time(NULL), 7, 0);
		X509_CRL_set1_lastUpdate(crl, t);
		X509_CRL_set1_nextUpdate(crl, u);
		ASN1_TIME_free(t);
		ASN1_TIME_free(u);
	}
	assert_true(X509_CRL_sign(crl, int_key, EVP_sha256()) > 0);
	n = i2d_X509_CRL(crl, &der);
	assert_true(n > 0);
	assert_int_equal(ca_store_crl_next_number(st, "int", &number), OFFCA_OK);
	assert_int_equal(ca_store_crl_record(st, "int", number, time(NULL), time(NULL) + 7 * 86400, der, (size_t)n),
			 OFFCA_OK);
	OPENSSL_free(der);
	X509_CRL_free(crl);
	ca_store_free(st);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(int_key);
	EVP_PKEY_free(leaf_key);
	X509_free(root_cert);
	X509_free(int_cert);
	tu_rmrf(dir);
	return 0;
}

static size_t count_type(const xfr_bundle *b, xfr_item_type t)
{
	size_t n = 0;

	for (size_t i = 0; i < xfr_bundle_count(b); i++)
		n += xfr_bundle_item(b, i)->type == t;
	return n;
}

static void test_export_sign_verify(void **state)
{
	ca_store *st = NULL;
	xfr_export_opts o = {0};
	xfr_export ex;
	unsigned char *buf = NULL;
	size_t len = 0;
	xfr_bundle *p = NULL;
	STACK_OF(X509) *roots = sk_X509_new_null();
	char hex[2 * CA_SERIAL_LEN + 1];

	(void)state;
	sk_X509_push(roots, root_cert);
	assert_int_equal(ca_store_open(home, 0, &st), OFFCA_OK);
	/* default issuer = the intermediate: 2 valid certificates (the revoked one is left out) */
	assert_int_equal(xfr_bundle_export(st, &o, &ex), OFFCA_OK);
	assert_string_equal(ex.issuer, "int");
	assert_string_equal(ex.key_uri, "pkcs11:token=test;object=int;type=private");
	assert_int_equal(ex.n_certs, 2);
	assert_int_equal(ex.n_crls, 1);
	assert_int_equal(sk_X509_num(ex.chain), 1);
	assert_int_equal(xfr_bundle_direction(ex.bundle), XFR_DIR_OUT);
	assert_int_equal(count_type(ex.bundle, XFR_ITEM_CERT), 2);
	assert_int_equal(count_type(ex.bundle, XFR_ITEM_CHAIN), 1);
	assert_int_equal(count_type(ex.bundle, XFR_ITEM_CRL), 1);
	assert_int_equal(xfr_bundle_sign(ex.bundle, int_key, ex.signer, ex.chain), OFFCA_OK);
	assert_int_equal(xfr_bundle_serialize(ex.bundle, &buf, &len), OFFCA_OK);
	assert_int_equal(xfr_export_audit(st, &ex), OFFCA_OK);
	assert_int_equal(xfr_bundle_parse(buf, len, &p), OFFCA_OK);
	assert_int_equal(xfr_bundle_verify_ca(p, roots), OFFCA_OK);
	xfr_bundle_free(p);
	free(buf);
	xfr_export_clear(&ex);
	/* since a time in the future: chain and CRL only */
	o.since = (int64_t)time(NULL) + 3600;
	assert_int_equal(xfr_bundle_export(st, &o, &ex), OFFCA_OK);
	assert_int_equal(ex.n_certs, 0);
	xfr_export_clear(&ex);
	/* since a serial: that certificate itself is excluded */
	o.since = 0;
	o.since_serial = ca_serial_hex(&serials[0], hex, sizeof(hex));
	assert_int_equal(xfr_bundle_export(st, &o, &ex), OFFCA_OK);
	assert_int_equal(ex.n_certs, 1);
	xfr_export_clear(&ex);
	o.since_serial = "0badc0de";
	assert_int_equal(xfr_bundle_export(st, &o, &ex), OFFCA_E_NOT_FOUND);
	assert_null(ex.bundle);
	/* the root's export: no leaf certificates, no CRL recorded */
	o.since_serial = NULL;
	o.issuer = "root";
	assert_int_equal(xfr_bundle_export(st, &o, &ex), OFFCA_OK);
	assert_int_equal(ex.n_certs, 0);
	assert_int_equal(ex.n_crls, 0);
	xfr_export_clear(&ex);
	o.issuer = "nobody";
	assert_int_equal(xfr_bundle_export(st, &o, &ex), OFFCA_E_NOT_FOUND);
	ca_store_free(st);
	sk_X509_free(roots);
}

static void csr_pem(const char *cn, unsigned char **out, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	BIO *mem = BIO_new(BIO_s_mem());
	BUF_MEM *bm;

	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_subject_name(req, name);
	X509_REQ_set_pubkey(req, leaf_key);
	assert_true(X509_REQ_sign(req, leaf_key, EVP_sha256()) > 0);
	PEM_write_bio_X509_REQ(mem, req);
	BIO_get_mem_ptr(mem, &bm);
	*out = malloc(bm->length);
	memcpy(*out, bm->data, bm->length);
	*len = bm->length;
	BIO_free(mem);
	X509_NAME_free(name);
	X509_REQ_free(req);
}

static size_t pending_count(ca_store *st)
{
	ca_pending *list = NULL;
	size_t n = 0;

	assert_int_equal(ca_store_pending_list(st, &list, &n), OFFCA_OK);
	ca_pending_list_free(list, n);
	return n;
}

static void test_import_all_or_none(void **state)
{
	ca_store *st = NULL;
	xfr_bundle *b = NULL, *p = NULL;
	unsigned char *c1, *c2, *buf = NULL;
	size_t l1, l2, len = 0;
	xfr_import_opts o = {home, 0};
	xfr_import_result res;

	(void)state;
	csr_pem("a.example.test", &c1, &l1);
	csr_pem("b.example.test", &c2, &l2);
	assert_int_equal(ca_store_open(home, 0, &st), OFFCA_OK);
	assert_int_equal(xfr_bundle_new(XFR_DIR_IN, NULL, &b), OFFCA_OK);
	assert_int_equal(xfr_bundle_add(b, XFR_ITEM_CSR, "a.csr", c1, l1), OFFCA_OK);
	assert_int_equal(xfr_bundle_add(b, XFR_ITEM_TRANSCRIPT, "note.txt", (const unsigned char *)"hi", 2), OFFCA_OK);
	assert_int_equal(xfr_bundle_add(b, XFR_ITEM_CSR, "b.csr", c2, l2), OFFCA_OK);
	assert_int_equal(xfr_bundle_serialize(b, &buf, &len), OFFCA_OK);
	assert_int_equal(xfr_bundle_parse(buf, len, &p), OFFCA_OK);
	/* required signature missing: nothing */
	o.require_signed = 1;
	assert_int_equal(xfr_bundle_import(st, p, &o, &res), OFFCA_E_VERIFY);
	assert_int_equal(pending_count(st), 0);
	o.require_signed = 0;
	assert_int_equal(xfr_bundle_import(st, p, &o, &res), OFFCA_OK);
	assert_int_equal(res.n_csrs, 2);
	assert_int_equal(res.n_skipped, 1);
	assert_true(res.ids[1] > res.ids[0]);
	assert_int_equal(pending_count(st), 2);
	/* again: refused as a whole, the queue is unchanged */
	assert_int_equal(xfr_bundle_import(st, p, &o, &res), OFFCA_E_EXISTS);
	assert_int_equal(pending_count(st), 2);
	xfr_bundle_free(p);
	xfr_bundle_free(b);
	free(buf);
	/* an outbound bundle is never imported */
	assert_int_equal(xfr_bundle_new(XFR_DIR_OUT, NULL, &b), OFFCA_OK);
	assert_int_equal(xfr_bundle_add(b, XFR_ITEM_CSR, "a.csr", c1, l1), OFFCA_OK);
	assert_int_equal(xfr_bundle_import(st, b, &o, &res), OFFCA_E_POLICY);
	xfr_bundle_free(b);
	/* a bundle without CSRs */
	assert_int_equal(xfr_bundle_new(XFR_DIR_IN, NULL, &b), OFFCA_OK);
	assert_int_equal(xfr_bundle_add(b, XFR_ITEM_OTHER, "x", (const unsigned char *)"x", 1), OFFCA_OK);
	assert_int_equal(xfr_bundle_import(st, b, &o, &res), OFFCA_E_NOT_FOUND);
	assert_int_equal(pending_count(st), 2);
	xfr_bundle_free(b);
	ca_store_free(st);
	free(c1);
	free(c2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_sign_verify),
		cmocka_unit_test(test_import_all_or_none),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
