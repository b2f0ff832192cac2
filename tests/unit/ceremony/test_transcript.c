/* Unit tests for the ceremony transcript: chain, signatures, refusals, tamper detection, outputs. */
#include "test_transcript_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "transcript_int.h"

static char dir[256];
static EVP_PKEY *eckey, *rsakey, *edkey, *otherkey;
static X509 *eccert, *othercert;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	if (chdir(dir) != 0)
		return -1;
	eckey = fx_key("ec");
	rsakey = fx_key("rsa");
	edkey = fx_key("ed25519");
	otherkey = fx_key("ec384");
	eccert = fx_cert(eckey, "Example Root CA 2026");
	othercert = fx_cert(otherkey, "Someone else");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(eckey);
	EVP_PKEY_free(rsakey);
	EVP_PKEY_free(edkey);
	EVP_PKEY_free(otherkey);
	X509_free(eccert);
	X509_free(othercert);
	if (chdir("/") != 0)
		return -1;
	tu_rmrf(dir);
	return 0;
}

static void test_roundtrip(void **state)
{
	cer_verify_result r;
	cer_transcript *t = NULL;
	unsigned char head[32];
	static const char prefix[] = "{\"data\":{\"ceremony\":\"Example Root CA 2026\",\"ceremony_file\":"
				     "\"ceremony.yaml\",\"ceremony_sha256\":\"";
	char *buf, *line2;
	size_t len;

	(void)state;
	fx_sample("t1.jsonl", NULL, NULL);
	/* reopen-free flow with three signatures of three key types */
	unlink("t2.jsonl");
	assert_int_equal(cer_transcript_create("t2.jsonl", "Quorum test", NULL, &t), OFFCA_OK);
	assert_int_equal(cer_transcript_add_output(t, "2", "root.pem"), OFFCA_OK);
	assert_int_equal(cer_transcript_sign(t, "officer:alice", rsakey, rsakey, NULL), OFFCA_OK);
	assert_int_equal(cer_transcript_finish(t, "completed", NULL), OFFCA_OK);
	assert_int_equal(cer_transcript_sign(t, "ceremony-key", eckey, eckey, eccert), OFFCA_OK);
	assert_int_equal(cer_transcript_sign(t, "officer:bob", edkey, edkey, NULL), OFFCA_OK);
	assert_int_equal(cer_transcript_sign(t, "officer:carol", otherkey, otherkey, othercert), OFFCA_OK);
	assert_int_equal(cer_transcript_head(t, head), OFFCA_OK);
	cer_transcript_free(t);

	fx_ok(cer_transcript_verify("t2.jsonl", dir, 1, eccert, &r));
	assert_int_equal(r.entries, 7);
	assert_int_equal(r.signatures, 4);
	assert_int_equal(r.outputs_checked, 1);
	assert_string_equal(r.status, "completed");
	assert_string_equal(r.ceremony, "Quorum test");
	assert_int_equal(r.sealed, 1);
	assert_memory_equal(r.head, head, 32);

	/* the format: canonical lines, seq from 1, zero prev for the first entry */
	buf = fx_slurp("t1.jsonl", &len);
	assert_true(strncmp(buf, prefix, strlen(prefix)) == 0);
	assert_non_null(strstr(buf, "\"offca_version\":\"" OFFCA_VERSION "\""));
	assert_non_null(strstr(buf, "\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\""));
	line2 = buf + strcspn(buf, "\n") + 1; /* not strchr: GCC 12 -O2 -Wdangling-pointer misfires on it here */
	assert_true(strncmp(line2, "{\"data\":{\"administrator\":\"Alice Admin\"", 38) == 0);
	assert_int_equal(buf[len - 1], '\n');
	free(buf);
	fx_ok(cer_transcript_verify("t1.jsonl", NULL, 1, NULL, &r));
	assert_int_equal(r.entries, 5);
	assert_int_equal(r.signatures, 0);
	assert_int_equal(r.sealed, 0);
	/* unsigned: a trusted key cannot be found */
	assert_int_equal(cer_transcript_verify("t1.jsonl", NULL, 0, eccert, &r), OFFCA_E_VERIFY);
	assert_non_null(strstr(ut_err_msg(), "no signature made with the trusted"));
}

static void test_never_overwrites(void **state)
{
	cer_transcript *t = NULL;
	char *buf;
	size_t len;

	(void)state;
	fx_write("exists.jsonl", "keep me\n");
	assert_int_equal(cer_transcript_create("exists.jsonl", "x", NULL, &t), OFFCA_E_EXISTS);
	assert_null(t);
	buf = fx_slurp("exists.jsonl", &len);
	assert_string_equal(buf, "keep me\n");
	free(buf);
	/* a missing ceremony file leaves no transcript behind */
	assert_int_equal(cer_transcript_create("new.jsonl", "x", "no-such.yaml", &t), OFFCA_E_NOT_FOUND);
	assert_int_equal(ut_path_exists("new.jsonl"), OFFCA_E_NOT_FOUND);
}

static void test_refuses_secrets(void **state)
{
	static const char *const bad[] = {
		"{\"pin\":\"123456\"}", "{\"SO-PIN\":\"x\"}", "{\"user_pin\":\"x\"}", "{\"Password\":\"x\"}",
		"{\"a\":{\"b\":[{\"passphrase\":\"x\"}]}}", "{\"tsig_secret\":\"x\"}", "{\"ratio\":0.5}",
		"{\"list\":[1,2,{\"newPIN\":\"1\"}]}", NULL};
	cer_transcript *t = NULL;
	struct stat before, after;
	json_t *data;
	int i;

	(void)state;
	unlink("s.jsonl");
	assert_int_equal(cer_transcript_create("s.jsonl", "secrets", NULL, &t), OFFCA_OK);
	assert_int_equal(stat("s.jsonl", &before), 0);
	for (i = 0; bad[i] != NULL; i++) {
		data = json_loads(bad[i], 0, NULL);
		assert_non_null(data);
		assert_int_equal(cer_transcript_append(t, "1", "confirm", data), OFFCA_E_USAGE);
		json_decref(data);
	}
	data = json_pack("[s]", "not an object");
	assert_int_equal(cer_transcript_append(t, "1", "confirm", data), OFFCA_E_USAGE);
	json_decref(data);
	/* the reserved events have their own functions */
	assert_int_equal(cer_transcript_append(t, "", "end", NULL), OFFCA_E_USAGE);
	assert_int_equal(cer_transcript_append(t, "", "signature", NULL), OFFCA_E_USAGE);
	assert_int_equal(cer_transcript_append(t, "", "", NULL), OFFCA_E_USAGE);
	assert_int_equal(stat("s.jsonl", &after), 0);
	assert_int_equal(before.st_size, after.st_size);
	/* harmless neighbours are fine */
	data = json_pack("{s:s,s:s,s:I}", "pin_source", "prompt", "spinner", "x", "tries_left", (json_int_t)3);
	assert_int_equal(cer_transcript_append(t, "1", "pin-entered", data), OFFCA_OK); /* a pin-source is no PIN */
	json_decref(data);
	data = json_pack("{s:s,s:I}", "token", "root-2026", "tries_left", (json_int_t)3);
	assert_int_equal(cer_transcript_append(t, "1", "token-inserted", data), OFFCA_OK);
	json_decref(data);
	cer_transcript_free(t);
	fx_ok(cer_transcript_verify("s.jsonl", NULL, 0, NULL, NULL));
}

static void test_states_and_keys(void **state)
{
	cer_verify_result r;
	cer_transcript *t = NULL;
	struct stat before, after;
	offca_rc rc;

	(void)state;
	unlink("a.jsonl");
	assert_int_equal(cer_transcript_create("a.jsonl", "aborted one", NULL, &t), OFFCA_OK);
	assert_int_equal(cer_transcript_append(t, "1", "confirm", NULL), OFFCA_OK);
	assert_int_equal(stat("a.jsonl", &before), 0);
	/* private key that does not match the public key: refused, nothing written */
	rc = cer_transcript_sign(t, "ceremony-key", rsakey, eckey, NULL);
	assert_true(rc == OFFCA_E_VERIFY || rc == OFFCA_E_CRYPTO);
	assert_int_equal(cer_transcript_sign(t, "ceremony-key", eckey, eckey, othercert), OFFCA_E_USAGE);
	assert_int_equal(stat("a.jsonl", &after), 0);
	assert_int_equal(before.st_size, after.st_size);
	/* an abort before the end: readable, status incomplete */
	fx_ok(cer_transcript_verify("a.jsonl", NULL, 0, NULL, &r));
	assert_string_equal(r.status, "incomplete");
	assert_int_equal(cer_transcript_finish(t, "exploded", NULL), OFFCA_E_USAGE);
	assert_int_equal(cer_transcript_finish(t, "aborted", "wrong PIN three times at step 1"), OFFCA_OK);
	assert_int_equal(cer_transcript_append(t, "2", "confirm", NULL), OFFCA_E_STATE);
	assert_int_equal(cer_transcript_add_output(t, "2", "root.pem"), OFFCA_E_STATE);
	assert_int_equal(cer_transcript_finish(t, "completed", NULL), OFFCA_E_STATE);
	assert_int_equal(cer_transcript_sign(t, "ceremony-key", eckey, eckey, eccert), OFFCA_OK);
	cer_transcript_free(t);
	fx_ok(cer_transcript_verify("a.jsonl", NULL, 0, eccert, &r));
	assert_string_equal(r.status, "aborted");
	assert_int_equal(r.signatures, 1);
	/* trusting another key fails */
	assert_int_equal(cer_transcript_verify("a.jsonl", NULL, 0, othercert, &r), OFFCA_E_VERIFY);
}

/* Every single-byte edit of a signed transcript fails verification. */
static void test_every_byte_edit_fails(void **state)
{
	char *orig, *copy;
	size_t len, i, checked = 0;
	static const unsigned char edits[] = {0x01, 0x20};
	size_t k;
	offca_rc rc;

	(void)state;
	fx_sample("b.jsonl", eckey, eccert);
	fx_ok(cer_transcript_verify("b.jsonl", NULL, 1, eccert, NULL));
	orig = fx_slurp("b.jsonl", &len);
	copy = malloc(len);
	assert_non_null(copy);
	for (i = 0; i < len; i++) {
		for (k = 0; k < sizeof(edits); k++) {
			memcpy(copy, orig, len);
			copy[i] = (char)(k == 0 ? (unsigned char)copy[i] ^ edits[k] : edits[k]);
			if (copy[i] == orig[i])
				continue;
			fx_put("b-edit.jsonl", copy, len);
			rc = cer_transcript_verify("b-edit.jsonl", NULL, 1, NULL, NULL);
			if (rc == OFFCA_OK)
				fail_msg("edit 0x%02x at byte %zu ('%c') was not detected", edits[k], i, orig[i]);
			checked++;
		}
	}
	assert_true(checked > len);
	/* an inserted space and a deleted byte */
	for (i = 0; i < len; i += 7) {
		fx_put("b-edit.jsonl", orig, i);
		FILE *f = fopen("b-edit.jsonl", "ab");
		assert_non_null(f);
		fputc(' ', f);
		fwrite(orig + i, 1, len - i, f);
		fclose(f);
		assert_int_not_equal(cer_transcript_verify("b-edit.jsonl", NULL, 1, NULL, NULL), OFFCA_OK);
		memcpy(copy, orig, i);
		memcpy(copy + i, orig + i + 1, len - i - 1);
		fx_put("b-edit.jsonl", copy, len - 1);
		assert_int_not_equal(cer_transcript_verify("b-edit.jsonl", NULL, 1, NULL, NULL), OFFCA_OK);
	}
	free(copy);
	free(orig);
}

/* Whole-line edits: removed, swapped, duplicated, cut, truncated lines. */
static void test_line_edits(void **state)
{
	cer_verify_result r;
	char *orig, *l[8], *copy;
	size_t len, n = 0, i, pos;

	(void)state;
	fx_sample("c.jsonl", eckey, eccert);
	orig = fx_slurp("c.jsonl", &len);
	copy = malloc(2 * len);
	assert_non_null(copy);
	l[n++] = orig;
	for (i = 0; i + 1 < len; i++) {
		if (orig[i] == '\n')
			l[n++] = orig + i + 1;
	}
	assert_int_equal(n, 6);
	l[n] = orig + len;
	/* remove line 3 */
	pos = (size_t)(l[2] - orig);
	memcpy(copy, orig, pos);
	memcpy(copy + pos, l[3], (size_t)(orig + len - l[3]));
	fx_put("c-edit.jsonl", copy, len - (size_t)(l[3] - l[2]));
	assert_int_equal(cer_transcript_verify("c-edit.jsonl", NULL, 0, NULL, NULL), OFFCA_E_VERIFY);
	assert_non_null(strstr(ut_err_msg(), "line 3"));
	/* swap lines 2 and 3 */
	pos = 0;
	memcpy(copy, orig, (size_t)(l[1] - orig));
	pos = (size_t)(l[1] - orig);
	memcpy(copy + pos, l[2], (size_t)(l[3] - l[2]));
	pos += (size_t)(l[3] - l[2]);
	memcpy(copy + pos, l[1], (size_t)(l[2] - l[1]));
	pos += (size_t)(l[2] - l[1]);
	memcpy(copy + pos, l[3], (size_t)(orig + len - l[3]));
	fx_put("c-edit.jsonl", copy, len);
	assert_int_equal(cer_transcript_verify("c-edit.jsonl", NULL, 0, NULL, NULL), OFFCA_E_VERIFY);
	assert_non_null(strstr(ut_err_msg(), "line 2"));
	/* last line duplicated */
	memcpy(copy, orig, len);
	memcpy(copy + len, l[5], (size_t)(orig + len - l[5]));
	fx_put("c-edit.jsonl", copy, len + (size_t)(orig + len - l[5]));
	assert_int_equal(cer_transcript_verify("c-edit.jsonl", NULL, 0, NULL, NULL), OFFCA_E_VERIFY);
	/* an empty line at the end */
	memcpy(copy, orig, len);
	copy[len] = '\n';
	fx_put("c-edit.jsonl", copy, len + 1);
	assert_int_equal(cer_transcript_verify("c-edit.jsonl", NULL, 0, NULL, NULL), OFFCA_E_VERIFY);
	/* cut in the middle of the last line (a crash during the write) */
	fx_put("c-edit.jsonl", orig, len - 10);
	assert_int_equal(cer_transcript_verify("c-edit.jsonl", NULL, 0, NULL, NULL), OFFCA_E_VERIFY);
	assert_non_null(strstr(ut_err_msg(), "truncated"));
	/* the signature removed: the chain still holds, but it is no longer sealed or trusted */
	fx_put("c-edit.jsonl", orig, (size_t)(l[5] - orig));
	fx_ok(cer_transcript_verify("c-edit.jsonl", NULL, 0, NULL, &r));
	assert_int_equal(r.sealed, 0);
	assert_int_equal(r.signatures, 0);
	assert_int_equal(cer_transcript_verify("c-edit.jsonl", NULL, 0, eccert, &r), OFFCA_E_VERIFY);
	/* empty file */
	fx_put("c-edit.jsonl", orig, 0);
	assert_int_equal(cer_transcript_verify("c-edit.jsonl", NULL, 0, NULL, NULL), OFFCA_E_VERIFY);
	free(copy);
	free(orig);
}

/* An attacker without the key rewrites an entry and recomputes every hash: the signature fails. */
static void test_rehashed_forgery(void **state)
{
	char *orig, *line, *save = NULL, *out = NULL, *s, *hex;
	unsigned char prev[32], h[32];
	json_t *e;
	size_t len, olen = 0;
	FILE *f;

	(void)state;
	fx_sample("d.jsonl", eckey, eccert);
	orig = fx_slurp("d.jsonl", &len);
	f = open_memstream(&out, &olen);
	assert_non_null(f);
	memset(prev, 0, sizeof(prev));
	for (line = strtok_r(orig, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		e = json_loads(line, 0, NULL);
		assert_non_null(e);
		if (strcmp(json_string_value(json_object_get(e, "event")), "confirm") == 0)
			json_object_set_new(json_object_get(e, "data"), "answer", json_string("no"));
		hex = ut_hex(prev, 32);
		json_object_set_new(e, "prev", json_string(hex));
		if (strcmp(json_string_value(json_object_get(e, "event")), "signature") == 0)
			json_object_set_new(json_object_get(e, "data"), "signed_head", json_string(hex));
		free(hex);
		json_object_del(e, "hash");
		assert_int_equal(cer_tr_hash_entry(e, h), OFFCA_OK);
		hex = ut_hex(h, 32);
		json_object_set_new(e, "hash", json_string(hex));
		free(hex);
		memcpy(prev, h, 32);
		s = cer_tr_canon(e);
		fprintf(f, "%s\n", s);
		free(s);
		json_decref(e);
	}
	fclose(f);
	fx_put("d-edit.jsonl", out, olen);
	assert_int_equal(cer_transcript_verify("d-edit.jsonl", NULL, 0, NULL, NULL), OFFCA_E_VERIFY);
	assert_non_null(strstr(ut_err_msg(), "does not verify"));
	assert_non_null(strstr(ut_err_msg(), "line 6"));
	free(out);
	free(orig);
}

static void test_outputs(void **state)
{
	cer_verify_result r;

	(void)state;
	fx_sample("o.jsonl", eckey, NULL);
	assert_int_equal(chdir("/"), 0);
	/* relative to base_dir, from elsewhere */
	assert_int_equal(cer_transcript_verify(strcat(strcpy((char[512]){0}, dir), "/o.jsonl"), dir, 1, NULL, &r),
			 OFFCA_OK);
	assert_int_equal(r.outputs_checked, 1);
	assert_int_equal(chdir(dir), 0);
	fx_write("root.pem", "-----BEGIN CERTIFICATE-----\nnot really!\n-----END CERTIFICATE-----\n");
	assert_int_equal(cer_transcript_verify("o.jsonl", NULL, 1, NULL, &r), OFFCA_E_VERIFY);
	assert_non_null(strstr(ut_err_msg(), "root.pem"));
	assert_non_null(strstr(ut_err_msg(), "line 4"));
	/* not checking outputs: the transcript itself is fine */
	fx_ok(cer_transcript_verify("o.jsonl", NULL, 0, NULL, &r));
	assert_int_equal(r.outputs_checked, 0);
	/* recording an output relative to a directory other than the current one */
	{
		cer_transcript *t = NULL;
		char full[512];

		unlink("o2.jsonl");
		fx_ok(cer_transcript_create("o2.jsonl", "outputs", NULL, &t));
		assert_int_equal(chdir("/"), 0);
		fx_ok(cer_transcript_add_output_in(t, "1", dir, "root.pem"));
		assert_int_equal(cer_transcript_add_output_in(t, "1", dir, "nope.pem"), OFFCA_E_NOT_FOUND);
		cer_transcript_free(t);
		snprintf(full, sizeof(full), "%s/o2.jsonl", dir);
		fx_ok(cer_transcript_verify(full, dir, 1, NULL, &r));
		assert_int_equal(r.outputs_checked, 1);
		assert_int_equal(chdir(dir), 0);
	}
	unlink("root.pem");
	assert_int_equal(cer_transcript_verify("o.jsonl", NULL, 1, NULL, &r), OFFCA_E_VERIFY);
	assert_non_null(strstr(ut_err_msg(), "root.pem"));
	assert_int_equal(cer_transcript_verify("no-such.jsonl", NULL, 1, NULL, &r), OFFCA_E_NOT_FOUND);
}

/* The independent checks shown in docs/transcript.md (Python 3 and the openssl CLI) agree. */
static void test_independent_tools(void **state)
{
	static const char chain_py[] =
		"import hashlib, json, sys\n"
		"prev = \"0\" * 64\n"
		"for n, line in enumerate(open(sys.argv[1], encoding=\"utf-8\"), 1):\n"
		"    e = json.loads(line)\n"
		"    h = e.pop(\"hash\")\n"
		"    canon = json.dumps(e, sort_keys=True, separators=(\",\", \":\"), ensure_ascii=False)\n"
		"    assert e[\"seq\"] == n and e[\"prev\"] == prev, f\"line {n}: chain broken\"\n"
		"    assert hashlib.sha256(canon.encode()).hexdigest() == h, f\"line {n}: hash mismatch\"\n"
		"    prev = h\n"
		"print(\"chain ok, head\", prev)\n";
	static const char sig_sh[] =
		"set -e\n"
		"sed -n 6p \"$1\" | python3 -c '\n"
		"import json, sys\n"
		"d = json.load(sys.stdin)[\"data\"]\n"
		"open(\"spki.pem\", \"w\").write(d[\"spki\"])\n"
		"open(\"sig.b64\", \"w\").write(d[\"signature\"])\n"
		"open(\"msg.txt\", \"w\").write(\"offca-transcript-head:\" + d[\"signed_head\"])'\n"
		"base64 -d sig.b64 > sig.bin\n"
		"openssl dgst -sha256 -verify spki.pem -signature sig.bin msg.txt >/dev/null\n";
	cer_verify_result r;
	char *hex, cmd[256];
	FILE *p;
	char out[256] = "";

	(void)state;
	if (system("command -v python3 >/dev/null && command -v openssl >/dev/null") != 0)
		skip();
	fx_sample("i.jsonl", eckey, eccert);
	fx_ok(cer_transcript_verify("i.jsonl", NULL, 1, eccert, &r));
	fx_write("chain.py", chain_py);
	fx_write("sig.sh", sig_sh);
	p = popen("python3 chain.py i.jsonl", "r");
	assert_non_null(p);
	assert_non_null(fgets(out, sizeof(out), p));
	assert_int_equal(pclose(p), 0);
	hex = ut_hex(r.head, 32);
	snprintf(cmd, sizeof(cmd), "chain ok, head %s\n", hex);
	assert_string_equal(out, cmd);
	free(hex);
	assert_int_equal(system("bash sig.sh i.jsonl"), 0);
	/* and the tools notice an edit too */
	assert_int_equal(system("sed -i 's/\"answer\":\"yes\"/\"answer\":\"no\"/' i.jsonl"), 0);
	assert_int_not_equal(system("python3 chain.py i.jsonl >/dev/null 2>&1"), 0);
	assert_int_equal(cer_transcript_verify("i.jsonl", NULL, 1, NULL, &r), OFFCA_E_VERIFY);
}

/* A write that fails half-way (file size limit, like a full disk) leaves the last complete entry. */
static void test_failed_write_is_cut_back(void **state)
{
	struct rlimit old, lim;
	cer_verify_result r;
	cer_transcript *t = NULL;
	struct stat before, after;
	char big[4000];
	json_t *d;
	offca_rc rc;

	(void)state;
	unlink("w.jsonl");
	fx_ok(cer_transcript_create("w.jsonl", "write failure", NULL, &t));
	fx_ok(cer_transcript_append(t, "1", "confirm", NULL));
	assert_int_equal(stat("w.jsonl", &before), 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	d = json_pack("{s:s}", "blob", big);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)before.st_size + 100;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = cer_transcript_append(t, "1", "big", d);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_not_equal(rc, OFFCA_OK);
	assert_non_null(strstr(ut_err_msg(), "w.jsonl"));
	assert_int_equal(stat("w.jsonl", &after), 0);
	assert_int_equal(after.st_size, before.st_size);
	fx_ok(cer_transcript_verify("w.jsonl", NULL, 0, NULL, &r));
	assert_int_equal(r.entries, 2);
	assert_string_equal(r.status, "incomplete");
	/* the chain goes on from the last complete entry */
	fx_ok(cer_transcript_append(t, "1", "big", d));
	fx_ok(cer_transcript_finish(t, "completed", NULL));
	cer_transcript_free(t);
	json_decref(d);
	fx_ok(cer_transcript_verify("w.jsonl", NULL, 0, NULL, &r));
	assert_int_equal(r.entries, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_never_overwrites),
		cmocka_unit_test(test_refuses_secrets),
		cmocka_unit_test(test_states_and_keys),
		cmocka_unit_test(test_every_byte_edit_fails),
		cmocka_unit_test(test_line_edits),
		cmocka_unit_test(test_rehashed_forgery),
		cmocka_unit_test(test_outputs),
		cmocka_unit_test(test_independent_tools),
		cmocka_unit_test(test_failed_write_is_cut_back),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
