/* Unit tests for transfer/bundle*: container round trip, signatures, CA chain checks, tampering,
   truncation, oversize, hostile names, extraction, enrolled operators. Real OpenSSL keys. */
#include "testutil.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "offca/bundle.h"
#include "offca/util.h"

static char dir[256];
static EVP_PKEY *root_key, *int_key, *other_key, *leaf_key;
static X509 *root_cert, *int_cert, *other_root, *leaf_cert;
static unsigned char *csr_pem;
static size_t csr_len;

/* ---- fixtures: a root, an intermediate CA, an unrelated root, a leaf, a CSR ---- */

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int ca, long serial)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30);
	X509_set_pubkey(x, key);
	add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(x, issuer != NULL ? issuer : x, NID_key_usage, ca ? "critical,keyCertSign,cRLSign,digitalSignature"
							       : "critical,digitalSignature");
	assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	X509_NAME_free(name);
	return x;
}

static void make_csr(EVP_PKEY *key, const char *cn, unsigned char **out, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	BIO *mem = BIO_new(BIO_s_mem());
	BUF_MEM *bm;

	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_subject_name(req, name);
	X509_REQ_set_pubkey(req, key);
	assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
	assert_int_equal(PEM_write_bio_X509_REQ(mem, req), 1);
	BIO_get_mem_ptr(mem, &bm);
	*out = malloc(bm->length);
	memcpy(*out, bm->data, bm->length);
	*len = bm->length;
	BIO_free(mem);
	X509_NAME_free(name);
	X509_REQ_free(req);
}

static int setup(void **state)
{
	(void)state;
	root_key = EVP_EC_gen("P-256");
	int_key = EVP_EC_gen("P-256");
	other_key = EVP_EC_gen("P-256");
	leaf_key = EVP_EC_gen("P-256");
	root_cert = make_cert("Test Root", root_key, NULL, root_key, 1, 1);
	int_cert = make_cert("Test Intermediate", int_key, root_cert, root_key, 1, 2);
	other_root = make_cert("Other Root", other_key, NULL, other_key, 1, 3);
	leaf_cert = make_cert("operator alice", leaf_key, root_cert, root_key, 0, 4);
	make_csr(leaf_key, "www.example.test", &csr_pem, &csr_len);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(int_key);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(leaf_key);
	X509_free(root_cert);
	X509_free(int_cert);
	X509_free(other_root);
	X509_free(leaf_cert);
	free(csr_pem);
	return 0;
}

static unsigned char *cert_pem(X509 *x, size_t *len)
{
	BIO *mem = BIO_new(BIO_s_mem());
	BUF_MEM *bm;
	unsigned char *p;

	PEM_write_bio_X509(mem, x);
	BIO_get_mem_ptr(mem, &bm);
	p = malloc(bm->length);
	memcpy(p, bm->data, bm->length);
	*len = bm->length;
	BIO_free(mem);
	return p;
}

/* An outbound bundle (CSR-free: certificate + chain + transcript), signed by the intermediate. */
static void signed_bundle(unsigned char **buf, size_t *len, int sign)
{
	xfr_bundle *b = NULL;
	STACK_OF(X509) *chain = sk_X509_new_null();
	unsigned char *leaf;
	size_t leaf_len;

	leaf = cert_pem(leaf_cert, &leaf_len);
	assert_int_equal(xfr_bundle_new(XFR_DIR_OUT, "int-test", &b), OFFCA_OK);
	assert_int_equal(xfr_bundle_add(b, XFR_ITEM_CERT, "leaf.pem", leaf, leaf_len), OFFCA_OK);
	assert_int_equal(xfr_bundle_add(b, XFR_ITEM_TRANSCRIPT, "notes.txt", (const unsigned char *)"hello\n", 6),
			 OFFCA_OK);
	sk_X509_push(chain, root_cert);
	if (sign)
		assert_int_equal(xfr_bundle_sign(b, int_key, int_cert, chain), OFFCA_OK);
	assert_int_equal(xfr_bundle_serialize(b, buf, len), OFFCA_OK);
	sk_X509_free(chain);
	xfr_bundle_free(b);
	free(leaf);
}

static STACK_OF(X509) *roots_of(X509 *x)
{
	STACK_OF(X509) *sk = sk_X509_new_null();

	sk_X509_push(sk, x);
	return sk;
}

/* ---- tests ---- */

static void test_round_trip_unsigned(void **state)
{
	xfr_bundle *b = NULL, *p = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;
	const xfr_item *it;

	(void)state;
	assert_int_equal(xfr_bundle_new(XFR_DIR_IN, "", &b), OFFCA_OK);
	assert_int_equal(xfr_bundle_add(b, XFR_ITEM_CSR, "/tmp/dir/www.csr", csr_pem, csr_len), OFFCA_OK);
	assert_int_equal(xfr_bundle_serialize(b, &buf, &len), OFFCA_OK);
	assert_memory_equal(buf, "OFFCA-BUNDLE/1\n", 15);
	assert_int_equal(xfr_bundle_parse(buf, len, &p), OFFCA_OK);
	assert_int_equal(xfr_bundle_count(p), 1);
	assert_int_equal(xfr_bundle_direction(p), XFR_DIR_IN);
	assert_false(xfr_bundle_is_signed(p));
	it = xfr_bundle_item(p, 0);
	assert_int_equal(it->type, XFR_ITEM_CSR);
	assert_string_equal(it->name, "www.csr");
	assert_int_equal(it->len, csr_len);
	assert_memory_equal(it->data, csr_pem, csr_len);
	assert_null(xfr_bundle_item(p, 1));
	/* a CSR item must really be a CSR */
	assert_int_equal(xfr_bundle_add(b, XFR_ITEM_CSR, "x", (const unsigned char *)"junk", 4), OFFCA_E_STATE);
	xfr_bundle_free(b);
	xfr_bundle_free(p);
	free(buf);
}

static void test_item_checks_and_guess(void **state)
{
	xfr_bundle *b = NULL;
	unsigned char *leaf, *chain2;
	size_t leaf_len;

	(void)state;
	leaf = cert_pem(leaf_cert, &leaf_len);
	assert_int_equal(xfr_item_type_guess(csr_pem, csr_len), XFR_ITEM_CSR);
	assert_int_equal(xfr_item_type_guess(leaf, leaf_len), XFR_ITEM_CERT);
	chain2 = malloc(2 * leaf_len);
	memcpy(chain2, leaf, leaf_len);
	memcpy(chain2 + leaf_len, leaf, leaf_len);
	assert_int_equal(xfr_item_type_guess(chain2, 2 * leaf_len), XFR_ITEM_CHAIN);
	assert_int_equal(xfr_item_type_guess((const unsigned char *)"plain text", 10), XFR_ITEM_OTHER);
	assert_int_equal(xfr_bundle_new(XFR_DIR_IN, NULL, &b), OFFCA_OK);
	assert_int_not_equal(xfr_bundle_add(b, XFR_ITEM_CSR, "a.csr", leaf, leaf_len), OFFCA_OK);
	assert_int_not_equal(xfr_bundle_add(b, XFR_ITEM_CERT, "two.pem", chain2, 2 * leaf_len), OFFCA_OK);
	assert_int_equal(xfr_bundle_add(b, XFR_ITEM_CHAIN, "two.pem", chain2, 2 * leaf_len), OFFCA_OK);
	assert_int_not_equal(xfr_bundle_add(b, XFR_ITEM_CRL, "c.crl", leaf, leaf_len), OFFCA_OK);
	assert_int_equal(xfr_bundle_count(b), 1);
	xfr_bundle_free(b);
	free(leaf);
	free(chain2);
}

static void test_signed_verify_ca(void **state)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	xfr_bundle *p = NULL;
	STACK_OF(X509) *good = roots_of(root_cert), *bad = roots_of(other_root);

	(void)state;
	signed_bundle(&buf, &len, 1);
	assert_int_equal(xfr_bundle_parse(buf, len, &p), OFFCA_OK);
	assert_true(xfr_bundle_is_signed(p));
	assert_int_equal(X509_cmp(xfr_bundle_signer(p), int_cert), 0);
	assert_int_equal(xfr_bundle_verify_ca(p, good), OFFCA_OK);
	assert_int_equal(xfr_bundle_verify_ca(p, bad), OFFCA_E_VERIFY);
	assert_non_null(strstr(ut_err_msg(), "does not chain"));
	xfr_bundle_free(p);
	free(buf);
	/* unsigned: verify_ca refuses */
	signed_bundle(&buf, &len, 0);
	assert_int_equal(xfr_bundle_parse(buf, len, &p), OFFCA_OK);
	assert_int_equal(xfr_bundle_verify_ca(p, good), OFFCA_E_VERIFY);
	xfr_bundle_free(p);
	free(buf);
	sk_X509_free(good);
	sk_X509_free(bad);
}

static void test_signer_must_be_ca_and_match_key(void **state)
{
	xfr_bundle *b = NULL, *p = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;
	STACK_OF(X509) *good = roots_of(root_cert);

	(void)state;
	assert_int_equal(xfr_bundle_new(XFR_DIR_OUT, "x", &b), OFFCA_OK);
	assert_int_equal(xfr_bundle_add(b, XFR_ITEM_OTHER, "a", (const unsigned char *)"a", 1), OFFCA_OK);
	/* certificate that does not belong to the key */
	assert_int_equal(xfr_bundle_sign(b, int_key, leaf_cert, NULL), OFFCA_E_VERIFY);
	assert_false(xfr_bundle_is_signed(b));
	/* a leaf (not a CA) signs: the signature is fine, the CA check is not */
	assert_int_equal(xfr_bundle_sign(b, leaf_key, leaf_cert, NULL), OFFCA_OK);
	assert_int_equal(xfr_bundle_sign(b, leaf_key, leaf_cert, NULL), OFFCA_E_STATE);
	assert_int_equal(xfr_bundle_serialize(b, &buf, &len), OFFCA_OK);
	assert_int_equal(xfr_bundle_parse(buf, len, &p), OFFCA_OK);
	assert_int_equal(xfr_bundle_verify_ca(p, good), OFFCA_E_VERIFY);
	assert_non_null(strstr(ut_err_msg(), "not a CA"));
	xfr_bundle_free(b);
	xfr_bundle_free(p);
	free(buf);
	sk_X509_free(good);
}

/* Offset of the n-th section with this tag (0-based), header included. */
static size_t find_section(const unsigned char *buf, size_t len, const char *tag, int nth)
{
	size_t off = 15, n;

	while (off + 8 <= len) {
		n = (size_t)buf[off + 4] << 24 | (size_t)buf[off + 5] << 16 | (size_t)buf[off + 6] << 8 | buf[off + 7];
		if (memcmp(buf + off, tag, 4) == 0 && nth-- == 0)
			return off;
		off += 8 + n;
	}
	fail_msg("section %s not found", tag);
	return 0;
}

static char *find_bytes(unsigned char *hay, size_t n, const char *needle, size_t k)
{
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return (char *)hay + i;
	return NULL;
}

static void test_tampered_item_and_manifest(void **state)
{
	unsigned char *buf = NULL;
	size_t len = 0, off;
	xfr_bundle *p = NULL;
	char *m;

	(void)state;
	for (int sign = 0; sign <= 1; sign++) {
		signed_bundle(&buf, &len, sign);
		/* one byte of the transcript item */
		off = find_section(buf, len, "ITEM", 1);
		buf[off + 8] ^= 0x01;
		assert_int_equal(xfr_bundle_parse(buf, len, &p), OFFCA_E_VERIFY);
		assert_non_null(strstr(ut_err_msg(), "SHA-256"));
		buf[off + 8] ^= 0x01;
		assert_int_equal(xfr_bundle_parse(buf, len, &p), OFFCA_OK);
		xfr_bundle_free(p);
		p = NULL;
		/* the manifest: change the direction out -> in (same length, still canonical) */
		off = find_section(buf, len, "MANI", 0);
		m = find_bytes(buf + off + 8, len - off - 8, "\"out\"", 5);
		assert_non_null(m);
		memcpy(m, "\"in\" ", 5);
		assert_int_not_equal(xfr_bundle_parse(buf, len, &p), OFFCA_OK);
		memcpy(m, "\"zzz\"", 5);
		assert_int_not_equal(xfr_bundle_parse(buf, len, &p), OFFCA_OK);
		free(buf);
	}
	/* signed: a same-length semantic change of the manifest breaks the signature */
	signed_bundle(&buf, &len, 1);
	off = find_section(buf, len, "MANI", 0);
	m = find_bytes(buf + off + 8, len - off - 8, "int-test", 8);
	memcpy(m, "int-TEST", 8);
	assert_int_equal(xfr_bundle_parse(buf, len, &p), OFFCA_E_VERIFY);
	assert_non_null(strstr(ut_err_msg(), "signature"));
	free(buf);
}

static void test_wrong_signer_swapped_cert(void **state)
{
	unsigned char *buf = NULL, *der = NULL, *nbuf;
	size_t len = 0, off, n, nlen;
	int dlen;
	xfr_bundle *p = NULL;

	(void)state;
	signed_bundle(&buf, &len, 1);
	/* replace the signer certificate by another CA's: the signature no longer verifies */
	off = find_section(buf, len, "CERT", 0);
	n = (size_t)buf[off + 4] << 24 | (size_t)buf[off + 5] << 16 | (size_t)buf[off + 6] << 8 | buf[off + 7];
	dlen = i2d_X509(other_root, &der);
	nlen = len - n + (size_t)dlen;
	nbuf = malloc(nlen);
	memcpy(nbuf, buf, off + 4);
	nbuf[off + 4] = (unsigned char)(dlen >> 24);
	nbuf[off + 5] = (unsigned char)(dlen >> 16);
	nbuf[off + 6] = (unsigned char)(dlen >> 8);
	nbuf[off + 7] = (unsigned char)dlen;
	memcpy(nbuf + off + 8, der, (size_t)dlen);
	memcpy(nbuf + off + 8 + dlen, buf + off + 8 + n, len - off - 8 - n);
	assert_int_equal(xfr_bundle_parse(nbuf, nlen, &p), OFFCA_E_VERIFY);
	OPENSSL_free(der);
	free(nbuf);
	free(buf);
}

static void test_every_truncation_and_flip_rejected(void **state)
{
	unsigned char *buf = NULL;
	size_t len = 0, root_from, root_to;
	xfr_bundle *p = NULL;
	STACK_OF(X509) *good = roots_of(root_cert);
	offca_rc rc;

	(void)state;
	signed_bundle(&buf, &len, 1);
	for (size_t cut = 0; cut < len; cut++) {
		rc = xfr_bundle_parse(buf, cut, &p);
		if (rc == OFFCA_OK)
			fail_msg("truncation at %zu of %zu accepted", cut, len);
		assert_null(p);
	}
	/* every single-byte change of the magic, manifest, items, signer certificate or signature is
	   caught by parse or, at the latest, by the CA chain check; a change inside the informational
	   copy of the root (the last CERT section; the trust anchor comes from --ca) may pass, but then
	   the content is exactly the original */
	root_from = find_section(buf, len, "CERT", 1);
	root_to = find_section(buf, len, "SIGN", 0);
	for (size_t i = 0; i < len; i++) {
		buf[i] ^= 0x20;
		rc = xfr_bundle_parse(buf, len, &p);
		if (rc == OFFCA_OK) {
			rc = xfr_bundle_verify_ca(p, good);
			if (rc == OFFCA_OK && (i < root_from || i >= root_to))
				fail_msg("flipping byte %zu of %zu went unnoticed", i, len);
			if (rc == OFFCA_OK)
				assert_memory_equal(xfr_bundle_item(p, 1)->data, "hello\n", 6);
			xfr_bundle_free(p);
			p = NULL;
		}
		buf[i] ^= 0x20;
	}
	/* trailing data */
	buf = realloc(buf, len + 1);
	buf[len] = '\n';
	assert_int_equal(xfr_bundle_parse(buf, len + 1, &p), OFFCA_E_PARSE);
	free(buf);
	sk_X509_free(good);
}

/* A hand-made unsigned bundle with one "other" item and the given manifest text. */
static void craft(const char *manifest, const char *item, size_t declared, unsigned char **out, size_t *len)
{
	size_t ml = strlen(manifest), il = strlen(item);
	unsigned char *p = malloc(15 + 8 + ml + 8 + il + 8);

	memcpy(p, "OFFCA-BUNDLE/1\n", 15);
	memcpy(p + 15, "MANI", 4);
	p[19] = 0; p[20] = (unsigned char)(ml >> 16); p[21] = (unsigned char)(ml >> 8); p[22] = (unsigned char)ml;
	memcpy(p + 23, manifest, ml);
	memcpy(p + 23 + ml, "ITEM", 4);
	p[27 + ml] = (unsigned char)(declared >> 24);
	p[28 + ml] = (unsigned char)(declared >> 16);
	p[29 + ml] = (unsigned char)(declared >> 8);
	p[30 + ml] = (unsigned char)declared;
	memcpy(p + 31 + ml, item, il);
	memcpy(p + 31 + ml + il, "DONE\0\0\0\0", 8);
	*out = p;
	*len = 39 + ml + il;
}

#define HELLO_SHA "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

static void test_hostile_names_and_limits(void **state)
{
	static const char *bad_names[] = {"../../etc/passwd", "/etc/passwd", "a/b", "..", ".hidden",
					  "a\\nb", "a\\u0000b", "", "a\\\\b", "caf\\u00e9"};
	char manifest[1024], name[XFR_MAX_NAME + 1];
	unsigned char *buf = NULL;
	size_t len = 0;
	xfr_bundle *p = NULL;

	(void)state;
	/* the crafted, well-formed base case parses */
	snprintf(manifest, sizeof(manifest), "{\"created\":1,\"direction\":\"in\",\"format\":1,\"issuer\":\"\","
		 "\"items\":[{\"name\":\"ok.txt\",\"sha256\":\"%s\",\"size\":5,\"type\":\"other\"}]}", HELLO_SHA);
	craft(manifest, "hello", 5, &buf, &len);
	assert_int_equal(xfr_bundle_parse(buf, len, &p), OFFCA_OK);
	xfr_bundle_free(p);
	p = NULL;
	free(buf);
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		snprintf(manifest, sizeof(manifest), "{\"created\":1,\"direction\":\"in\",\"format\":1,\"issuer\":\"\","
			 "\"items\":[{\"name\":\"%s\",\"sha256\":\"%s\",\"size\":5,\"type\":\"other\"}]}",
			 bad_names[i], HELLO_SHA);
		craft(manifest, "hello", 5, &buf, &len);
		if (xfr_bundle_parse(buf, len, &p) == OFFCA_OK)
			fail_msg("name '%s' accepted", bad_names[i]);
		free(buf);
	}
	/* unknown field, duplicate key, non-canonical spacing */
	snprintf(manifest, sizeof(manifest), "{\"created\":1,\"direction\":\"in\",\"extra\":1,\"format\":1,"
		 "\"issuer\":\"\",\"items\":[{\"name\":\"a\",\"sha256\":\"%s\",\"size\":5,\"type\":\"other\"}]}", HELLO_SHA);
	craft(manifest, "hello", 5, &buf, &len);
	assert_int_equal(xfr_bundle_parse(buf, len, &p), OFFCA_E_PARSE);
	assert_non_null(strstr(ut_err_msg(), "unknown field"));
	free(buf);
	snprintf(manifest, sizeof(manifest), "{\"created\":1, \"direction\":\"in\",\"format\":1,\"issuer\":\"\","
		 "\"items\":[{\"name\":\"a\",\"sha256\":\"%s\",\"size\":5,\"type\":\"other\"}]}", HELLO_SHA);
	craft(manifest, "hello", 5, &buf, &len);
	assert_int_equal(xfr_bundle_parse(buf, len, &p), OFFCA_E_PARSE);
	free(buf);
	/* an item section that claims more than the per-item maximum: refused before reading */
	snprintf(manifest, sizeof(manifest), "{\"created\":1,\"direction\":\"in\",\"format\":1,\"issuer\":\"\","
		 "\"items\":[{\"name\":\"a\",\"sha256\":\"%s\",\"size\":5,\"type\":\"other\"}]}", HELLO_SHA);
	craft(manifest, "hello", XFR_MAX_ITEM + 1, &buf, &len);
	assert_int_equal(xfr_bundle_parse(buf, len, &p), OFFCA_E_TOO_BIG);
	free(buf);
	/* size in the manifest above the maximum */
	snprintf(manifest, sizeof(manifest), "{\"created\":1,\"direction\":\"in\",\"format\":1,\"issuer\":\"\","
		 "\"items\":[{\"name\":\"a\",\"sha256\":\"%s\",\"size\":99999999999,\"type\":\"other\"}]}", HELLO_SHA);
	craft(manifest, "hello", 5, &buf, &len);
	assert_int_equal(xfr_bundle_parse(buf, len, &p), OFFCA_E_TOO_BIG);
	free(buf);
	/* whole image above the maximum */
	buf = calloc(1, (size_t)XFR_MAX_BUNDLE + 1);
	assert_int_equal(xfr_bundle_parse(buf, (size_t)XFR_MAX_BUNDLE + 1, &p), OFFCA_E_TOO_BIG);
	free(buf);
	/* sanitizer */
	xfr_name_sanitize("../../etc/passwd", name);
	assert_string_equal(name, "passwd");
	xfr_name_sanitize("/abs/dir/", name);
	assert_string_equal(name, "item");
	xfr_name_sanitize("a\nb c;$(x)", name);
	assert_string_equal(name, "a_b_c___x_");
	xfr_name_sanitize("...", name);
	assert_string_equal(name, "item");
	assert_true(xfr_name_valid("www.example.csr"));
	assert_false(xfr_name_valid("../x"));
}

static void test_extract_numbered_names(void **state)
{
	char out[512], path[600];
	unsigned char *buf = NULL;
	size_t len = 0;
	xfr_bundle *p = NULL;
	struct stat st;

	(void)state;
	snprintf(out, sizeof(out), "%s/extract", dir);
	signed_bundle(&buf, &len, 1);
	assert_int_equal(xfr_bundle_parse(buf, len, &p), OFFCA_OK);
	assert_int_equal(xfr_bundle_extract(p, out), OFFCA_OK);
	snprintf(path, sizeof(path), "%s/01-leaf.pem", out);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/02-notes.txt", out);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 6);
	/* never overwrites, and writes nothing when one target exists */
	assert_int_equal(xfr_bundle_extract(p, out), OFFCA_E_EXISTS);
	xfr_bundle_free(p);
	free(buf);
}

static void test_file_rules(void **state)
{
	char path[512], link[512];
	unsigned char *buf = NULL;
	size_t len = 0;
	xfr_bundle *b = NULL, *p = NULL;

	(void)state;
	signed_bundle(&buf, &len, 1);
	snprintf(path, sizeof(path), "%s/b.offca", dir);
	assert_int_equal(ut_write_file(path, buf, len, UT_WF_EXCL), OFFCA_OK);
	assert_int_equal(xfr_bundle_read(path, &p), OFFCA_OK);
	xfr_bundle_free(p);
	snprintf(link, sizeof(link), "%s/link.offca", dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(xfr_bundle_read(link, &p), OFFCA_E_PERM);
	assert_int_not_equal(xfr_bundle_read("/dev/zero", &p), OFFCA_OK);
	/* create refuses symlinks and devices as items, and never overwrites the output */
	assert_int_equal(xfr_bundle_new(XFR_DIR_IN, NULL, &b), OFFCA_OK);
	assert_int_equal(xfr_bundle_add_file(b, link), OFFCA_E_PERM);
	assert_int_not_equal(xfr_bundle_add_file(b, "/dev/null"), OFFCA_OK);
	assert_int_equal(xfr_bundle_add_file(b, path), OFFCA_OK);
	assert_int_equal(xfr_bundle_item(b, 0)->type, XFR_ITEM_OTHER);
	assert_int_equal(xfr_bundle_write(b, path), OFFCA_E_EXISTS);
	xfr_bundle_free(b);
	free(buf);
}

/* Each key type signs and verifies: RSA (PKCS#1 v1.5, SHA-256), Ed25519 (pure), EC by a root. */
static void sign_verify_with(EVP_PKEY *key, X509 *cert, X509 *root)
{
	xfr_bundle *b = NULL, *p = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;
	STACK_OF(X509) *roots = roots_of(root);

	assert_int_equal(xfr_bundle_new(XFR_DIR_OUT, "k", &b), OFFCA_OK);
	assert_int_equal(xfr_bundle_add(b, XFR_ITEM_OTHER, "a", (const unsigned char *)"abc", 3), OFFCA_OK);
	assert_int_equal(xfr_bundle_sign(b, key, cert, NULL), OFFCA_OK);
	assert_int_equal(xfr_bundle_serialize(b, &buf, &len), OFFCA_OK);
	assert_int_equal(xfr_bundle_parse(buf, len, &p), OFFCA_OK);
	assert_int_equal(xfr_bundle_verify_ca(p, roots), OFFCA_OK);
	xfr_bundle_free(p);
	xfr_bundle_free(b);
	free(buf);
	sk_X509_free(roots);
}

static void test_key_types(void **state)
{
	EVP_PKEY *rsa = EVP_RSA_gen(2048), *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	X509 *rsa_ca, *ed_ca;

	(void)state;
	assert_non_null(rsa);
	assert_non_null(ed);
	rsa_ca = make_cert("RSA CA", rsa, root_cert, root_key, 1, 10);
	sign_verify_with(rsa, rsa_ca, root_cert);
	ed_ca = make_cert("Ed25519 CA", ed, root_cert, root_key, 1, 11);
	sign_verify_with(ed, ed_ca, root_cert);
	/* the root itself signs (e.g. a root CRL published after a ceremony) */
	sign_verify_with(root_key, root_cert, root_cert);
	X509_free(rsa_ca);
	X509_free(ed_ca);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed);
}

static void test_operators(void **state)
{
	char home[512], cpath[512], name[XFR_MAX_OPERATOR_NAME + 1], fp[65];
	unsigned char *pem;
	size_t len;

	(void)state;
	snprintf(home, sizeof(home), "%s/home", dir);
	snprintf(cpath, sizeof(cpath), "%s/alice.pem", dir);
	pem = cert_pem(leaf_cert, &len);
	assert_int_equal(ut_write_file(cpath, pem, len, UT_WF_EXCL), OFFCA_OK);
	free(pem);
	assert_int_equal(xfr_operator_match(home, leaf_cert, name), OFFCA_E_VERIFY);
	assert_int_equal(xfr_operator_enroll(home, "../evil", cpath, fp), OFFCA_E_USAGE);
	assert_int_equal(xfr_operator_enroll(home, "alice", cpath, fp), OFFCA_OK);
	assert_int_equal(strlen(fp), 64);
	assert_int_equal(xfr_operator_enroll(home, "alice2", cpath, fp), OFFCA_E_EXISTS);
	assert_int_equal(xfr_operator_match(home, leaf_cert, name), OFFCA_OK);
	assert_string_equal(name, "alice");
	assert_int_equal(xfr_operator_match(home, int_cert, name), OFFCA_E_VERIFY);
	assert_non_null(strstr(ut_err_msg(), "not an enrolled operator"));
}

static void test_key_and_cert_files(void **state)
{
	char kpath[512], ppath[512], cpath[512];
	EVP_PKEY *k = NULL;
	STACK_OF(X509) *sk = NULL;
	FILE *f;
	unsigned char *pem;
	size_t len;

	(void)state;
	snprintf(kpath, sizeof(kpath), "%s/op.key", dir);
	snprintf(ppath, sizeof(ppath), "%s/op.pass", dir);
	snprintf(cpath, sizeof(cpath), "%s/chain.pem", dir);
	f = fopen(kpath, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, leaf_key, EVP_aes_256_cbc(), (unsigned char *)"s3cret", 6, NULL,
					      NULL), 1);
	fclose(f);
	assert_int_equal(ut_write_file(ppath, "wrong\n", 6, UT_WF_SECRET), OFFCA_OK);
	assert_int_not_equal(xfr_key_file_load(kpath, ppath, &k), OFFCA_OK);
	assert_null(k);
	unlink(ppath);
	assert_int_equal(ut_write_file(ppath, "s3cret\n", 7, UT_WF_SECRET), OFFCA_OK);
	assert_int_equal(xfr_key_file_load(kpath, ppath, &k), OFFCA_OK);
	assert_int_equal(EVP_PKEY_eq(k, leaf_key), 1);
	EVP_PKEY_free(k);
	/* a passphrase file others can read is refused */
	chmod(ppath, 0644);
	assert_int_equal(xfr_key_file_load(kpath, ppath, &k), OFFCA_E_PERM);
	/* certificate files: PEM with several, the first is the signer */
	pem = cert_pem(int_cert, &len);
	assert_int_equal(ut_write_file(cpath, pem, len, UT_WF_EXCL), OFFCA_OK);
	free(pem);
	assert_int_equal(xfr_certs_load(cpath, &sk), OFFCA_OK);
	assert_int_equal(sk_X509_num(sk), 1);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 0), int_cert), 0);
	sk_X509_pop_free(sk, X509_free);
	assert_int_equal(xfr_certs_load(kpath, &sk), OFFCA_E_PARSE);
	assert_null(sk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_unsigned),
		cmocka_unit_test(test_item_checks_and_guess),
		cmocka_unit_test(test_signed_verify_ca),
		cmocka_unit_test(test_signer_must_be_ca_and_match_key),
		cmocka_unit_test(test_tampered_item_and_manifest),
		cmocka_unit_test(test_wrong_signer_swapped_cert),
		cmocka_unit_test(test_every_truncation_and_flip_rejected),
		cmocka_unit_test(test_hostile_names_and_limits),
		cmocka_unit_test(test_extract_numbered_names),
		cmocka_unit_test(test_file_rules),
		cmocka_unit_test(test_key_types),
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_key_and_cert_files),
	};
	int rc;

	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	rc = cmocka_run_group_tests(tests, setup, teardown);
	tu_rmrf(dir);
	return rc;
}
