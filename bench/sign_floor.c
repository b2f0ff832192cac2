/*
 * sign_floor.c - the CPU cost of the work every certificate of `offca sign` needs besides the
 * token signature, measured one operation at a time on one thread:
 *   - ca_csr_parse(): strict intake of the CSR (d2i, canonical re-encoding, extension checks)
 *     including its self-signature verification; d2i_X509_REQ and X509_REQ_verify alone too, to
 *     show how much of it is decoding (OpenSSL 3.0 sets up its provider decoders for the public
 *     key on every d2i);
 *   - ca_x509_keyctx_verify(): the check of the new certificate's signature with the issuer's key,
 *     as the pipeline does it (context prepared once).
 * bench/sign_bench.sh adds the raw token signature (bench_raw_sign) to get the CPU floor per
 * certificate and the wall-clock ceiling on the machine's cores.
 *
 *   bench_sign_floor CSR_FILE CERT_PEM ISSUER_PEM [SECONDS]
 *
 * Prints "sign_floor: csr_parse P us (d2i_X509_REQ D us, csr self-signature verify V us);
 * cert_verify C us". Not a test.
 */
#include "offca/csr.h"
#include "offca/util.h"
#include "offca/x509.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_CSR 65536

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_sign_floor: %s\n", what);
	exit(1);
}

static X509 *load_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f != NULL)
		fclose(f);
	if (x == NULL)
		die("cannot read a PEM certificate");
	return x;
}

struct ops {
	const unsigned char *csr, *der;
	size_t len;
	int dlen;
	X509_REQ *req;
	X509 *leaf, *issuer;
	ca_x509_keyctx *kc;
};

static void op_parse(const struct ops *o)
{
	ca_csr *x = NULL;

	if (ca_csr_parse(o->csr, o->len, &x) != OFFCA_OK)
		die(ut_err_msg());
	ca_csr_free(x);
}

static void op_d2i(const struct ops *o)
{
	const unsigned char *p = o->der;
	X509_REQ *r = d2i_X509_REQ(NULL, &p, o->dlen);

	if (r == NULL)
		die("d2i_X509_REQ failed");
	X509_REQ_free(r);
}

static void op_req_verify(const struct ops *o)
{
	if (X509_REQ_verify(o->req, X509_REQ_get0_pubkey(o->req)) != 1)
		die("X509_REQ_verify failed");
}

static void op_verify(const struct ops *o)
{
	if (ca_x509_keyctx_verify(o->kc, o->leaf) != OFFCA_OK)
		die(ut_err_msg());
}

/* Microseconds of thread CPU time per call: the best of ROUNDS rounds of secs/ROUNDS each (other
   processes on the machine inflate single rounds; the best round is the least disturbed). */
#define ROUNDS 5
static double time_op(double secs, void (*op)(const struct ops *), const struct ops *o)
{
	double best = 0;

	for (int r = 0; r < ROUNDS; r++) {
		unsigned long n = 0;
		double t0 = cpu_s(), t1, us;

		do {
			for (int k = 0; k < 50; k++, n++)
				op(o);
			t1 = cpu_s();
		} while (t1 - t0 < secs / ROUNDS);
		us = (t1 - t0) * 1e6 / (double)n;
		if (r == 0 || us < best)
			best = us;
	}
	return best;
}

int main(int argc, char **argv)
{
	static unsigned char csr[MAX_CSR];
	unsigned char *der = NULL;
	size_t len;
	int dlen;
	double secs = argc > 4 ? atof(argv[4]) : 1.0, t_parse, t_d2i, t_rverify, t_verify;
	FILE *f;
	struct ops o;
	ca_csr *c = NULL;
	X509_REQ *req;
	X509 *leaf, *issuer;

	if (argc < 4) {
		fprintf(stderr, "usage: bench_sign_floor CSR_FILE CERT_PEM ISSUER_PEM [SECONDS]\n");
		return 2;
	}
	if ((f = fopen(argv[1], "rb")) == NULL)
		die("cannot open the CSR");
	len = fread(csr, 1, sizeof(csr), f);
	fclose(f);
	if (ca_csr_parse(csr, len, &c) != OFFCA_OK)
		die(ut_err_msg());
	ca_csr_free(c);
	leaf = load_cert(argv[2]);
	issuer = load_cert(argv[3]);
	if (ca_x509_verify(leaf, X509_get0_pubkey(issuer)) != OFFCA_OK)
		die("the certificate was not signed by that issuer");
	/* the same request as DER, for d2i alone */
	if ((f = fopen(argv[1], "r")) == NULL || (req = PEM_read_X509_REQ(f, NULL, NULL, NULL)) == NULL)
		die("the CSR is not PEM");
	fclose(f);
	if ((dlen = i2d_X509_REQ(req, &der)) <= 0)
		die("cannot encode the CSR");

	o.csr = csr;
	o.len = len;
	o.der = der;
	o.dlen = dlen;
	o.req = req;
	o.leaf = leaf;
	o.issuer = issuer;
	if (ca_x509_keyctx_new(NULL, X509_get0_pubkey(issuer), &o.kc) != OFFCA_OK)
		die(ut_err_msg());
	t_parse = time_op(secs, op_parse, &o);
	t_d2i = time_op(secs, op_d2i, &o);
	t_rverify = time_op(secs, op_req_verify, &o);
	t_verify = time_op(secs, op_verify, &o);
	printf("sign_floor: csr_parse %.1f us (d2i_X509_REQ %.1f us, csr self-signature verify %.1f us); "
	       "cert_verify %.1f us\n", t_parse, t_d2i, t_rverify, t_verify);
	OPENSSL_free(der);
	X509_REQ_free(req);
	X509_free(leaf);
	ca_x509_keyctx_free(o.kc);
	X509_free(issuer);
	return 0;
}
