/* dns_msg.c - DNS message writer/reader, RFC 2136 UPDATE, RFC 8945 TSIG (see dns.h). */
#include "dns.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "offca/util.h"

void acme_dns_w_init(struct acme_dns_w *w)
{
	w->len = 0;
	w->err = 0;
}

void acme_dns_putbytes(struct acme_dns_w *w, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (w->err || n > sizeof(w->b) - w->len) {
		w->err = 1;
		return;
	}
	memcpy(w->b + w->len, p, n);
	w->len += n;
}

void acme_dns_put8(struct acme_dns_w *w, uint8_t v) { acme_dns_putbytes(w, &v, 1); }

void acme_dns_put16(struct acme_dns_w *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	acme_dns_putbytes(w, b, 2);
}

void acme_dns_put32(struct acme_dns_w *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	acme_dns_putbytes(w, b, 4);
}

offca_rc acme_dns_putname(struct acme_dns_w *w, const char *name)
{
	uint8_t wire[ACME_DNS_MAX_NAME];
	size_t wl = 0, i = 0, n = strlen(name);

	if (n > 0 && name[n - 1] == '.')
		n--;
	while (i < n) {
		size_t start = i, ll;
		while (i < n && name[i] != '.')
			i++;
		ll = i - start;
		if (ll == 0 || ll > ACME_DNS_MAX_LABEL)
			return ut_err(OFFCA_E_USAGE, "DNS name %s: empty label or label over %d bytes", name,
				      ACME_DNS_MAX_LABEL);
		if (wl + 1 + ll + 1 > sizeof(wire))
			return ut_err(OFFCA_E_USAGE, "DNS name %s is longer than %d bytes", name, ACME_DNS_MAX_NAME);
		wire[wl++] = (uint8_t)ll;
		for (size_t j = start; j < i; j++)
			wire[wl++] = (uint8_t)tolower((unsigned char)name[j]);
		if (i < n)
			i++; /* the dot */
	}
	wire[wl++] = 0;
	acme_dns_putbytes(w, wire, wl);
	return w->err ? ut_err(OFFCA_E_TOO_BIG, "DNS message too large") : OFFCA_OK;
}

static void put_hdr(struct acme_dns_w *w, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
		    uint16_t ns, uint16_t ar)
{
	acme_dns_put16(w, id);
	acme_dns_put16(w, flags);
	acme_dns_put16(w, qd);
	acme_dns_put16(w, an);
	acme_dns_put16(w, ns);
	acme_dns_put16(w, ar);
}

offca_rc acme_dns_build_query(struct acme_dns_w *w, uint16_t id, const char *name, uint16_t qtype)
{
	offca_rc rc;

	acme_dns_w_init(w);
	put_hdr(w, id, ACME_DNS_OP_QUERY << 11, 1, 0, 0, 0);
	rc = acme_dns_putname(w, name);
	if (rc != OFFCA_OK)
		return rc;
	acme_dns_put16(w, qtype);
	acme_dns_put16(w, ACME_DNS_C_IN);
	return w->err ? ut_err(OFFCA_E_TOO_BIG, "DNS query too large") : OFFCA_OK;
}

offca_rc acme_dns_build_update(struct acme_dns_w *w, uint16_t id, const char *zone, const char *name,
			       const char *value, uint32_t ttl, int add)
{
	offca_rc rc;
	size_t vl = strlen(value);

	if (vl > ACME_DNS_MAX_TXT)
		return ut_err(OFFCA_E_USAGE, "TXT value longer than %d bytes", ACME_DNS_MAX_TXT);
	acme_dns_w_init(w);
	/* zone section: 1, prerequisites: 0, updates: 1, additional: 0 (TSIG added later) */
	put_hdr(w, id, ACME_DNS_OP_UPDATE << 11, 1, 0, 1, 0);
	rc = acme_dns_putname(w, zone);
	if (rc != OFFCA_OK)
		return rc;
	acme_dns_put16(w, ACME_DNS_T_SOA);
	acme_dns_put16(w, ACME_DNS_C_IN);
	rc = acme_dns_putname(w, name);
	if (rc != OFFCA_OK)
		return rc;
	acme_dns_put16(w, ACME_DNS_T_TXT);
	/* RFC 2136 2.5.1 add to an RRset (class IN), 2.5.4 delete an RR from an RRset (class NONE, TTL 0) */
	acme_dns_put16(w, add ? ACME_DNS_C_IN : ACME_DNS_C_NONE);
	acme_dns_put32(w, add ? ttl : 0);
	acme_dns_put16(w, (uint16_t)(vl + 1));
	acme_dns_put8(w, (uint8_t)vl);
	acme_dns_putbytes(w, value, vl);
	return w->err ? ut_err(OFFCA_E_TOO_BIG, "DNS update too large") : OFFCA_OK;
}

offca_rc acme_tsig_alg_check(const char *alg)
{
	if (strcmp(alg, "hmac-sha256") == 0 || strcmp(alg, "hmac-sha512") == 0)
		return OFFCA_OK;
	return ut_err(OFFCA_E_USAGE, "TSIG algorithm %s: must be exactly hmac-sha256 or hmac-sha512", alg);
}

static const EVP_MD *tsig_md(const char *alg)
{
	if (strcmp(alg, "hmac-sha256") == 0)
		return EVP_sha256();
	if (strcmp(alg, "hmac-sha512") == 0)
		return EVP_sha512();
	return NULL;
}

/* TSIG variables (RFC 8945 4.3.3) after the message; error and other data as given. */
static offca_rc put_tsig_vars(struct acme_dns_w *v, const struct acme_tsig *k, uint64_t t, uint16_t fudge,
			      uint16_t error, const uint8_t *other, uint16_t otherlen)
{
	offca_rc rc = acme_dns_putname(v, k->name);

	if (rc != OFFCA_OK)
		return rc;
	acme_dns_put16(v, ACME_DNS_C_ANY);
	acme_dns_put32(v, 0);
	rc = acme_dns_putname(v, k->alg);
	if (rc != OFFCA_OK)
		return rc;
	acme_dns_put16(v, (uint16_t)(t >> 32));
	acme_dns_put32(v, (uint32_t)t);
	acme_dns_put16(v, fudge);
	acme_dns_put16(v, error);
	acme_dns_put16(v, otherlen);
	acme_dns_putbytes(v, other, otherlen);
	return v->err ? ut_err(OFFCA_E_TOO_BIG, "TSIG data too large") : OFFCA_OK;
}

static offca_rc hmac(const struct acme_tsig *k, const uint8_t *a, size_t al, const uint8_t *b, size_t bl,
		     const uint8_t *c, size_t cl, unsigned char *mac, size_t *maclen)
{
	offca_rc rc = OFFCA_E_CRYPTO;
	EVP_MAC *m = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	const EVP_MD *md = tsig_md(k->alg);
	char mdname[32];

	if (md == NULL)
		return acme_tsig_alg_check(k->alg);
	snprintf(mdname, sizeof(mdname), "%s", EVP_MD_get0_name(md));
	params[0] = OSSL_PARAM_construct_utf8_string("digest", mdname, 0);
	params[1] = OSSL_PARAM_construct_end();
	m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	ctx = m != NULL ? EVP_MAC_CTX_new(m) : NULL;
	if (ctx == NULL || EVP_MAC_init(ctx, k->secret, k->secretlen, params) != 1 ||
	    (al > 0 && EVP_MAC_update(ctx, a, al) != 1) || EVP_MAC_update(ctx, b, bl) != 1 ||
	    EVP_MAC_update(ctx, c, cl) != 1 || EVP_MAC_final(ctx, mac, maclen, ACME_DNS_MAX_MAC) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "TSIG HMAC failed");
		goto out;
	}
	rc = OFFCA_OK;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	return rc;
}

offca_rc acme_tsig_sign(struct acme_dns_w *w, const struct acme_tsig *k, uint64_t now,
			unsigned char mac[ACME_DNS_MAX_MAC], size_t *maclen)
{
	offca_rc rc;
	struct acme_dns_w *v = NULL;
	uint16_t ar, id;
	size_t rdstart;

	*maclen = 0;
	if (w->err || w->len < 12)
		return ut_err(OFFCA_E_INTERNAL, "TSIG over a malformed message");
	rc = acme_tsig_alg_check(k->alg);
	if (rc != OFFCA_OK)
		return rc;
	v = OPENSSL_malloc(sizeof(*v));
	if (v == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	acme_dns_w_init(v);
	rc = put_tsig_vars(v, k, now, 300, 0, NULL, 0);
	if (rc == OFFCA_OK)
		rc = hmac(k, NULL, 0, w->b, w->len, v->b, v->len, mac, maclen);
	if (rc != OFFCA_OK)
		goto out;
	id = (uint16_t)((w->b[0] << 8) | w->b[1]);
	/* the TSIG record itself */
	rc = acme_dns_putname(w, k->name);
	if (rc != OFFCA_OK)
		goto out;
	acme_dns_put16(w, ACME_DNS_T_TSIG);
	acme_dns_put16(w, ACME_DNS_C_ANY);
	acme_dns_put32(w, 0);
	rdstart = w->len;
	acme_dns_put16(w, 0); /* RDLENGTH, patched below */
	rc = acme_dns_putname(w, k->alg);
	if (rc != OFFCA_OK)
		goto out;
	acme_dns_put16(w, (uint16_t)(now >> 32));
	acme_dns_put32(w, (uint32_t)now);
	acme_dns_put16(w, 300);
	acme_dns_put16(w, (uint16_t)*maclen);
	acme_dns_putbytes(w, mac, *maclen);
	acme_dns_put16(w, id);
	acme_dns_put16(w, 0); /* error */
	acme_dns_put16(w, 0); /* other len */
	if (w->err) {
		rc = ut_err(OFFCA_E_TOO_BIG, "DNS message with TSIG too large");
		goto out;
	}
	w->b[rdstart] = (uint8_t)((w->len - rdstart - 2) >> 8);
	w->b[rdstart + 1] = (uint8_t)(w->len - rdstart - 2);
	ar = (uint16_t)((w->b[10] << 8) | w->b[11]);
	ar++;
	w->b[10] = (uint8_t)(ar >> 8);
	w->b[11] = (uint8_t)ar;
	rc = OFFCA_OK;
out:
	OPENSSL_clear_free(v, sizeof(*v));
	return rc;
}

/* ---- reader ---- */

static int get16(const uint8_t *msg, size_t len, size_t off, uint16_t *v)
{
	if (off > len || len - off < 2)
		return -1;
	*v = (uint16_t)((msg[off] << 8) | msg[off + 1]);
	return 0;
}

offca_rc acme_dns_read_name(const uint8_t *msg, size_t len, size_t *off, char out[ACME_DNS_MAX_NAME + 1])
{
	size_t p = *off, o = 0, end = 0;
	int jumps = 0, jumped = 0;

	out[0] = '\0';
	for (;;) {
		if (p >= len)
			return ut_err(OFFCA_E_PARSE, "DNS answer: name runs past the end");
		uint8_t l = msg[p];
		if ((l & 0xc0) == 0xc0) {
			if (p + 1 >= len || ++jumps > ACME_DNS_MAX_PTRS)
				return ut_err(OFFCA_E_PARSE, "DNS answer: bad compression pointer");
			size_t target = ((size_t)(l & 0x3f) << 8) | msg[p + 1];
			if (target >= p)
				return ut_err(OFFCA_E_PARSE, "DNS answer: forward compression pointer");
			if (!jumped)
				end = p + 2;
			jumped = 1;
			p = target;
			continue;
		}
		if ((l & 0xc0) != 0)
			return ut_err(OFFCA_E_PARSE, "DNS answer: unknown label type");
		if (l == 0) {
			if (!jumped)
				end = p + 1;
			break;
		}
		if (p + 1 + l > len || o + l + 2 > ACME_DNS_MAX_NAME + 1)
			return ut_err(OFFCA_E_PARSE, "DNS answer: name too long");
		if (o > 0)
			out[o++] = '.';
		for (size_t i = 0; i < l; i++)
			out[o++] = (char)tolower(msg[p + 1 + i]);
		out[o] = '\0';
		p += 1 + (size_t)l;
	}
	*off = end;
	return OFFCA_OK;
}

offca_rc acme_dns_parse_hdr(const uint8_t *msg, size_t len, struct acme_dns_hdr *h, size_t *off)
{
	char name[ACME_DNS_MAX_NAME + 1];
	size_t p = 12;
	offca_rc rc;

	if (len < 12)
		return ut_err(OFFCA_E_PARSE, "DNS answer shorter than a header");
	get16(msg, len, 0, &h->id);
	get16(msg, len, 2, &h->flags);
	get16(msg, len, 4, &h->qd);
	get16(msg, len, 6, &h->an);
	get16(msg, len, 8, &h->ns);
	get16(msg, len, 10, &h->ar);
	for (unsigned i = 0; i < h->qd; i++) {
		rc = acme_dns_read_name(msg, len, &p, name);
		if (rc != OFFCA_OK)
			return rc;
		if (p + 4 > len)
			return ut_err(OFFCA_E_PARSE, "DNS answer: truncated question");
		p += 4;
	}
	*off = p;
	return OFFCA_OK;
}

offca_rc acme_dns_read_rr(const uint8_t *msg, size_t len, size_t *off, struct acme_dns_rr *rr)
{
	offca_rc rc;
	size_t p = *off;
	uint16_t hi, lo;

	rr->start = p;
	rc = acme_dns_read_name(msg, len, &p, rr->name);
	if (rc != OFFCA_OK)
		return rc;
	if (get16(msg, len, p, &rr->type) || get16(msg, len, p + 2, &rr->class) || get16(msg, len, p + 4, &hi) ||
	    get16(msg, len, p + 6, &lo) || get16(msg, len, p + 8, &rr->rdlen))
		return ut_err(OFFCA_E_PARSE, "DNS answer: truncated record");
	rr->ttl = ((uint32_t)hi << 16) | lo;
	p += 10;
	if (rr->rdlen > len - p)
		return ut_err(OFFCA_E_PARSE, "DNS answer: record data runs past the end");
	rr->rdoff = p;
	*off = p + rr->rdlen;
	return OFFCA_OK;
}

const char *acme_dns_rcode_name(unsigned rcode)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
					    "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"};

	if (rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	if (rcode == 16)
		return "BADSIG";
	if (rcode == 17)
		return "BADKEY";
	if (rcode == 18)
		return "BADTIME";
	return "unknown RCODE";
}

offca_rc acme_tsig_verify(const uint8_t *msg, size_t len, const struct acme_tsig *k,
			  const unsigned char *reqmac, size_t reqmaclen)
{
	offca_rc rc;
	struct acme_dns_hdr h;
	struct acme_dns_rr rr;
	struct acme_dns_w *v = NULL;
	char alg[ACME_DNS_MAX_NAME + 1];
	unsigned char mac[ACME_DNS_MAX_MAC], pre[2 + ACME_DNS_MAX_MAC], *copy = NULL;
	size_t off, p, maclen = 0, tsig_start = 0;
	uint16_t hi, lo16, fudge, ml, origid, error, olen;
	uint32_t lo;
	unsigned total;
	int found = 0;

	rc = acme_dns_parse_hdr(msg, len, &h, &off);
	if (rc != OFFCA_OK)
		return rc;
	total = (unsigned)h.an + h.ns + h.ar;
	for (unsigned i = 0; i < total; i++) {
		rc = acme_dns_read_rr(msg, len, &off, &rr);
		if (rc != OFFCA_OK)
			return rc;
		if (rr.type == ACME_DNS_T_TSIG && i == total - 1) {
			found = 1;
			tsig_start = rr.start;
		}
	}
	if (!found)
		return ut_err(OFFCA_E_VERIFY, "DNS answer is not TSIG-signed (the server does not know key %s?)",
			      k->name);
	if (strcmp(rr.name, k->name) != 0)
		return ut_err(OFFCA_E_VERIFY, "DNS answer signed with another key (%s)", rr.name);
	p = rr.rdoff;
	rc = acme_dns_read_name(msg, len, &p, alg);
	if (rc != OFFCA_OK)
		return rc;
	if (strcmp(alg, k->alg) != 0)
		return ut_err(OFFCA_E_VERIFY, "DNS answer signed with algorithm %s, not %s", alg, k->alg);
	if (get16(msg, len, p, &hi) || get16(msg, len, p + 2, &ml) || get16(msg, len, p + 4, &lo16))
		return ut_err(OFFCA_E_PARSE, "DNS answer: truncated TSIG");
	lo = ((uint32_t)ml << 16) | lo16;
	if (get16(msg, len, p + 6, &fudge) || get16(msg, len, p + 8, &ml) || ml > ACME_DNS_MAX_MAC ||
	    p + 10 + ml > rr.rdoff + rr.rdlen)
		return ut_err(OFFCA_E_PARSE, "DNS answer: bad TSIG MAC");
	size_t q = p + 10 + ml;
	if (get16(msg, len, q, &origid) || get16(msg, len, q + 2, &error) || get16(msg, len, q + 4, &olen) ||
	    q + 6 + olen > rr.rdoff + rr.rdlen)
		return ut_err(OFFCA_E_PARSE, "DNS answer: truncated TSIG");
	if (error != 0)
		return ut_err(OFFCA_E_PROTOCOL, "DNS server rejected TSIG key %s (%s): %s", k->name, k->alg,
			      acme_dns_rcode_name(error));
	/* MAC over: request MAC (with length), the answer without TSIG and ARCOUNT-1, TSIG variables */
	pre[0] = (uint8_t)(reqmaclen >> 8);
	pre[1] = (uint8_t)reqmaclen;
	if (reqmaclen > 0) /* no request MAC (a request's own TSIG): nothing to copy, not even from NULL */
		memcpy(pre + 2, reqmac, reqmaclen);
	copy = OPENSSL_malloc(tsig_start + 1);
	v = OPENSSL_malloc(sizeof(*v));
	if (copy == NULL || v == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(copy, msg, tsig_start);
	copy[0] = (uint8_t)(origid >> 8);
	copy[1] = (uint8_t)origid;
	copy[10] = (uint8_t)((h.ar - 1) >> 8);
	copy[11] = (uint8_t)(h.ar - 1);
	acme_dns_w_init(v);
	rc = put_tsig_vars(v, k, ((uint64_t)hi << 32) | lo, fudge, error, msg + q + 6, olen);
	if (rc == OFFCA_OK)
		rc = hmac(k, pre, 2 + reqmaclen, copy, tsig_start, v->b, v->len, mac, &maclen);
	if (rc != OFFCA_OK)
		goto out;
	if (maclen != ml || CRYPTO_memcmp(mac, msg + p + 10, ml) != 0) {
		rc = ut_err(OFFCA_E_VERIFY, "DNS answer: TSIG signature does not verify");
		goto out;
	}
	rc = OFFCA_OK;
out:
	OPENSSL_free(copy);
	OPENSSL_clear_free(v, sizeof(*v));
	return rc;
}
