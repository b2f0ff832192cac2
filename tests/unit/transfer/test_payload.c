/*
 * test_payload.c - payload types: detection, PEM to DER, the checks run before anything decoded
 * is written (truncated, tampered, wrong type), and PEM output. Inputs are made by openssl.
 */
#include "testutil.h"

#include "offca/payload.h"
#include "offca/util.h"

static char dir[256];

static int setup(void **state)
{
	char cmd[2048];

	(void)state;
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	snprintf(cmd, sizeof(cmd),
		 "cd %s && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k.pem "
		 "-subj /CN=p.example -addext subjectAltName=DNS:p.example -out csr.pem 2>/dev/null && "
		 "openssl req -in csr.pem -outform DER -out csr.der && "
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key "
		 "-subj /CN=ca -days 2 -out ca.pem 2>/dev/null && "
		 "openssl x509 -req -in csr.pem -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -out leaf.pem 2>/dev/null && "
		 "cat leaf.pem ca.pem > chain.pem && openssl x509 -in leaf.pem -outform DER -out leaf.der && "
		 "printf 'CN=x\\n' >/dev/null && mkdir -p db && : > db/index.txt && echo 01 > db/crlnumber && "
		 "printf '[ca]\\ndefault_ca=c\\n[c]\\ndatabase=db/index.txt\\ncrlnumber=db/crlnumber\\n"
		 "default_md=sha256\\ndefault_crl_days=1\\n' > ca.cnf && "
		 "openssl ca -batch -config ca.cnf -gencrl -keyfile ca.key -cert ca.pem -out crl.pem 2>/dev/null",
		 dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmrf(dir);
	return 0;
}

static unsigned char *rd(const char *name, size_t *len)
{
	char p[512];
	unsigned char *b = NULL;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(ut_read_file(p, 1u << 20, 0, &b, len), OFFCA_OK);
	return b;
}

static void test_names(void **state)
{
	xfr_payload_type t;

	(void)state;
	assert_int_equal(xfr_payload_type_parse("csr", &t), OFFCA_OK);
	assert_int_equal(t, XFR_PL_CSR);
	assert_int_equal(xfr_payload_type_parse("offca-chain", &t), OFFCA_OK);
	assert_int_equal(t, XFR_PL_CHAIN);
	assert_int_equal(xfr_payload_type_parse("certificate", &t), OFFCA_OK);
	assert_int_equal(t, XFR_PL_CERT);
	assert_int_equal(xfr_payload_type_parse("pkcs12", &t), OFFCA_E_USAGE);
	assert_int_equal(xfr_payload_type_from_ur("offca-crl", &t), OFFCA_OK);
	assert_int_equal(t, XFR_PL_CRL);
	assert_int_equal(xfr_payload_type_from_ur("crypto-psbt", &t), OFFCA_E_PARSE);
	assert_string_equal(xfr_payload_ur_type(XFR_PL_BUNDLE), "offca-bundle");
	assert_string_equal(xfr_payload_ur_type(XFR_PL_BYTES), "bytes");
}

static void prep_expect(const char *file, xfr_payload_type want_type, const char *want_der)
{
	size_t len, dlen, wlen;
	unsigned char *in = rd(file, &len), *der = NULL, *w = want_der ? rd(want_der, &wlen) : NULL;
	xfr_payload_type t;

	assert_int_equal(xfr_payload_prepare(in, len, NULL, &t, &der, &dlen), OFFCA_OK);
	assert_int_equal(t, want_type);
	if (w != NULL) {
		assert_int_equal(dlen, wlen);
		assert_memory_equal(der, w, wlen);
	}
	free(in);
	free(der);
	free(w);
}

static void test_detect_and_convert(void **state)
{
	(void)state;
	prep_expect("csr.pem", XFR_PL_CSR, "csr.der");
	prep_expect("csr.der", XFR_PL_CSR, "csr.der");
	prep_expect("leaf.pem", XFR_PL_CERT, "leaf.der");
	prep_expect("leaf.der", XFR_PL_CERT, "leaf.der");
	prep_expect("chain.pem", XFR_PL_CHAIN, NULL);
	prep_expect("crl.pem", XFR_PL_CRL, NULL);
}

static void test_chain_pem_roundtrip(void **state)
{
	size_t len, dlen, plen;
	unsigned char *in = rd("chain.pem", &len), *der = NULL;
	xfr_payload_type t;
	char *pem = NULL;

	(void)state;
	assert_int_equal(xfr_payload_prepare(in, len, NULL, &t, &der, &dlen), OFFCA_OK);
	assert_int_equal(xfr_payload_check(XFR_PL_CHAIN, der, dlen), OFFCA_OK);
	assert_int_equal(xfr_payload_check(XFR_PL_CERT, der, dlen), OFFCA_E_PARSE); /* two certificates */
	assert_int_equal(xfr_payload_pem(XFR_PL_CHAIN, der, dlen, &pem, &plen), OFFCA_OK);
	assert_int_equal(plen, len);
	assert_memory_equal(pem, in, len);
	free(pem);
	assert_int_equal(xfr_payload_pem(XFR_PL_BYTES, der, dlen, &pem, &plen), OFFCA_E_USAGE);
	free(der);
	free(in);
}

static void test_checks_refuse(void **state)
{
	size_t len, clen;
	unsigned char *csr = rd("csr.der", &clen), *cert = rd("leaf.der", &len);

	(void)state;
	/* truncated */
	assert_int_not_equal(xfr_payload_check(XFR_PL_CSR, csr, clen - 1), OFFCA_OK);
	assert_int_equal(xfr_payload_check(XFR_PL_CERT, cert, len - 1), OFFCA_E_PARSE);
	/* trailing garbage */
	{
		unsigned char *x = malloc(len + 1);

		memcpy(x, cert, len);
		x[len] = 0;
		assert_int_equal(xfr_payload_check(XFR_PL_CERT, x, len + 1), OFFCA_E_PARSE);
		free(x);
	}
	/* tampered CSR signature: core's intake refuses it */
	csr[clen - 3] ^= 0x01;
	assert_int_not_equal(xfr_payload_check(XFR_PL_CSR, csr, clen), OFFCA_OK);
	/* wrong type */
	assert_int_equal(xfr_payload_check(XFR_PL_CRL, cert, len), OFFCA_E_PARSE);
	assert_int_not_equal(xfr_payload_check(XFR_PL_CSR, cert, len), OFFCA_OK);
	assert_int_equal(xfr_payload_check(XFR_PL_BUNDLE, cert, len), OFFCA_E_PARSE);
	assert_int_equal(xfr_payload_check(XFR_PL_BUNDLE, (const unsigned char *)"OFFCA-BUNDLE/1\nxx", 17), OFFCA_OK);
	assert_int_equal(xfr_payload_check(XFR_PL_BYTES, cert, len), OFFCA_OK);
	assert_int_equal(xfr_payload_check(XFR_PL_BYTES, cert, 0), OFFCA_E_PARSE);
	free(csr);
	free(cert);
}

static void test_undetectable(void **state)
{
	const unsigned char junk[] = "just some text, no PEM here";
	xfr_payload_type t, want = XFR_PL_BYTES;
	unsigned char *out = NULL;
	size_t n;

	(void)state;
	assert_int_equal(xfr_payload_prepare(junk, sizeof(junk) - 1, NULL, &t, &out, &n), OFFCA_E_PARSE);
	assert_null(out);
	assert_int_equal(xfr_payload_prepare(junk, sizeof(junk) - 1, &want, &t, &out, &n), OFFCA_OK);
	assert_int_equal(n, sizeof(junk) - 1);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_detect_and_convert),
		cmocka_unit_test(test_chain_pem_roundtrip),
		cmocka_unit_test(test_checks_refuse),
		cmocka_unit_test(test_undetectable),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
