/* test_dn.c - subjects typed by the operator: RFC 4514 ("CN=x,O=y", most specific first, DER order
   reversed) and OpenSSL's slash form ("/O=y/CN=x", DER order) give the same name, and the one
   display convention (ca_x509_name_text, what offca list/show print) gives back what was typed. */
#include "testutil.h"

#include "offca/util.h"
#include "offca/x509.h"

#include <openssl/objects.h>

/* Short name of the DER-order entry i. */
static const char *entry_sn(const X509_NAME *n, int i)
{
	return OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(n, i))));
}

static void entry_value(const X509_NAME *n, int i, char *buf, size_t cap)
{
	const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
	size_t len = (size_t)ASN1_STRING_length(s);

	assert_true(len < cap);
	memcpy(buf, ASN1_STRING_get0_data(s), len);
	buf[len] = '\0';
}

/* text as openssl x509 -nameopt RFC2253 prints it (with UTF-8 kept) */
static void text_of(const char *dn, char *buf, size_t cap)
{
	X509_NAME *n = NULL;

	assert_int_equal(ca_x509_parse_dn(dn, &n), OFFCA_OK);
	assert_int_equal(ca_x509_name_text(n, buf, cap), OFFCA_OK);
	X509_NAME_free(n);
}

static void test_der_order(void **state)
{
	X509_NAME *a = NULL, *b = NULL, *c = NULL;
	char v[64];

	(void)state;
	assert_int_equal(ca_x509_parse_dn("CN=x,OU=u,O=y,C=DE", &a), OFFCA_OK);
	assert_int_equal(X509_NAME_entry_count(a), 4);
	assert_string_equal(entry_sn(a, 0), "C"); /* DER: least specific first */
	assert_string_equal(entry_sn(a, 1), "O");
	assert_string_equal(entry_sn(a, 2), "OU");
	assert_string_equal(entry_sn(a, 3), "CN");
	entry_value(a, 3, v, sizeof(v));
	assert_string_equal(v, "x");
	/* each RDN is its own set (no accidental multi-valued RDN from inserting at the front) */
	for (int i = 0; i < 4; i++)
		assert_int_equal(X509_NAME_ENTRY_set(X509_NAME_get_entry(a, i)), i);
	assert_int_equal(ca_x509_parse_dn("/C=DE/O=y/OU=u/CN=x", &b), OFFCA_OK);
	assert_int_equal(X509_NAME_cmp(a, b), 0);
	/* the slash form is taken in DER order as typed, like openssl req -subj */
	assert_int_equal(ca_x509_parse_dn("/CN=x/O=y", &c), OFFCA_OK);
	assert_string_equal(entry_sn(c, 0), "CN");
	assert_string_equal(entry_sn(c, 1), "O");
	X509_NAME_free(a);
	X509_NAME_free(b);
	X509_NAME_free(c);
}

static void test_roundtrip(void **state)
{
	static const char *const same[] = {
		"CN=x,O=y",
		"CN=E2E Intermediate,O=offca tests",
		"CN=Example Corp Issuing CA 2026,O=Example Corp,C=DE",
		"CN=host,OU=Ops,OU=Infra,O=Example,L=Berlin,ST=Berlin,C=DE",
		"CN=www,DC=example,DC=com",
		"CN=M\xc3\xbcller,O=Stra\xc3\x9f" "e", /* UTF-8 kept, not escaped */
		"CN=a\\,b,O=x\\+y",
		"CN=\\#hash,O=y",
		"serialNumber=1234,CN=device",
		NULL,
	};
	char buf[512];

	(void)state;
	for (size_t i = 0; same[i] != NULL; i++) {
		text_of(same[i], buf, sizeof(buf));
		assert_string_equal(buf, same[i]);
	}
	text_of("/O=y/CN=x", buf, sizeof(buf));
	assert_string_equal(buf, "CN=x,O=y");
	text_of("/CN=x/O=y", buf, sizeof(buf));
	assert_string_equal(buf, "O=y,CN=x");
	text_of("CN=x, O=y", buf, sizeof(buf)); /* a space after the comma is not part of the name */
	assert_string_equal(buf, "CN=x,O=y");
	text_of("cn=x,o=y,SerialNumber=7", buf, sizeof(buf)); /* attribute types are case-insensitive */
	assert_string_equal(buf, "CN=x,O=y,serialNumber=7");
	text_of("CN=\\41bc,O=y", buf, sizeof(buf)); /* RFC 4514 hex pair */
	assert_string_equal(buf, "CN=Abc,O=y");
	text_of("/O=a,b/CN=x", buf, sizeof(buf)); /* a comma inside the slash form is data */
	assert_string_equal(buf, "CN=x,O=a\\,b");
}

static void test_refusals(void **state)
{
	X509_NAME *n = NULL;
	char small[8];

	(void)state;
	assert_int_equal(ca_x509_parse_dn("", &n), OFFCA_E_USAGE);
	assert_int_equal(ca_x509_parse_dn("CN=x,XX=bad", &n), OFFCA_E_USAGE);
	assert_non_null(strstr(ut_err_msg(), "'XX' not allowed"));
	assert_int_equal(ca_x509_parse_dn("CN=", &n), OFFCA_E_USAGE);
	assert_int_equal(ca_x509_parse_dn("CN", &n), OFFCA_E_USAGE);
	assert_int_equal(ca_x509_parse_dn("CN=x,", &n), OFFCA_E_USAGE);
	assert_int_equal(ca_x509_parse_dn("CN=x,,O=y", &n), OFFCA_E_USAGE);
	assert_int_equal(ca_x509_parse_dn("CN=a+UID=b", &n), OFFCA_E_USAGE);
	assert_non_null(strstr(ut_err_msg(), "multi-valued"));
	assert_int_equal(ca_x509_parse_dn("CN=a\\00b", &n), OFFCA_E_USAGE);
	assert_int_equal(ca_x509_parse_dn("C=DEU", &n), OFFCA_E_USAGE); /* country is 2 letters */
	assert_null(n);
	/* display into a too small buffer: cut, never past the buffer, and said so */
	assert_int_equal(ca_x509_parse_dn("CN=M\xc3\xbc\xc3\xbc\xc3\xbc", &n), OFFCA_OK);
	assert_int_equal(ca_x509_name_text(n, small, sizeof(small)), OFFCA_E_TOO_BIG);
	assert_string_equal(small, "CN=M\xc3\xbc"); /* not half a UTF-8 sequence */
	X509_NAME_free(n);
	assert_int_equal(ca_x509_name_text(NULL, small, sizeof(small)), OFFCA_OK);
	assert_string_equal(small, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_der_order),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
