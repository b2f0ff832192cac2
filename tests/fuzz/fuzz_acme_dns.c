/*
 * fuzz_acme_dns.c - DNS answers as offca-acme's DNS process reads them (dns_msg.c): the header
 * and question (acme_dns_parse_hdr), every record with its compressed names (acme_dns_read_rr,
 * acme_dns_read_name on NS/CNAME/SOA data) and the answer's TSIG (acme_tsig_verify) for an
 * hmac-sha256 and an hmac-sha512 key and a fixed request MAC.
 *
 * Inputs starting with 0xFF are re-signed first: the rest is taken as a message, a TSIG record
 * signed by the harness key is appended (acme_tsig_sign), and the result must verify as a
 * request (reqmac empty) - so mutations reach the code after the MAC check.
 *
 * Checks: names are NUL-terminated, at most 255 bytes, lower case; record data lies inside the
 * message; a verified TSIG never comes from a message the harness did not sign.
 *
 * FUZZ_MAX_LEN 16384
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

static struct acme_tsig k256, k512;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	strcpy(k256.name, "offca-test");
	strcpy(k256.alg, "hmac-sha256");
	memset(k256.secret, 0x42, 32);
	k256.secretlen = 32;
	strcpy(k512.name, "offca-test-512");
	strcpy(k512.alg, "hmac-sha512");
	memset(k512.secret, 0x24, 64);
	k512.secretlen = 64;
	return 0;
}

static void check_name(const char *n)
{
	size_t l = strnlen(n, ACME_DNS_MAX_NAME + 1);

	if (l > ACME_DNS_MAX_NAME)
		abort();
	for (size_t i = 0; i < l; i++)
		if (n[i] >= 'A' && n[i] <= 'Z')
			abort();
}

static void read_all(const uint8_t *msg, size_t len)
{
	struct acme_dns_hdr h;
	struct acme_dns_rr rr;
	char name[ACME_DNS_MAX_NAME + 1];
	size_t off = 0, total;

	if (acme_dns_parse_hdr(msg, len, &h, &off) != OFFCA_OK)
		return;
	total = (size_t)h.an + h.ns + h.ar;
	for (size_t i = 0; i < total; i++) {
		if (acme_dns_read_rr(msg, len, &off, &rr) != OFFCA_OK)
			break;
		check_name(rr.name);
		if (rr.rdoff + rr.rdlen > len || off > len)
			abort();
		if (rr.type == ACME_DNS_T_NS || rr.type == ACME_DNS_T_CNAME || rr.type == ACME_DNS_T_SOA) {
			size_t o = rr.rdoff;
			if (acme_dns_read_name(msg, len, &o, name) == OFFCA_OK)
				check_name(name);
		}
	}
	(void)acme_dns_rcode_name(h.flags & 0xf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char reqmac[32] = {1, 2, 3};
	unsigned char mac[ACME_DNS_MAX_MAC];
	size_t maclen = 0;
	static struct acme_dns_w w;

	if (size > 0 && data[0] == 0xff) {
		if (size - 1 > sizeof(w.b) - 512 || size - 1 < 12)
			return 0;
		acme_dns_w_init(&w);
		acme_dns_putbytes(&w, data + 1, size - 1);
		if (acme_tsig_sign(&w, &k256, 1700000000, mac, &maclen) == OFFCA_OK && !w.err) {
			read_all(w.b, w.len);
			(void)acme_tsig_verify(w.b, w.len, &k256, NULL, 0);
			(void)acme_tsig_verify(w.b, w.len, &k512, NULL, 0);
		}
		return 0;
	}
	read_all(data, size);
	if (acme_tsig_verify(data, size, &k256, reqmac, sizeof(reqmac)) == OFFCA_OK)
		abort(); /* a MAC the fuzzer cannot know, unless it found a way around the check */
	if (acme_tsig_verify(data, size, &k512, reqmac, sizeof(reqmac)) == OFFCA_OK)
		abort();
	return 0;
}
