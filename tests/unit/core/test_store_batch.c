/* test_store_batch.c - the incremental certificate batch (begin / add chunks / commit or abort):
   same result as ca_store_cert_commit_ex(), nothing visible before the commit, abort and failed
   adds leave the store as it was, pending CSRs removed only by the commit; the "sign" audit detail
   is byte for byte what jansson writes, for plain and for awkward subjects. */
#include "test_store_util.h"

#include <jansson.h>
#include <pthread.h>

#define N_REC 10

/* The audit entries' (action, detail, hash), copied out of ca_store_audit_each(). */
struct entries {
	size_t n;
	char action[64][CA_STORE_MAX_ACTION + 1];
	char detail[64][CA_STORE_MAX_DETAIL + 1];
	unsigned char last_hash[32];
	uint64_t last_seq;
};

static int grab(void *arg, const ca_audit_entry *e)
{
	struct entries *en = arg;

	if (en->n < 64) {
		snprintf(en->action[en->n], sizeof(en->action[0]), "%s", e->action);
		snprintf(en->detail[en->n], sizeof(en->detail[0]), "%s", e->detail);
	}
	en->n++;
	en->last_seq = e->seq;
	memcpy(en->last_hash, e->hash, 32);
	return 0;
}

/* Entries from seq `from` on (fresh struct each time: it is large). */
static struct entries *entries_from(ca_store *st, uint64_t from)
{
	struct entries *en = calloc(1, sizeof(*en));

	assert_non_null(en);
	assert_int_equal(ca_store_audit_each(st, from, grab, en), OFFCA_OK);
	return en;
}

static uint64_t audit_count(ca_store *st)
{
	uint64_t n = 0;

	assert_int_equal(ca_store_audit_verify(st, &n), OFFCA_OK);
	assert_int_equal(ca_store_audit_check_records(st, NULL, NULL), OFFCA_OK);
	return n;
}

/* What jansson writes for a "sign" entry of r (the detail format before the fast path). */
static char *expected_detail(const ca_cert_record *r)
{
	char hex[2 * CA_SERIAL_LEN + 1], *fp = ut_hex(r->sha256, 32), subj[513], *s;
	size_t n = r->subject ? strnlen(r->subject, 512) : 0;
	json_t *j;

	assert_non_null(fp);
	memcpy(subj, r->subject ? r->subject : "", n);
	while (n > 0 && n == 512 && ((unsigned char)subj[n - 1] & 0xC0) == 0x80)
		n--;
	subj[n] = '\0';
	ca_serial_hex(&r->serial, hex, sizeof(hex));
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "serial", hex, "issuer", r->issuer, "profile", r->profile,
		      "subject", subj, "sha256", fp, "source", r->source);
	if (j == NULL)
		j = json_pack("{s:s,s:s,s:s,s:s,s:s}", "serial", hex, "issuer", r->issuer, "profile", r->profile,
			      "sha256", fp, "source", r->source);
	assert_non_null(j);
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_non_null(s);
	json_decref(j);
	free(fp);
	return s;
}

static void make_records(ca_store *st, const char *prefix, ca_cert_record *recs, size_t n)
{
	static unsigned ip; /* every SAN of every record unique: each SAN lookup finds one record */
	char cn[64], sans[200], extra[32] = "";

	for (size_t i = 0; i < n; i++) {
		snprintf(cn, sizeof(cn), "%s%zu.example", prefix, i);
		if (i % 3 == 0)
			snprintf(extra, sizeof(extra), ",IP:10.0.%u.%u", (ip / 250) % 250, ip % 250 + 1);
		ip++;
		snprintf(sans, sizeof(sans), "DNS:%s,DNS:www.%s%s", cn, cn, i % 3 == 0 ? extra : "");
		tsu_record(st, "int", cn, sans, 20 + (long)i, &recs[i]);
	}
}

static void clear_records(ca_cert_record *recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ca_cert_record_clear(&recs[i]);
}

static int count_cb(void *arg, const ca_cert_record *r)
{
	(void)r;
	(*(size_t *)arg)++;
	return 0;
}

/* r is in the store exactly, through every index, its serial used, its sign entry as jansson's. */
static void assert_recorded(ca_store *st, const ca_cert_record *r, const char *detail)
{
	ca_cert_record got;
	size_t k = 0;
	char *want;
	int state = -1;

	assert_int_equal(ca_store_cert_by_serial(st, &r->serial, &got), OFFCA_OK);
	assert_int_equal(got.der_len, r->der_len);
	assert_memory_equal(got.der, r->der, r->der_len);
	assert_string_equal(got.subject, r->subject);
	assert_string_equal(got.issuer, r->issuer);
	assert_string_equal(got.source, r->source);
	assert_int_equal(got.n_sans, r->n_sans);
	for (size_t i = 0; i < r->n_sans; i++)
		assert_string_equal(got.sans[i], r->sans[i]);
	assert_int_equal(got.not_after, r->not_after);
	assert_int_equal(got.issued_at, r->issued_at);
	ca_cert_record_clear(&got);
	assert_int_equal(ca_store_cert_by_fingerprint(st, r->sha256, &got), OFFCA_OK);
	assert_memory_equal(got.serial.b, r->serial.b, CA_SERIAL_LEN);
	ca_cert_record_clear(&got);
	for (size_t i = 0; i < r->n_sans; i++) {
		k = 0;
		assert_int_equal(ca_store_cert_by_san(st, r->sans[i], count_cb, &k), OFFCA_OK);
		assert_int_equal(k, 1);
	}
	assert_int_equal(ca_store_serial_state(st, &r->serial, &state), OFFCA_OK);
	assert_int_equal(state, CA_SERIAL_USED);
	want = expected_detail(r);
	assert_string_equal(detail, want);
	free(want);
}

/* Chunks added one after the other, then one commit: the same as commit_ex, record for record. */
static void test_chunks_like_commit_ex(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	ca_cert_record a[N_REC], b[N_REC];
	ca_cert_batch *bt = NULL;
	struct entries *en;
	uint64_t before, mid;
	size_t n = 0, k = 0;
	const size_t chunks[] = {3, 0, 4, 1, 2};

	(void)state;
	make_records(st, "ex", a, N_REC);
	make_records(st, "batch", b, N_REC);
	before = audit_count(st);
	assert_int_equal(ca_store_cert_commit_ex(st, a, N_REC, NULL, 0), OFFCA_OK);
	mid = audit_count(st);
	assert_int_equal(mid, before + N_REC);
	assert_int_equal(ca_store_cert_batch_begin(st, &bt), OFFCA_OK);
	assert_non_null(bt);
	for (size_t c = 0, off = 0; c < sizeof(chunks) / sizeof(chunks[0]); off += chunks[c], c++)
		assert_int_equal(ca_store_cert_batch_add(bt, b + off, chunks[c]), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_commit(bt, NULL, 0), OFFCA_OK);
	assert_int_equal(audit_count(st), mid + N_REC);
	assert_int_equal(ca_store_cert_count(st, &n), OFFCA_OK);
	assert_int_equal(n, 2 * N_REC);
	/* entries in order: the commit_ex ones, then the batch's in the order added */
	en = entries_from(st, before + 1);
	assert_int_equal(en->n, 2 * N_REC);
	for (size_t i = 0; i < N_REC; i++) {
		assert_string_equal(en->action[i], "sign");
		assert_string_equal(en->action[N_REC + i], "sign");
		assert_recorded(st, &a[i], en->detail[i]);
		assert_recorded(st, &b[i], en->detail[N_REC + i]);
	}
	free(en);
	/* the expiry index holds both sets */
	assert_int_equal(ca_store_cert_each(st, NULL, (int64_t)time(NULL) + 400 * 86400, 0, count_cb, &k), OFFCA_OK);
	assert_int_equal(k, 2 * N_REC);
	clear_records(a, N_REC);
	clear_records(b, N_REC);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

/* The hand-written "sign" detail equals jansson's for awkward strings; non-ASCII goes to jansson. */
static void test_sign_detail_escaping(void **state)
{
	static const char *const subjects[] = {
		"CN=plain.example,O=Example Org",
		"CN=quote\"and\\backslash,O=a/b",
		"CN=caf\xc3\xa9,O=\xe6\x97\xa5\xe6\x9c\xac",          /* valid UTF-8 */
		"CN=tab\there\x01\x1f\x7f",                           /* control characters, DEL */
		"CN=bad\xff\xfeutf8",                                 /* invalid UTF-8: subject left out */
		"",
	};
	const size_t ns = sizeof(subjects) / sizeof(subjects[0]);
	char *dir, home[512], long_ascii[700], long_utf8[700];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	ca_cert_record recs[8];
	ca_cert_batch *bt = NULL;
	struct entries *en;
	uint64_t before;

	(void)state;
	memset(long_ascii, 'a', sizeof(long_ascii) - 1);
	long_ascii[sizeof(long_ascii) - 1] = '\0';
	memcpy(long_ascii, "CN=", 3);
	/* 3 + 254 * 2 = 511 bytes, then a 2-byte sequence straddling byte 512: cut before it */
	memcpy(long_utf8, "CN=", 3);
	for (size_t i = 0; i < 300; i++)
		memcpy(long_utf8 + 3 + 2 * i, "\xc3\xa9", 2);
	long_utf8[603] = '\0';
	make_records(st, "esc", recs, ns + 2);
	for (size_t i = 0; i < ns + 2; i++) {
		free(recs[i].subject);
		recs[i].subject = strdup(i < ns ? subjects[i] : i == ns ? long_ascii : long_utf8);
		assert_non_null(recs[i].subject);
	}
	snprintf(recs[1].source, sizeof(recs[1].source), "ceremony \"q\\uote\" step 2");
	snprintf(recs[2].profile, sizeof(recs[2].profile), "srv/\\x");
	before = audit_count(st);
	assert_int_equal(ca_store_cert_batch_begin(st, &bt), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_add(bt, recs, ns + 2), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_commit(bt, NULL, 0), OFFCA_OK);
	{
		uint64_t n = 0;
		assert_int_equal(ca_store_audit_verify(st, &n), OFFCA_OK);
		assert_int_equal(n, before + ns + 2);
		/* these subjects are not their certificates' (the DER says CN=esc...): the record check
		   decodes each DER and says so */
		assert_int_equal(ca_store_audit_check_records(st, NULL, NULL), OFFCA_E_VERIFY);
		assert_non_null(strstr(ut_err_msg(), "record does not repeat its certificate's subject"));
	}
	en = entries_from(st, before + 1);
	for (size_t i = 0; i < ns + 2; i++)
		assert_recorded(st, &recs[i], en->detail[i]);
	assert_null(strstr(en->detail[4], "subject")); /* invalid UTF-8 is left out, as before */
	assert_non_null(strstr(en->detail[1], "quote\\\"and\\\\backslash,O=a/b"));
	free(en);
	clear_records(recs, ns + 2);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

struct head {
	uint64_t seq;
	unsigned char hash[32];
};

static void audit_head(ca_store *st, struct head *h)
{
	struct entries *en = entries_from(st, 0);

	h->seq = en->last_seq;
	memcpy(h->hash, en->last_hash, 32);
	free(en);
}

/* Nothing is visible before the commit; an abort leaves the store as it was; writers are refused
   while the batch is open; a later commit of the same records works. */
static void test_abort_leaves_nothing(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	ca_cert_record recs[4];
	ca_cert_record got;
	ca_cert_batch *bt = NULL, *bt2 = NULL;
	struct head h0, h1;
	ca_serial more;
	size_t n = 99;
	int stt = -1;

	(void)state;
	make_records(st, "ab", recs, 4);
	audit_head(st, &h0);
	assert_int_equal(ca_store_cert_batch_begin(st, &bt), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_add(bt, recs, 3), OFFCA_OK);
	/* readers (this thread, own read transactions) see the store as before begin */
	assert_int_equal(ca_store_cert_count(st, &n), OFFCA_OK);
	assert_int_equal(n, 0);
	assert_int_equal(ca_store_cert_by_serial(st, &recs[0].serial, &got), OFFCA_E_NOT_FOUND);
	assert_int_equal(ca_store_serial_state(st, &recs[0].serial, &stt), OFFCA_OK);
	assert_int_equal(stt, CA_SERIAL_RESERVED);
	audit_head(st, &h1);
	assert_int_equal(h1.seq, h0.seq);
	/* writers would wait for the batch's own transaction: refused */
	assert_int_equal(ca_store_serial_void(st, &recs[3].serial, 1, "x"), OFFCA_E_STATE);
	assert_non_null(strstr(ut_err_msg(), "batch is open"));
	assert_int_equal(ca_store_serial_reserve(st, "int", 1, &more), OFFCA_E_STATE);
	assert_int_equal(ca_store_audit(st, "key-use", "{}"), OFFCA_E_STATE);
	assert_int_equal(ca_store_cert_commit(st, &recs[3], 1), OFFCA_E_STATE);
	assert_int_equal(ca_store_revoke(st, &recs[0].serial, 1, 1), OFFCA_E_STATE);
	assert_int_equal(ca_store_cert_batch_begin(st, &bt2), OFFCA_E_STATE);
	assert_null(bt2);
	ca_store_cert_batch_abort(bt);
	ca_store_cert_batch_abort(NULL);
	/* nothing happened */
	assert_int_equal(ca_store_cert_count(st, &n), OFFCA_OK);
	assert_int_equal(n, 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ca_store_serial_state(st, &recs[i].serial, &stt), OFFCA_OK);
		assert_int_equal(stt, CA_SERIAL_RESERVED);
		assert_int_equal(ca_store_cert_by_fingerprint(st, recs[i].sha256, &got), OFFCA_E_NOT_FOUND);
	}
	audit_head(st, &h1);
	assert_int_equal(h1.seq, h0.seq);
	assert_memory_equal(h1.hash, h0.hash, 32);
	assert_int_equal(audit_count(st), h0.seq);
	/* writers work again, and the same records commit in a new batch */
	assert_int_equal(ca_store_serial_void(st, &recs[3].serial, 1, "dropped"), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_begin(st, &bt), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_add(bt, recs, 2), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_add(bt, recs + 2, 1), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_commit(bt, NULL, 0), OFFCA_OK);
	assert_int_equal(ca_store_cert_count(st, &n), OFFCA_OK);
	assert_int_equal(n, 3);
	assert_int_equal(audit_count(st), h0.seq + 1 + 3); /* void + 3 sign */
	/* an empty batch commits nothing */
	assert_int_equal(ca_store_cert_batch_begin(st, &bt), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_commit(bt, NULL, 0), OFFCA_OK);
	assert_int_equal(audit_count(st), h0.seq + 4);
	clear_records(recs, 4);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

/* One failing add poisons the batch: later adds and the commit fail, nothing is committed. */
static void poison_case(ca_store *st, ca_cert_record *good, ca_cert_record *bad, const char *why)
{
	ca_cert_batch *bt = NULL;
	uint64_t before = audit_count(st);
	size_t n = 99;
	int stt = -1;

	assert_int_equal(ca_store_cert_batch_begin(st, &bt), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_add(bt, good, 1), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_add(bt, bad, 1), OFFCA_E_STATE);
	assert_non_null(strstr(ut_err_msg(), why));
	assert_int_equal(ca_store_cert_batch_add(bt, good + 1, 1), OFFCA_E_STATE);
	assert_non_null(strstr(ut_err_msg(), "abort"));
	assert_int_equal(ca_store_cert_batch_commit(bt, NULL, 0), OFFCA_E_STATE); /* frees bt */
	assert_int_equal(ca_store_cert_count(st, &n), OFFCA_OK);
	assert_int_equal(n, 0);
	assert_int_equal(ca_store_serial_state(st, &good[0].serial, &stt), OFFCA_OK);
	assert_int_equal(stt, CA_SERIAL_RESERVED);
	assert_int_equal(audit_count(st), before);
}

static void test_failed_add_poisons(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	ca_cert_record good[2], other, stray;
	ca_cert_batch *bt = NULL;
	ca_serial unreserved;
	unsigned char *der;
	size_t len, n = 0;

	(void)state;
	make_records(st, "ok", good, 2);
	/* a serial that was never reserved */
	memset(unreserved.b, 0x5a, CA_SERIAL_LEN);
	der = tsu_cert(&unreserved, "stray.example", "DNS:stray.example", 30, &len);
	assert_int_equal(ca_cert_record_from_der(der, len, "int", "server", "unit test", &stray), OFFCA_OK);
	OPENSSL_free(der);
	poison_case(st, good, &stray, "not reserved");
	/* a serial reserved for another issuer */
	tsu_record(st, "int2", "other.example", "DNS:other.example", 30, &other);
	snprintf(other.issuer, sizeof(other.issuer), "int");
	poison_case(st, good, &other, "reserved for issuer 'int2'");
	/* the same record twice in one batch: its serial is used by then */
	poison_case(st, good, good, "already used");
	/* nothing of that stuck: the good records commit */
	assert_int_equal(ca_store_cert_batch_begin(st, &bt), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_add(bt, good, 2), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_commit(bt, NULL, 0), OFFCA_OK);
	assert_int_equal(ca_store_cert_count(st, &n), OFFCA_OK);
	assert_int_equal(n, 2);
	(void)audit_count(st);
	/* an aborted poisoned batch is fine too */
	assert_int_equal(ca_store_cert_batch_begin(st, &bt), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_add(bt, &stray, 1), OFFCA_E_STATE);
	ca_store_cert_batch_abort(bt);
	assert_int_equal(ca_store_cert_batch_add(NULL, good, 1), OFFCA_E_USAGE);
	assert_int_equal(ca_store_cert_batch_begin(st, NULL), OFFCA_E_USAGE);
	clear_records(good, 2);
	ca_cert_record_clear(&other);
	ca_cert_record_clear(&stray);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

static size_t pending_n(ca_store *st)
{
	ca_pending *list = NULL;
	size_t n = 0;

	assert_int_equal(ca_store_pending_list(st, &list, &n), OFFCA_OK);
	ca_pending_list_free(list, n);
	return n;
}

/* Pending CSRs leave the queue with the commit, never before, never after an abort or a failure. */
static void test_pending_removed_on_commit(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	const unsigned char *ders[3] = {(const unsigned char *)"csr-a", (const unsigned char *)"csr-b",
					(const unsigned char *)"csr-c"};
	size_t lens[3] = {5, 5, 5}, n = 0;
	uint64_t ids[3], bogus = 999;
	ca_cert_record recs[2];
	ca_cert_batch *bt = NULL;
	struct entries *en;
	uint64_t before;

	(void)state;
	assert_int_equal(ca_store_pending_add(st, ders, lens, 3, "usb", ids), OFFCA_OK);
	make_records(st, "p", recs, 2);
	/* abort: the queue is untouched */
	assert_int_equal(ca_store_cert_batch_begin(st, &bt), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_add(bt, recs, 2), OFFCA_OK);
	assert_int_equal(pending_n(st), 3);
	ca_store_cert_batch_abort(bt);
	assert_int_equal(pending_n(st), 3);
	/* more ids than records, an unknown id: nothing committed, nothing removed */
	assert_int_equal(ca_store_cert_batch_begin(st, &bt), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_add(bt, recs, 1), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_commit(bt, ids, 2), OFFCA_E_USAGE);
	assert_int_equal(ca_store_cert_batch_begin(st, &bt), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_add(bt, recs, 2), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_commit(bt, &bogus, 1), OFFCA_E_NOT_FOUND);
	assert_int_equal(pending_n(st), 3);
	assert_int_equal(ca_store_cert_count(st, &n), OFFCA_OK);
	assert_int_equal(n, 0);
	/* commit: exactly ids 1 and 3 leave, with one pending-remove entry after the sign entries */
	before = audit_count(st);
	assert_int_equal(ca_store_cert_batch_begin(st, &bt), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_add(bt, recs, 1), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_add(bt, recs + 1, 1), OFFCA_OK);
	assert_int_equal(pending_n(st), 3);
	ids[1] = ids[2];
	assert_int_equal(ca_store_cert_batch_commit(bt, ids, 2), OFFCA_OK);
	assert_int_equal(pending_n(st), 1);
	assert_int_equal(ca_store_pending_remove(st, ids[0]), OFFCA_E_NOT_FOUND);
	assert_int_equal(audit_count(st), before + 3);
	en = entries_from(st, before + 1);
	assert_int_equal(en->n, 3);
	assert_string_equal(en->action[0], "sign");
	assert_string_equal(en->action[1], "sign");
	assert_string_equal(en->action[2], "pending-remove");
	free(en);
	clear_records(recs, 2);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

struct other_thread {
	ca_cert_batch *bt;
	ca_cert_record *rec;
	offca_rc add_rc, commit_rc;
};

static void *use_from_other_thread(void *arg)
{
	struct other_thread *o = arg;

	o->add_rc = ca_store_cert_batch_add(o->bt, o->rec, 1);
	o->commit_rc = ca_store_cert_batch_commit(o->bt, NULL, 0);
	return NULL;
}

/* The batch belongs to the thread that began it: another thread's add and commit are refused
   without harm, and the owner then commits. */
static void test_other_thread_refused(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	ca_cert_record recs[2];
	struct other_thread o;
	pthread_t th;
	size_t n = 0;

	(void)state;
	make_records(st, "t", recs, 2);
	memset(&o, 0, sizeof(o));
	assert_int_equal(ca_store_cert_batch_begin(st, &o.bt), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_add(o.bt, recs, 1), OFFCA_OK);
	o.rec = &recs[1];
	assert_int_equal(pthread_create(&th, NULL, use_from_other_thread, &o), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(o.add_rc, OFFCA_E_USAGE);
	assert_int_equal(o.commit_rc, OFFCA_E_USAGE);
	assert_int_equal(ca_store_cert_batch_add(o.bt, recs + 1, 1), OFFCA_OK);
	assert_int_equal(ca_store_cert_batch_commit(o.bt, NULL, 0), OFFCA_OK);
	assert_int_equal(ca_store_cert_count(st, &n), OFFCA_OK);
	assert_int_equal(n, 2);
	(void)audit_count(st);
	clear_records(recs, 2);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunks_like_commit_ex),
		cmocka_unit_test(test_sign_detail_escaping),
		cmocka_unit_test(test_abort_leaves_nothing),
		cmocka_unit_test(test_failed_add_poisons),
		cmocka_unit_test(test_pending_removed_on_commit),
		cmocka_unit_test(test_other_thread_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
