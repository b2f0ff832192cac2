/*
 * sign_seed.c - seed an issuer of an existing CA home with N revoked certificates for the CRL
 * benchmark (bench/crl_bench.sh), and print their serials (hex, one per line) so the same set can
 * be given to `openssl ca -gencrl`.
 *
 *   bench_sign_seed HOME ISSUER N [REVOKED]
 *
 * REVOKED (default N): only the first REVOKED leaves are committed revoked, the others valid (a
 * large store with a CRL's worth of revocations, for bench/bind_bench.sh); serials of all N are
 * printed, the revoked ones first.
 *
 * The leaves are built with offca's own builder and signed by a throwaway software key (a CRL
 * only lists serials; who signed the seeded leaves does not matter), committed as revoked
 * (keyCompromise) in batches of 10000 through the normal reserve -> commit path. Not a test.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/store.h"
#include "offca/util.h"
#include "offca/x509.h"

#define BATCH 10000u

static void die(const char *what)
{
	fprintf(stderr, "bench_sign_seed: %s: %s\n", what, ut_err_msg());
	exit(1);
}

int main(int argc, char **argv)
{
	ca_store *st = NULL;
	ca_issuer iss;
	X509 *icert = NULL;
	EVP_PKEY *key;
	X509_NAME *subj = NULL;
	ca_serial *ser;
	ca_cert_record *recs;
	long n, nrev;
	int64_t now = (int64_t)time(NULL);

	if ((argc != 4 && argc != 5) || (n = strtol(argv[3], NULL, 10)) <= 0 || n > 10000000 ||
	    (nrev = argc == 5 ? strtol(argv[4], NULL, 10) : n) < 0 || nrev > n) {
		fprintf(stderr, "usage: bench_sign_seed HOME ISSUER N [REVOKED]\n");
		return 2;
	}
	memset(&iss, 0, sizeof(iss));
	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ser = calloc(BATCH, sizeof(*ser));
	recs = calloc(BATCH, sizeof(*recs));
	if (key == NULL || ser == NULL || recs == NULL)
		return 1;
	if (ca_store_open(argv[1], 0, &st) != OFFCA_OK)
		die("open");
	if (ca_store_issuer_get(st, argv[2], &iss) != OFFCA_OK || ca_x509_from_der(iss.der, iss.der_len, &icert) != OFFCA_OK)
		die("issuer");
	if (ca_x509_parse_dn("/CN=seed.example.com", &subj) != OFFCA_OK)
		die("dn");
	for (long done = 0; done < n;) {
		size_t b = (size_t)(n - done) < BATCH ? (size_t)(n - done) : BATCH;
		if (ca_store_serial_reserve(st, argv[2], b, ser) != OFFCA_OK)
			die("reserve");
		for (size_t i = 0; i < b; i++) {
			GENERAL_NAMES *sans = sk_GENERAL_NAME_new_null();
			GENERAL_NAME *gn = a2i_GENERAL_NAME(NULL, NULL, NULL, GEN_DNS, "seed.example.com", 0);
			ca_cert_spec spec = {.profile = CA_PROFILE_SERVER, .subject = subj, .sans = sans, .subject_key = key,
					     .serial = ser[i].b, .serial_len = CA_SERIAL_LEN, .not_before = now - 60,
					     .not_after = now + 30 * 86400, .issuer = icert, .path_len = -1};
			X509 *x = NULL;
			unsigned char *der = NULL;
			size_t len = 0;
			char hex[2 * CA_SERIAL_LEN + 1];

			sk_GENERAL_NAME_push(sans, gn);
			if (ca_x509_build(&spec, &x) != OFFCA_OK || ca_x509_sign(x, key) != OFFCA_OK ||
			    ca_x509_to_der(x, &der, &len) != OFFCA_OK ||
			    ca_cert_record_from_der(der, len, argv[2], "server", "bench seed", &recs[i]) != OFFCA_OK)
				die("build");
			if (done + (long)i < nrev) {
				recs[i].status = CA_CERT_REVOKED;
				recs[i].revoked_at = now - 3600;
				recs[i].reason = 1;
			}
			printf("%s\n", ca_serial_hex(&ser[i], hex, sizeof(hex)));
			OPENSSL_free(der);
			X509_free(x);
			GENERAL_NAMES_free(sans);
		}
		if (ca_store_cert_commit(st, recs, b) != OFFCA_OK)
			die("commit");
		for (size_t i = 0; i < b; i++)
			ca_cert_record_clear(&recs[i]);
		done += (long)b;
	}
	X509_NAME_free(subj);
	X509_free(icert);
	ca_issuer_clear(&iss);
	ca_store_free(st);
	EVP_PKEY_free(key);
	free(ser);
	free(recs);
	return 0;
}
