/* test_inventory.c - the inventory writers' text helpers (inv_int.h, inv_report.h): the CN of an
   RFC 2253 name with its escapes undone, key URIs without their pin- attributes, RFC 3339 times,
   HTML escaping, and the metrics file's atomic replacement (no temporary file left). */
#include "testutil.h"

#include <dirent.h>

#include "inv_report.h"
#include "offca/util.h"

static void test_cn(void **state)
{
	char b[64];

	(void)state;
	inv_cn_of("CN=h1.example,O=Example", b, sizeof(b));
	assert_string_equal(b, "h1.example");
	inv_cn_of("O=x,CN=a\\,b\\+c", b, sizeof(b));
	assert_string_equal(b, "a,b+c");
	inv_cn_of("CN=\\<script\\>alert(1)\\</script\\>", b, sizeof(b));
	assert_string_equal(b, "<script>alert(1)</script>");
	inv_cn_of("CN=caf\\C3\\A9", b, sizeof(b));
	assert_string_equal(b, "caf\xc3\xa9");
	inv_cn_of("O=no common name,OU=CN=fake", b, sizeof(b)); /* "CN=" inside a value is not an attribute */
	assert_string_equal(b, "");
	inv_cn_of("CN=a+O=b", b, sizeof(b));
	assert_string_equal(b, "a");
	inv_cn_of("CN=0123456789abcdef0123456789", b, 8); /* cut to fit */
	assert_string_equal(b, "0123456");
	inv_cn_of(NULL, b, sizeof(b));
	assert_string_equal(b, "");
}

static void test_uri_redact(void **state)
{
	char b[256];

	(void)state;
	inv_uri_redact("pkcs11:token=ca;object=root;pin-source=file:/secret/pin", b, sizeof(b));
	assert_string_equal(b, "pkcs11:token=ca;object=root");
	inv_uri_redact("pkcs11:token=ca;object=root?pin-source=file:/p&module-path=/m.so", b, sizeof(b));
	assert_string_equal(b, "pkcs11:token=ca;object=root&module-path=/m.so");
	inv_uri_redact("pkcs11:pin-value=1234;token=ca", b, sizeof(b));
	assert_string_equal(b, "pkcs11:;token=ca");
	inv_uri_redact("pkcs11:token=ca?pin-value=1234", b, sizeof(b));
	assert_null(strstr(b, "1234"));
	inv_uri_redact("", b, sizeof(b));
	assert_string_equal(b, "");
}

static void test_time_and_escape(void **state)
{
	char b[32], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	inv_time(0, b, sizeof(b));
	assert_string_equal(b, "1970-01-01T00:00:00Z");
	inv_time(1796643175, b, sizeof(b));
	assert_string_equal(b, "2026-12-07T11:32:55Z");
	assert_non_null(f);
	rep_esc(f, "<script>\"a\" & 'b'</script>");
	fclose(f);
	assert_string_equal(buf, "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;");
	free(buf);
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_metrics_atomic(void **state)
{
	char *dir = strdup(tu_tmpdir()), home[600], out[600], path[700];
	ca_store *st = NULL;
	ca_inv_counts c;
	unsigned char *buf = NULL;
	size_t len = 0;

	(void)state;
	snprintf(home, sizeof(home), "%s/home", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	assert_int_equal(mkdir(out, 0700), 0);
	assert_int_equal(ca_store_open(home, 1, &st), OFFCA_OK);
	assert_int_equal(ca_inv_metrics_write(st, out, 1796643175, 30, &c), OFFCA_OK);
	assert_int_equal(c.certs, 0);
	assert_int_equal(ca_inv_metrics_write(st, out, 1796643175, 30, &c), OFFCA_OK); /* replaced */
	assert_int_equal(entries(out), 1);
	snprintf(path, sizeof(path), "%s/offca.prom", out);
	assert_int_equal(ut_read_file(path, 1u << 20, 1, &buf, &len), OFFCA_OK);
	assert_non_null(strstr((char *)buf, "\noffca_pending_csrs 0\n"));
	assert_non_null(strstr((char *)buf, "offca_metrics_generated_timestamp_seconds 1796643175\n"));
	free(buf);
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(ca_inv_metrics_write(st, path, 1796643175, 30, &c), OFFCA_E_NOT_FOUND);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cn),
		cmocka_unit_test(test_uri_redact),
		cmocka_unit_test(test_time_and_escape),
		cmocka_unit_test(test_metrics_atomic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
