/*
 * relay_seed.c - seed an issuer of an existing CA home with N valid leaf certificates, each for a
 * key of its own (N endpoints), for the relay benchmark (bench/relay_bench.sh): offca publish then
 * has N objects to make.
 *
 *   bench_relay_seed HOME ISSUER N
 *
 * The endpoint keys (EC P-256) are made here and thrown away, and the leaves are signed by a
 * throwaway software key: publishing does not verify a stored certificate, it only encrypts to its
 * key and signs on the token, which is what is measured. Committed in batches of 10000 through the
 * normal reserve -> commit path. Not a test.
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
	fprintf(stderr, "bench_relay_seed: %s: %s\n", what, ut_err_msg());
	exit(1);
}

static void build(ca_store *st, const char *issuer, X509 *icert, EVP_PKEY *signer, const X509_NAME *subj,
		  const ca_serial *ser, ca_cert_record *rec, int64_t now)
{
	GENERAL_NAMES *sans = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gn = a2i_GENERAL_NAME(NULL, NULL, NULL, GEN_DNS, "ep.relay.bench", 0);
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ca_cert_spec spec = {.profile = CA_PROFILE_SERVER, .subject = (X509_NAME *)subj, .sans = sans, .subject_key = k,
			     .serial = ser->b, .serial_len = CA_SERIAL_LEN, .not_before = now - 60,
			     .not_after = now + 30 * 86400, .issuer = icert, .path_len = -1};
	X509 *x = NULL;
	unsigned char *der = NULL;
	size_t len = 0;

	(void)st;
	sk_GENERAL_NAME_push(sans, gn);
	if (k == NULL || ca_x509_build(&spec, &x) != OFFCA_OK || ca_x509_sign(x, signer) != OFFCA_OK ||
	    ca_x509_to_der(x, &der, &len) != OFFCA_OK ||
	    ca_cert_record_from_der(der, len, issuer, "server", "bench relay seed", rec) != OFFCA_OK)
		die("build");
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(k);
	GENERAL_NAMES_free(sans);
}

int main(int argc, char **argv)
{
	ca_store *st = NULL;
	ca_issuer iss;
	X509 *icert = NULL;
	EVP_PKEY *signer;
	X509_NAME *subj = NULL;
	ca_serial *ser;
	ca_cert_record *recs;
	long n;
	int64_t now = (int64_t)time(NULL);

	if (argc != 4 || (n = strtol(argv[3], NULL, 10)) <= 0 || n > 1000000) {
		fprintf(stderr, "usage: bench_relay_seed HOME ISSUER N\n");
		return 2;
	}
	memset(&iss, 0, sizeof(iss));
	signer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ser = calloc(BATCH, sizeof(*ser));
	recs = calloc(BATCH, sizeof(*recs));
	if (signer == NULL || ser == NULL || recs == NULL)
		return 1;
	if (ca_store_open(argv[1], 0, &st) != OFFCA_OK)
		die("open");
	if (ca_store_issuer_get(st, argv[2], &iss) != OFFCA_OK || ca_x509_from_der(iss.der, iss.der_len, &icert) != OFFCA_OK)
		die("issuer");
	if (ca_x509_parse_dn("/CN=ep.relay.bench", &subj) != OFFCA_OK)
		die("dn");
	for (long done = 0; done < n;) {
		size_t b = (size_t)(n - done) < BATCH ? (size_t)(n - done) : BATCH;

		if (ca_store_serial_reserve(st, argv[2], b, ser) != OFFCA_OK)
			die("reserve");
		for (size_t i = 0; i < b; i++)
			build(st, argv[2], icert, signer, subj, &ser[i], &recs[i], now);
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
	EVP_PKEY_free(signer);
	free(ser);
	free(recs);
	return 0;
}
