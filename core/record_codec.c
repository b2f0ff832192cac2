/*
 * record_codec.c - the versioned binary encoding of store records.
 *
 * Writing appends to a growing buffer; reading moves through a cursor that checks every length
 * against the bytes left and against a named maximum before it consumes anything. A record that
 * does not decode exactly (short, long, bad version, oversized field) is OFFCA_E_STORE.
 *
 * Certificate record, version 1 (all integers big-endian):
 *   u8 version=1 | serial[16] | sha256[32] | str issuer | str profile | str subject |
 *   u32 n_sans | n_sans * str san | i64 not_before | i64 not_after | u8 status |
 *   i64 revoked_at | u8 reason | str source | i64 issued_at | blob der
 * where str and blob are u32 length followed by the bytes (no NUL).
 */
#include "store_int.h"
#include "offca/util.h"

#include <stdlib.h>
#include <string.h>

#define REC_VERSION 1u

static void wb_grow(ca_wbuf *b, size_t n)
{
	size_t cap;
	unsigned char *np;

	if (b->failed)
		return;
	if (n > SIZE_MAX / 2 - b->len) {
		b->failed = 1;
		return;
	}
	if (b->len + n <= b->cap)
		return;
	if (b->fixed) {
		b->failed = 1;
		return;
	}
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n)
		cap *= 2;
	np = realloc(b->p, cap);
	if (np == NULL) {
		b->failed = 1;
		return;
	}
	b->p = np;
	b->cap = cap;
}

void ca_wb_bytes(ca_wbuf *b, const void *p, size_t n)
{
	wb_grow(b, n);
	if (b->failed || n == 0)
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void ca_wb_u8(ca_wbuf *b, uint8_t v)
{
	ca_wb_bytes(b, &v, 1);
}

void ca_wb_u32(ca_wbuf *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
			      (unsigned char)v};

	ca_wb_bytes(b, x, 4);
}

void ca_wb_i64(ca_wbuf *b, int64_t v)
{
	unsigned char x[8];

	ca_be64_put(x, (uint64_t)v);
	ca_wb_bytes(b, x, 8);
}

void ca_wb_blob(ca_wbuf *b, const void *p, size_t n)
{
	if (n > UINT32_MAX) {
		b->failed = 1;
		return;
	}
	ca_wb_u32(b, (uint32_t)n);
	ca_wb_bytes(b, p, n);
}

void ca_wb_str(ca_wbuf *b, const char *s)
{
	ca_wb_blob(b, s, s ? strlen(s) : 0);
}

ca_wbuf ca_wb_fixed(void *buf, size_t cap)
{
	ca_wbuf b = {buf, 0, cap, 0, 1};

	return b;
}

void ca_wb_free(ca_wbuf *b)
{
	if (b == NULL)
		return;
	if (!b->fixed)
		free(b->p);
	memset(b, 0, sizeof(*b));
}

void ca_rc_bytes(ca_rcur *c, void *out, size_t n)
{
	if (c->bad || n > c->left) {
		c->bad = 1;
		memset(out, 0, n);
		return;
	}
	memcpy(out, c->p, n);
	c->p += n;
	c->left -= n;
}

uint8_t ca_rc_u8(ca_rcur *c)
{
	uint8_t v;

	ca_rc_bytes(c, &v, 1);
	return v;
}

uint32_t ca_rc_u32(ca_rcur *c)
{
	unsigned char x[4];

	ca_rc_bytes(c, x, 4);
	return ((uint32_t)x[0] << 24) | ((uint32_t)x[1] << 16) | ((uint32_t)x[2] << 8) | x[3];
}

int64_t ca_rc_i64(ca_rcur *c)
{
	unsigned char x[8];

	ca_rc_bytes(c, x, 8);
	return (int64_t)ca_be64_get(x);
}

const unsigned char *ca_rc_blob(ca_rcur *c, size_t max, size_t *n)
{
	uint32_t len = ca_rc_u32(c);
	const unsigned char *p;

	*n = 0;
	if (c->bad || len > max || len > c->left) {
		c->bad = 1;
		return NULL;
	}
	p = c->p;
	c->p += len;
	c->left -= len;
	*n = len;
	return p;
}

void ca_rc_str(ca_rcur *c, size_t max, char *buf, size_t cap)
{
	size_t n;
	const unsigned char *p = ca_rc_blob(c, max, &n);

	buf[0] = '\0';
	if (p == NULL || n >= cap || memchr(p, '\0', n) != NULL) {
		c->bad = 1;
		return;
	}
	memcpy(buf, p, n);
	buf[n] = '\0';
}

char *ca_rc_strdup(ca_rcur *c, size_t max)
{
	size_t n;
	const unsigned char *p = ca_rc_blob(c, max, &n);
	char *s;

	if (p == NULL || memchr(p, '\0', n) != NULL) {
		c->bad = 1;
		return NULL;
	}
	s = malloc(n + 1);
	if (s == NULL) {
		c->bad = 1;
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static int str_ok(const char *s, size_t max)
{
	return s != NULL && strnlen(s, max + 1) <= max;
}

offca_rc ca_rec_check(const ca_cert_record *r)
{
	if (!str_ok(r->issuer, sizeof(r->issuer) - 1) || r->issuer[0] == '\0')
		return ut_err(OFFCA_E_USAGE, "certificate record: issuer name missing");
	if (!str_ok(r->profile, sizeof(r->profile) - 1) || !str_ok(r->source, sizeof(r->source) - 1))
		return ut_err(OFFCA_E_USAGE, "certificate record: profile or source not terminated");
	if (!str_ok(r->subject ? r->subject : "", CA_STORE_MAX_SUBJECT))
		return ut_err(OFFCA_E_TOO_BIG, "certificate record: subject longer than %u bytes",
			      CA_STORE_MAX_SUBJECT);
	if (r->n_sans > CA_STORE_MAX_SANS)
		return ut_err(OFFCA_E_TOO_BIG, "certificate record: more than %u SANs", CA_STORE_MAX_SANS);
	for (size_t i = 0; i < r->n_sans; i++)
		if (r->sans[i] == NULL || !str_ok(r->sans[i], CA_STORE_MAX_SAN_LEN) || r->sans[i][0] == '\0')
			return ut_err(OFFCA_E_TOO_BIG, "certificate record: SAN %zu empty or longer than %u bytes",
				      i, CA_STORE_MAX_SAN_LEN);
	if (r->der == NULL || r->der_len == 0 || r->der_len > CA_STORE_MAX_DER)
		return ut_err(OFFCA_E_TOO_BIG, "certificate record: DER missing or larger than %u bytes",
			      CA_STORE_MAX_DER);
	if (r->status != CA_CERT_VALID && r->status != CA_CERT_REVOKED)
		return ut_err(OFFCA_E_USAGE, "certificate record: bad status %d", (int)r->status);
	if (r->reason < 0 || r->reason > 10)
		return ut_err(OFFCA_E_USAGE, "certificate record: bad reason code %d", r->reason);
	return OFFCA_OK;
}

static void rec_put(const ca_cert_record *r, ca_wbuf *out)
{
	ca_wb_u8(out, REC_VERSION);
	ca_wb_bytes(out, r->serial.b, CA_SERIAL_LEN);
	ca_wb_bytes(out, r->sha256, 32);
	ca_wb_str(out, r->issuer);
	ca_wb_str(out, r->profile);
	ca_wb_str(out, r->subject);
	ca_wb_u32(out, (uint32_t)r->n_sans);
	for (size_t i = 0; i < r->n_sans; i++)
		ca_wb_str(out, r->sans[i]);
	ca_wb_i64(out, r->not_before);
	ca_wb_i64(out, r->not_after);
	ca_wb_u8(out, (uint8_t)r->status);
	ca_wb_i64(out, r->revoked_at);
	ca_wb_u8(out, (uint8_t)r->reason);
	ca_wb_str(out, r->source);
	ca_wb_i64(out, r->issued_at);
	ca_wb_blob(out, r->der, r->der_len);
}

offca_rc ca_rec_encode(const ca_cert_record *r, ca_wbuf *out)
{
	offca_rc rc = ca_rec_check(r);

	if (rc != OFFCA_OK)
		return rc;
	rec_put(r, out);
	if (out->failed)
		return ut_err(OFFCA_E_NOMEM, "out of memory encoding a certificate record");
	return OFFCA_OK;
}

size_t ca_rec_encoded_len(const ca_cert_record *r)
{
	size_t n = 1 + CA_SERIAL_LEN + 32 + 4 + strlen(r->issuer) + 4 + strlen(r->profile) + 4 +
		   (r->subject ? strlen(r->subject) : 0) + 4;

	for (size_t i = 0; i < r->n_sans; i++)
		n += 4 + strlen(r->sans[i]);
	return n + 8 + 8 + 1 + 8 + 1 + 4 + strlen(r->source) + 8 + 4 + r->der_len;
}

offca_rc ca_rec_encode_into(const ca_cert_record *r, unsigned char *p, size_t len)
{
	ca_wbuf b = ca_wb_fixed(p, len);

	rec_put(r, &b);
	if (b.failed || b.len != len)
		return ut_err(OFFCA_E_INTERNAL, "certificate record encoding: length mismatch");
	return OFFCA_OK;
}

static void decode_sans(ca_rcur *c, ca_cert_record *out)
{
	uint32_t n = ca_rc_u32(c);

	if (c->bad || n > CA_STORE_MAX_SANS) {
		c->bad = 1;
		return;
	}
	if (n == 0)
		return;
	out->sans = calloc(n, sizeof(char *));
	if (out->sans == NULL) {
		c->bad = 1;
		return;
	}
	for (uint32_t i = 0; i < n && !c->bad; i++) {
		out->sans[i] = ca_rc_strdup(c, CA_STORE_MAX_SAN_LEN);
		out->n_sans = i + 1;
	}
}

offca_rc ca_rec_decode(const unsigned char *p, size_t len, ca_cert_record *out)
{
	ca_rcur c = {p, len, 0};
	const unsigned char *der;
	size_t der_len = 0;
	uint8_t status;

	memset(out, 0, sizeof(*out));
	if (ca_rc_u8(&c) != REC_VERSION)
		return ut_err(OFFCA_E_STORE, "certificate record: unknown format version");
	ca_rc_bytes(&c, out->serial.b, CA_SERIAL_LEN);
	ca_rc_bytes(&c, out->sha256, 32);
	ca_rc_str(&c, sizeof(out->issuer) - 1, out->issuer, sizeof(out->issuer));
	ca_rc_str(&c, sizeof(out->profile) - 1, out->profile, sizeof(out->profile));
	out->subject = ca_rc_strdup(&c, CA_STORE_MAX_SUBJECT);
	decode_sans(&c, out);
	out->not_before = ca_rc_i64(&c);
	out->not_after = ca_rc_i64(&c);
	status = ca_rc_u8(&c);
	out->revoked_at = ca_rc_i64(&c);
	out->reason = ca_rc_u8(&c);
	ca_rc_str(&c, sizeof(out->source) - 1, out->source, sizeof(out->source));
	out->issued_at = ca_rc_i64(&c);
	der = ca_rc_blob(&c, CA_STORE_MAX_DER, &der_len);
	if (c.bad || c.left != 0 || status > CA_CERT_REVOKED || out->reason > 10 || der_len == 0)
		goto bad;
	out->status = (ca_cert_status)status;
	out->der = malloc(der_len);
	if (out->der == NULL) {
		ca_cert_record_clear(out);
		return ut_err(OFFCA_E_NOMEM, "out of memory reading a certificate record");
	}
	memcpy(out->der, der, der_len);
	out->der_len = der_len;
	return OFFCA_OK;
bad:
	ca_cert_record_clear(out);
	return ut_err(OFFCA_E_STORE, "certificate record is malformed (store damaged?)");
}
