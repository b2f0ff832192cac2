/*
 * dns.h - DNS messages written by hand (no libldns in the stack): a bounded writer cursor, a
 * bounded reader cursor with name decompression, RFC 2136 UPDATE and RFC 8945 TSIG
 * (hmac-sha256 / hmac-sha512 only - never a silent fallback to HMAC-MD5), and the exchange over
 * UDP (TCP on truncation or on request).
 */
#ifndef ACME_DNS_H
#define ACME_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "offca/err.h"

#define ACME_DNS_MAX_MSG   16384 /* largest message we build or accept (TCP answers included) */
#define ACME_DNS_MAX_UDP   1232  /* largest UDP answer we read */
#define ACME_DNS_MAX_NAME  255   /* wire length of a name */
#define ACME_DNS_MAX_LABEL 63
#define ACME_DNS_MAX_TXT   255   /* one character-string */
#define ACME_DNS_MAX_PTRS  32    /* compression pointers followed per name */
#define ACME_DNS_MAX_MAC   64

enum {
	ACME_DNS_T_A = 1, ACME_DNS_T_NS = 2, ACME_DNS_T_CNAME = 5, ACME_DNS_T_SOA = 6, ACME_DNS_T_TXT = 16,
	ACME_DNS_T_TSIG = 250, ACME_DNS_C_IN = 1, ACME_DNS_C_NONE = 254, ACME_DNS_C_ANY = 255,
	ACME_DNS_OP_QUERY = 0, ACME_DNS_OP_UPDATE = 5,
};

/* Writer: every put checks room first; an overflow sets err and later puts do nothing. */
struct acme_dns_w {
	uint8_t b[ACME_DNS_MAX_MSG];
	size_t len;
	int err;
};

void acme_dns_w_init(struct acme_dns_w *w);
void acme_dns_put8(struct acme_dns_w *w, uint8_t v);
void acme_dns_put16(struct acme_dns_w *w, uint16_t v);
void acme_dns_put32(struct acme_dns_w *w, uint32_t v);
void acme_dns_putbytes(struct acme_dns_w *w, const void *p, size_t n);
/* Text name ("www.example.test", trailing dot optional) in lower-case wire form, uncompressed. */
offca_rc acme_dns_putname(struct acme_dns_w *w, const char *name);

/* Query for name/qtype (RD clear: we talk to authoritative servers). */
offca_rc acme_dns_build_query(struct acme_dns_w *w, uint16_t id, const char *name, uint16_t qtype);

/*
 * UPDATE of zone: add (add != 0, with ttl) or delete the one TXT record name/value.
 * value is one character-string (<= ACME_DNS_MAX_TXT).
 */
offca_rc acme_dns_build_update(struct acme_dns_w *w, uint16_t id, const char *zone, const char *name,
			       const char *value, uint32_t ttl, int add);

/* TSIG key: name, algorithm ("hmac-sha256" or "hmac-sha512", exact), secret bytes. */
struct acme_tsig {
	char name[ACME_DNS_MAX_NAME + 1];
	char alg[32];
	unsigned char secret[128];
	size_t secretlen;
};

/* Check that alg is exactly hmac-sha256 or hmac-sha512 (OFFCA_E_USAGE otherwise). */
offca_rc acme_tsig_alg_check(const char *alg);

/*
 * Append a TSIG record signing the message in w (RFC 8945 section 4.3) at time now with fudge
 * 300 s; mac/maclen receive the request MAC (needed to verify the answer).
 */
offca_rc acme_tsig_sign(struct acme_dns_w *w, const struct acme_tsig *k, uint64_t now,
			unsigned char mac[ACME_DNS_MAX_MAC], size_t *maclen);

/*
 * Verify the TSIG of an answer to a request whose MAC was reqmac. OFFCA_E_VERIFY on a wrong or
 * missing MAC, OFFCA_E_PROTOCOL with BADKEY/BADSIG/BADTIME named when the server reports one.
 */
offca_rc acme_tsig_verify(const uint8_t *msg, size_t len, const struct acme_tsig *k,
			  const unsigned char *reqmac, size_t reqmaclen);

/* Reader for answers. */
struct acme_dns_rr {
	char name[ACME_DNS_MAX_NAME + 1]; /* text, lower case, no trailing dot ("" = root) */
	uint16_t type, class;
	uint32_t ttl;
	size_t rdoff; /* offset of RDATA in the message */
	uint16_t rdlen;
	size_t start; /* offset of the record's first byte */
};

struct acme_dns_hdr {
	uint16_t id, flags, qd, an, ns, ar;
};

/* Parse the header and skip the question section; *off is where the answer section begins. */
offca_rc acme_dns_parse_hdr(const uint8_t *msg, size_t len, struct acme_dns_hdr *h, size_t *off);
/* Read a (possibly compressed) name at *off into out (text). */
offca_rc acme_dns_read_name(const uint8_t *msg, size_t len, size_t *off, char out[ACME_DNS_MAX_NAME + 1]);
/* Read the next resource record at *off. */
offca_rc acme_dns_read_rr(const uint8_t *msg, size_t len, size_t *off, struct acme_dns_rr *rr);

/* Name of an RCODE (including the TSIG error codes 16..18). */
const char *acme_dns_rcode_name(unsigned rcode);

/* ---- network (dns_net.c) ---- */

/* Parse "HOST:PORT" or "HOST" (port 53) into a numeric address string and port. */
offca_rc acme_dns_parse_server(const char *spec, char *host, size_t hostcap, uint16_t *port);

/*
 * Send msg to host:port and receive the answer with the same ID into resp (ACME_DNS_MAX_MSG).
 * UDP with retries (timeout_ms per try), TCP when tcp != 0 or the UDP answer is truncated.
 * Errors: OFFCA_E_NETWORK, OFFCA_E_TIMEOUT.
 */
offca_rc acme_dns_exchange(const char *host, uint16_t port, int tcp, const uint8_t *msg, size_t len,
			   uint8_t *resp, size_t *resplen, int timeout_ms);

#endif
