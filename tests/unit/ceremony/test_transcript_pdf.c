/*
 * Unit tests for the transcript PDF: the text a reader sees (pdftotext), page breaks (pdfinfo),
 * and the QR code on the rendered first page (pdftoppm + zbarimg) carrying the final hash.
 */
#include "test_transcript_fixture.h"

#include "transcript_int.h"
#include "offca/ceremony.h"

/* fontconfig keeps its configuration and caches for the life of the process (reachable only
 * through its own globals): not a leak of ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libfontconfig\n";
}

static char dir[256];
static EVP_PKEY *eckey, *edkey;
static X509 *eccert;

static int have(const char *tool)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

/* Run a shell command and return its stdout (caller frees). */
static char *run(const char *cmd)
{
	char *out = NULL;
	size_t len = 0, n;
	char buf[4096];
	FILE *p, *m;

	p = popen(cmd, "r");
	assert_non_null(p);
	m = open_memstream(&out, &len);
	assert_non_null(m);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		fwrite(buf, 1, n, m);
	fclose(m);
	assert_int_equal(pclose(p), 0);
	return out;
}

static int setup(void **state)
{
	(void)state;
	if (!have("pdftotext") || !have("pdftoppm") || !have("zbarimg") || !have("pdfinfo")) {
		fprintf(stderr, "poppler-utils or zbar-tools missing\n");
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	if (chdir(dir) != 0)
		return -1;
	eckey = fx_key("ec");
	edkey = fx_key("ed25519");
	eccert = fx_cert(eckey, "Example Root CA 2026");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(eckey);
	EVP_PKEY_free(edkey);
	X509_free(eccert);
	if (chdir("/") != 0)
		return -1;
	if (getenv("OFFCA_KEEP_TMP") == NULL)
		tu_rmrf(dir);
	return 0;
}

/* Squeeze runs of white space so the checks do not depend on pdftotext's layout. */
static void squeeze(char *s)
{
	char *w = s;
	int sp = 0;

	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\f') {
			sp = 1;
			continue;
		}
		if (sp && w != s)
			*w++ = ' ';
		sp = 0;
		*w++ = *s;
	}
	*w = '\0';
}

/* A ceremony-like transcript with n filler steps and two signatures. */
static void build(const char *path, int n)
{
	cer_transcript *t = NULL;
	json_t *ops, *d;
	char step[16], subj[128];
	int i;

	fx_write("ceremony.yaml", "type: root-key\nlabel: root-2026\n");
	fx_write("root.pem", "-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n");
	unlink(path);
	fx_ok(cer_transcript_create(path, "Example Root CA 2026", "ceremony.yaml", &t));
	ops = json_pack("{s:s,s:[s,s]}", "administrator", "Alice Admin", "witnesses", "Bob Witness", "Carol Witness");
	fx_ok(cer_transcript_append(t, "", "operators", ops));
	json_decref(ops);
	d = json_pack("{s:s,s:s}", "confirmed", "2026-11-25T15:00:00Z", "clock", "2026-11-25T15:00:03Z");
	fx_ok(cer_transcript_append(t, "", "time-confirmed", d));
	json_decref(d);
	d = json_pack("{s:s,s:s}", "prompt", "Generate the root key on token root-2026?", "answer", "yes");
	fx_ok(cer_transcript_append(t, "1", "confirm", d));
	json_decref(d);
	for (i = 0; i < n; i++) {
		snprintf(step, sizeof(step), "%d", 2 + i / 3);
		snprintf(subj, sizeof(subj), "CN=host%03d.example.net, O=Example Corp, C=DE", i);
		d = json_pack("{s:s,s:[s,s],s:s}", "subject", subj, "sans", "DNS:www.example.net",
			      "DNS:a-rather-long-subject-alternative-name.internal.example.net", "decision", "approved");
		fx_ok(cer_transcript_append(t, step, "csr-approved", d));
		json_decref(d);
	}
	fx_ok(cer_transcript_add_output(t, "1", "root.pem"));
	fx_ok(cer_transcript_add_output(t, "1", "ceremony.yaml"));
	fx_ok(cer_transcript_finish(t, "completed", NULL));
	fx_ok(cer_transcript_sign(t, "ceremony-key", eckey, eckey, eccert));
	fx_ok(cer_transcript_sign(t, "officer:bob", edkey, edkey, NULL));
	cer_transcript_free(t);
}

static void test_pdf_content_and_qr(void **state)
{
	static const char *const want[] = {
		"Key ceremony transcript", "Example Root CA 2026", "ceremony.yaml", "Status completed",
		"operators", "confirm", "Generate the root key on token root-2026?", "root.pem", "time-confirmed",
		"Administrator \xe2\x80\x94 Alice Admin", "Witness \xe2\x80\x94 Bob Witness",
		"Witness \xe2\x80\x94 Carol Witness", "ceremony-key", "officer:bob", "ecdsa-sha256", "ed25519",
		"CN=Example Root CA 2026", "Page 1 of 2", NULL};
	cer_verify_result r;
	unsigned char h[32];
	uint64_t size;
	char *text, *qr, *hex, grouped[CER_FP_LEN];
	int i;

	(void)state;
	build("p.jsonl", 3);
	fx_ok(cer_transcript_verify("p.jsonl", NULL, 1, eccert, &r));
	fx_ok(cer_transcript_pdf("p.jsonl", "p.pdf"));
	assert_int_equal(cer_transcript_pdf("p.jsonl", "p.pdf"), OFFCA_E_EXISTS);

	text = run("pdftotext -layout -enc UTF-8 p.pdf -");
	squeeze(text);
	for (i = 0; want[i] != NULL; i++) {
		if (strstr(text, want[i]) == NULL)
			fail_msg("PDF text lacks \"%s\":\n%s", want[i], text);
	}
	/* the output's fingerprint as printed: the first 16 bytes grouped "75BA 1446 ..." on one line */
	fx_ok(cer_tr_sha256_file("root.pem", h, &size));
	cer_hex_grouped(h, 16, grouped, sizeof(grouped));
	if (strstr(text, grouped) == NULL)
		fail_msg("PDF text lacks the root.pem fingerprint %s", grouped);
	hex = ut_hex(r.head, 32);
	cer_hex_grouped(r.head, 16, grouped, sizeof(grouped));
	assert_non_null(strstr(text, grouped));
	free(text);

	/* render the first page and read the QR code back */
	qr = run("pdftoppm -r 150 -png -f 1 -l 1 -singlefile p.pdf page1 && zbarimg -q --raw -Sdisable -Sqrcode.enable page1.png 2>/dev/null");
	qr[strcspn(qr, "\n")] = '\0';
	assert_string_equal(qr, hex);
	free(qr);
	free(hex);
}

static void test_pdf_long_transcript_breaks_pages(void **state)
{
	char *info, *text;
	int pages = 0;
	const char *p;

	(void)state;
	build("long.jsonl", 150);
	fx_ok(cer_transcript_pdf("long.jsonl", "long.pdf"));
	info = run("pdfinfo long.pdf");
	p = strstr(info, "Pages:");
	assert_non_null(p);
	pages = atoi(p + 6);
	assert_true(pages >= 4);
	free(info);
	text = run("pdftotext -enc UTF-8 long.pdf -");
	squeeze(text);
	assert_non_null(strstr(text, "host149.example.net"));
	assert_non_null(strstr(text, "Witness \xe2\x80\x94 Carol Witness"));
	free(text);
}

static void test_pdf_refuses_tampered(void **state)
{
	char *buf;
	size_t len;

	(void)state;
	build("bad.jsonl", 1);
	buf = fx_slurp("bad.jsonl", &len);
	buf[len / 2] ^= 0x02;
	fx_put("bad-edit.jsonl", buf, len);
	free(buf);
	assert_int_equal(cer_transcript_pdf("bad-edit.jsonl", "bad.pdf"), OFFCA_E_VERIFY);
	assert_int_equal(ut_path_exists("bad.pdf"), OFFCA_E_NOT_FOUND);
}

/* Non-ASCII names, long names and a long reason: cut on character boundaries, never broken. */
static void test_pdf_unicode_and_long_fields(void **state)
{
	static const char name[] = "Racine de confiance \xe2\x80\x94 Soci\xc3\xa9t\xc3\xa9 G\xc3\xa9n\xc3\xa9rale "
				   "d'\xc3\x89tudes Num\xc3\xa9riques \xc3\x86\xc3\x98\xc3\x85 2026 \xe6\xa0\xb9\xe8\xaf\x81"
				   "\xe4\xb9\xa6 \xe2\x80\x94 a deliberately long ceremony name to overflow every line";
	char longstep[200], reason[600], *text;
	cer_transcript *t = NULL;
	json_t *ops;
	size_t i;

	(void)state;
	memset(longstep, 0, sizeof(longstep));
	for (i = 0; i + 2 < sizeof(longstep) - 1; i += 2)
		memcpy(longstep + i, "\xc3\xa9", 2);
	memset(reason, 0, sizeof(reason));
	for (i = 0; i + 3 < sizeof(reason) - 1; i += 3)
		memcpy(reason + i, "\xe2\x82\xac", 3);
	unlink("u.jsonl");
	fx_ok(cer_transcript_create("u.jsonl", name, NULL, &t));
	ops = json_pack("{s:s,s:[s]}", "administrator", "Zo\xc3\xab \xc3\x98rsted", "witnesses",
			"\xe7\x8e\x8b\xe5\xb0\x8f\xe6\x98\x8e");
	fx_ok(cer_transcript_append(t, "", "operators", ops));
	json_decref(ops);
	fx_ok(cer_transcript_append(t, longstep, longstep, NULL));
	fx_ok(cer_transcript_finish(t, "aborted", reason));
	cer_transcript_free(t);
	fx_ok(cer_transcript_pdf("u.jsonl", "u.pdf"));
	text = run("pdftotext -layout -enc UTF-8 u.pdf -");
	squeeze(text);
	assert_non_null(strstr(text, "Zo\xc3\xab \xc3\x98rsted"));
	assert_non_null(strstr(text, "Witness \xe2\x80\x94 \xe7\x8e\x8b\xe5\xb0\x8f\xe6\x98\x8e"));
	assert_non_null(strstr(text, "Soci\xc3\xa9t\xc3\xa9 G\xc3\xa9n\xc3\xa9rale"));
	assert_non_null(strstr(text, "aborted: \xe2\x82\xac\xe2\x82\xac"));
	assert_non_null(strstr(text, "carries no signature"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pdf_content_and_qr),
		cmocka_unit_test(test_pdf_long_transcript_breaks_pages),
		cmocka_unit_test(test_pdf_refuses_tampered),
		cmocka_unit_test(test_pdf_unicode_and_long_fields),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
