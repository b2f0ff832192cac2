/* Unit tests for the hand-written DNS code: name encoding bounds, RFC 2136 UPDATE bytes, RFC 8945
 * TSIG (MAC checked against an HMAC over hand-assembled RFC 8945 variables), answer verification,
 * and the reader's cursor (compression, loops, truncation). named checks the same code live in
 * tests/e2e/acme_*.sh. */
#include "testutil.h"

#include <openssl/hmac.h>

#include "dns.h"

static void test_names(void **state)
{
	struct acme_dns_w w;
	static const uint8_t want[] = {3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0};
	char label[70], longname[300];

	(void)state;
	acme_dns_w_init(&w);
	assert_int_equal(acme_dns_putname(&w, "www.Example.TEST."), OFFCA_OK);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.b, want, sizeof(want));
	assert_int_equal(acme_dns_putname(&w, "a..b"), OFFCA_E_USAGE);
	memset(label, 'a', 64);
	label[64] = '\0';
	assert_int_equal(acme_dns_putname(&w, label), OFFCA_E_USAGE);
	for (int i = 0; i < 296; i += 2)
		memcpy(longname + i, "a.", 2);
	longname[296] = 'a';
	longname[297] = '\0';
	assert_int_equal(acme_dns_putname(&w, longname), OFFCA_E_USAGE);
	acme_dns_w_init(&w);
	w.len = sizeof(w.b) - 1;
	acme_dns_put16(&w, 1); /* no room: flagged, not written */
	assert_true(w.err);
	assert_int_equal(w.len, sizeof(w.b) - 1);
}

static void test_update_bytes(void **state)
{
	struct acme_dns_w w;
	static const uint8_t want[] = {
		0x12, 0x34, 0x28, 0x00, 0, 1, 0, 0, 0, 1, 0, 0,         /* header: opcode UPDATE, 1 zone, 1 update */
		2, 'e', 'x', 4, 't', 'e', 's', 't', 0, 0, 6, 0, 1,      /* zone ex.test SOA IN */
		1, 'a', 2, 'e', 'x', 4, 't', 'e', 's', 't', 0,          /* a.ex.test */
		0, 16, 0, 1, 0, 0, 0, 60, 0, 4, 3, 'v', 'a', 'l'};      /* TXT IN ttl 60 "val" */
	static const uint8_t want_del[] = {0, 16, 0, 254, 0, 0, 0, 0, 0, 4, 3, 'v', 'a', 'l'};
	char big[300];

	(void)state;
	assert_int_equal(acme_dns_build_update(&w, 0x1234, "ex.test", "a.ex.test", "val", 60, 1), OFFCA_OK);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.b, want, sizeof(want));
	/* delete one RR: class NONE, TTL 0 (RFC 2136 2.5.4) */
	assert_int_equal(acme_dns_build_update(&w, 0x1234, "ex.test", "a.ex.test", "val", 60, 0), OFFCA_OK);
	assert_memory_equal(w.b + w.len - sizeof(want_del), want_del, sizeof(want_del));
	memset(big, 'x', 256);
	big[256] = '\0';
	assert_int_equal(acme_dns_build_update(&w, 1, "ex.test", "a.ex.test", big, 60, 1), OFFCA_E_USAGE);
}

static const struct acme_tsig *key(void)
{
	static struct acme_tsig k;

	memset(&k, 0, sizeof(k));
	strcpy(k.name, "k1");
	strcpy(k.alg, "hmac-sha256");
	memcpy(k.secret, "0123456789abcdef", 16);
	k.secretlen = 16;
	return &k;
}

/* TSIG variables per RFC 8945 4.3.3 for key k1, hmac-sha256, time 0x5f5e1000, fudge 300 */
static const uint8_t tsig_vars[] = {2, 'k', '1', 0, 0, 255, 0, 0, 0, 0,
				    11, 'h', 'm', 'a', 'c', '-', 's', 'h', 'a', '2', '5', '6', 0,
				    0, 0, 0x5f, 0x5e, 0x10, 0x00, 1, 44, 0, 0, 0, 0};

static void test_tsig_sign(void **state)
{
	struct acme_dns_w w;
	uint8_t before[512], expect[32], mac[ACME_DNS_MAX_MAC];
	size_t blen, maclen = 0;
	unsigned el = 0;
	uint8_t *all;

	(void)state;
	assert_int_equal(acme_dns_build_update(&w, 0xabcd, "ex.test", "a.ex.test", "val", 60, 1), OFFCA_OK);
	blen = w.len;
	memcpy(before, w.b, blen);
	assert_int_equal(acme_tsig_sign(&w, key(), 0x5f5e1000, mac, &maclen), OFFCA_OK);
	/* independent MAC: HMAC-SHA256(secret, message || variables) */
	all = malloc(blen + sizeof(tsig_vars));
	memcpy(all, before, blen);
	memcpy(all + blen, tsig_vars, sizeof(tsig_vars));
	HMAC(EVP_sha256(), "0123456789abcdef", 16, all, blen + sizeof(tsig_vars), expect, &el);
	free(all);
	assert_int_equal(maclen, 32);
	assert_memory_equal(mac, expect, 32);
	/* ARCOUNT 1, then the TSIG RR: owner k1, type 250, class ANY, TTL 0 */
	assert_int_equal(w.b[11], 1);
	static const uint8_t rrhead[] = {2, 'k', '1', 0, 0, 250, 0, 255, 0, 0, 0, 0};
	assert_memory_equal(w.b + blen, rrhead, sizeof(rrhead));
	/* RDATA ends with MAC, original ID, error 0, other length 0 */
	assert_memory_equal(w.b + w.len - 6 - 32, expect, 32);
	static const uint8_t tail[] = {0xab, 0xcd, 0, 0, 0, 0};
	assert_memory_equal(w.b + w.len - 6, tail, 6);
	/* exact algorithm names only */
	struct acme_tsig md5 = *key();
	strcpy(md5.alg, "hmac-md5");
	assert_int_equal(acme_tsig_sign(&w, &md5, 1, mac, &maclen), OFFCA_E_USAGE);
	assert_int_equal(acme_tsig_alg_check("HMAC-SHA256"), OFFCA_E_USAGE);
	assert_int_equal(acme_tsig_alg_check("hmac-sha512"), OFFCA_OK);
}

/* build a signed answer: header (QR, UPDATE), zone section, TSIG with MAC over reqmac+msg+vars */
static size_t make_answer(uint8_t *out, const uint8_t *reqmac, uint16_t error, int tamper)
{
	static const uint8_t msg[] = {0xab, 0xcd, 0xa8, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
				      2, 'e', 'x', 4, 't', 'e', 's', 't', 0, 0, 6, 0, 1};
	uint8_t buf[1024], mac[32];
	unsigned ml = 0;
	size_t n = 0, o;

	buf[0] = 0;
	buf[1] = 32;
	memcpy(buf + 2, reqmac, 32);
	n = 34;
	memcpy(buf + n, msg, sizeof(msg));
	n += sizeof(msg);
	memcpy(buf + n, tsig_vars, sizeof(tsig_vars));
	buf[n + sizeof(tsig_vars) - 4] = (uint8_t)(error >> 8);
	buf[n + sizeof(tsig_vars) - 3] = (uint8_t)error;
	n += sizeof(tsig_vars);
	HMAC(EVP_sha256(), "0123456789abcdef", 16, buf, n, mac, &ml);
	o = 0;
	memcpy(out, msg, sizeof(msg));
	out[11] = 1; /* ARCOUNT */
	o = sizeof(msg);
	static const uint8_t rr[] = {2, 'k', '1', 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0};
	memcpy(out + o, rr, sizeof(rr));
	size_t rdl = o + sizeof(rr) - 2;
	o += sizeof(rr);
	static const uint8_t alg[] = {11, 'h', 'm', 'a', 'c', '-', 's', 'h', 'a', '2', '5', '6', 0,
				      0, 0, 0x5f, 0x5e, 0x10, 0x00, 1, 44, 0, 32};
	memcpy(out + o, alg, sizeof(alg));
	o += sizeof(alg);
	memcpy(out + o, mac, 32);
	if (tamper)
		out[o] ^= 1;
	o += 32;
	out[o++] = 0xab;
	out[o++] = 0xcd;
	out[o++] = (uint8_t)(error >> 8);
	out[o++] = (uint8_t)error;
	out[o++] = 0;
	out[o++] = 0;
	out[rdl] = (uint8_t)((o - rdl - 2) >> 8);
	out[rdl + 1] = (uint8_t)(o - rdl - 2);
	return o;
}

static void test_tsig_verify(void **state)
{
	uint8_t reqmac[32], ans[1024];
	size_t n;

	(void)state;
	memset(reqmac, 0x42, sizeof(reqmac));
	n = make_answer(ans, reqmac, 0, 0);
	assert_int_equal(acme_tsig_verify(ans, n, key(), reqmac, 32), OFFCA_OK);
	n = make_answer(ans, reqmac, 0, 1);
	assert_int_equal(acme_tsig_verify(ans, n, key(), reqmac, 32), OFFCA_E_VERIFY);
	n = make_answer(ans, reqmac, 17, 0);
	assert_int_equal(acme_tsig_verify(ans, n, key(), reqmac, 32), OFFCA_E_PROTOCOL);
	assert_non_null(strstr(ut_err_msg(), "BADKEY"));
	/* another request MAC: the answer does not belong to our request */
	n = make_answer(ans, reqmac, 0, 0);
	reqmac[0] ^= 1;
	assert_int_equal(acme_tsig_verify(ans, n, key(), reqmac, 32), OFFCA_E_VERIFY);
	/* truncated anywhere: an error, never a crash */
	reqmac[0] ^= 1;
	for (size_t cut = 0; cut < n; cut++)
		assert_int_not_equal(acme_tsig_verify(ans, cut, key(), reqmac, 32), OFFCA_OK);
}

static void test_reader(void **state)
{
	/* answer to a TXT query: question + TXT RR whose owner is a pointer to the question name */
	static const uint8_t msg[] = {0, 1, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0,
				      1, 'a', 2, 'e', 'x', 0, 0, 16, 0, 1,
				      0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 4, 3, 'v', 'a', 'l'};
	static const uint8_t loop[] = {0, 1, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 16, 0, 1};
	static const uint8_t fwd[] = {0, 1, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 20, 0, 16, 0, 1, 0, 0, 0, 0};
	struct acme_dns_hdr h;
	struct acme_dns_rr rr;
	size_t off;

	(void)state;
	assert_int_equal(acme_dns_parse_hdr(msg, sizeof(msg), &h, &off), OFFCA_OK);
	assert_int_equal(h.an, 1);
	assert_int_equal(acme_dns_read_rr(msg, sizeof(msg), &off, &rr), OFFCA_OK);
	assert_string_equal(rr.name, "a.ex");
	assert_int_equal(rr.type, 16);
	assert_int_equal(rr.ttl, 60);
	assert_int_equal(rr.rdlen, 4);
	assert_int_equal(off, sizeof(msg));
	assert_int_equal(acme_dns_parse_hdr(loop, sizeof(loop), &h, &off), OFFCA_E_PARSE);
	assert_int_equal(acme_dns_parse_hdr(fwd, sizeof(fwd), &h, &off), OFFCA_E_PARSE);
	for (size_t cut = 0; cut < sizeof(msg); cut++) {
		if (acme_dns_parse_hdr(msg, cut, &h, &off) != OFFCA_OK)
			continue;
		assert_int_not_equal(acme_dns_read_rr(msg, cut, &off, &rr), OFFCA_OK);
	}
}

static void test_server_spec(void **state)
{
	char h[64];
	uint16_t p = 0;

	(void)state;
	assert_int_equal(acme_dns_parse_server("127.0.0.1:5353", h, sizeof(h), &p), OFFCA_OK);
	assert_string_equal(h, "127.0.0.1");
	assert_int_equal(p, 5353);
	assert_int_equal(acme_dns_parse_server("ns1.example.net", h, sizeof(h), &p), OFFCA_OK);
	assert_int_equal(p, 53);
	assert_int_equal(acme_dns_parse_server("[::1]:54", h, sizeof(h), &p), OFFCA_OK);
	assert_string_equal(h, "::1");
	assert_int_equal(p, 54);
	assert_int_equal(acme_dns_parse_server("h:0", h, sizeof(h), &p), OFFCA_E_USAGE);
	assert_int_equal(acme_dns_parse_server("h:99999", h, sizeof(h), &p), OFFCA_E_USAGE);
	assert_int_equal(acme_dns_parse_server("h:x", h, sizeof(h), &p), OFFCA_E_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),       cmocka_unit_test(test_update_bytes),
		cmocka_unit_test(test_tsig_sign),   cmocka_unit_test(test_tsig_verify),
		cmocka_unit_test(test_reader),      cmocka_unit_test(test_server_spec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
