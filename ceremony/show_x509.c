/* show_x509.c - what lets a witness refuse the wrong thing: a CSR's hashes, key, subject and
   requested names before it is signed; a CA certificate's issuer, pathLen, name constraints and
   public-key fingerprint (tying it to the key step) after. Hashes in the one grouped format. */
#include "ceremony_int.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "offca/util.h"

/* The BIO's text as a C string into buf (cut to cap). */
static void bio_text(BIO *b, char *buf, size_t cap)
{
	char *p = NULL;
	long n = BIO_get_mem_data(b, &p);

	snprintf(buf, cap, "%.*s", (int)(n > 0 ? n : 0), p ? p : "");
}

static void name_openssl(const X509_NAME *dn, char *buf, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());

	buf[0] = '\0';
	if (b != NULL && X509_NAME_print_ex(b, dn, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) >= 0)
		bio_text(b, buf, cap);
	BIO_free(b);
}

static void key_text(EVP_PKEY *pk, char *buf, size_t cap)
{
	char group[64] = "";
	size_t gl = 0;

	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC && EVP_PKEY_get_group_name(pk, group, sizeof(group), &gl) == 1)
		snprintf(buf, cap, "EC %s (%d bits)", group, EVP_PKEY_get_bits(pk));
	else
		snprintf(buf, cap, "%s %d bits", OBJ_nid2sn(EVP_PKEY_get_base_id(pk)), EVP_PKEY_get_bits(pk));
}

void cer_spki_fingerprint(EVP_PKEY *pk, char *fp, size_t cap)
{
	unsigned char *der = NULL;
	int n = pk ? i2d_PUBKEY(pk, &der) : 0;

	fp[0] = '\0';
	if (n > 0)
		cer_fingerprint(der, (size_t)n, fp, cap);
	OPENSSL_free(der);
}

static void requested_sans(X509_REQ *req, char *buf, size_t cap)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	BIO *b = BIO_new(BIO_s_mem());

	snprintf(buf, cap, "(none requested)");
	for (int i = 0; b != NULL && i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
		if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) != NID_subject_alt_name)
			continue;
		if (X509V3_EXT_print(b, e, 0, 0) == 1)
			bio_text(b, buf, cap);
		break;
	}
	BIO_free(b);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}

static X509_REQ *parse_req(const unsigned char *data, size_t len)
{
	BIO *b = BIO_new_mem_buf(data, (int)len);
	X509_REQ *req = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
	const unsigned char *p = data;

	BIO_free(b);
	if (req == NULL)
		req = d2i_X509_REQ(NULL, &p, (long)len);
	ERR_clear_error();
	return req;
}

offca_rc cer_csr_show(cer_run_t *r, const char *label, const unsigned char *data, size_t len)
{
	X509_REQ *req = parse_req(data, len);
	unsigned char *der = NULL;
	char csr_fp[CER_FP_LEN] = "", key_fp[CER_FP_LEN] = "", key[96] = "", subj[1024] = "", sans[1024] = "";
	EVP_PKEY *pk;
	int n;

	if (req == NULL)
		return ut_err(OFFCA_E_PARSE, "%s: not a CSR", label);
	n = i2d_X509_REQ(req, &der);
	if (n > 0)
		cer_fingerprint(der, (size_t)n, csr_fp, sizeof(csr_fp));
	OPENSSL_free(der);
	pk = X509_REQ_get0_pubkey(req);
	if (pk != NULL) {
		cer_spki_fingerprint(pk, key_fp, sizeof(key_fp));
		key_text(pk, key, sizeof(key));
	}
	name_openssl(X509_REQ_get_subject_name(req), subj, sizeof(subj));
	requested_sans(req, sans, sizeof(sans));
	X509_REQ_free(req);
	cer_say(r, "    CSR SHA-256 (DER)        %s\n    public key SHA-256       %s\n    key                      %s\n"
		   "    subject (openssl req)    %s\n    requested SANs           %s\n",
		csr_fp, key_fp, key, subj[0] ? subj : "(empty)", sans);
	return cer_log(r, "csr-details", json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "csr", label, "csr_sha256", csr_fp,
						   "key_sha256", key_fp, "key", key, "subject_openssl", subj,
						   "requested_sans", sans));
}

/* "DNS:a, DNS:b" of one subtree list. */
static void subtrees(STACK_OF(GENERAL_SUBTREE) *st, char *buf, size_t cap)
{
	size_t k = 0;

	buf[0] = '\0';
	for (int i = 0; i < sk_GENERAL_SUBTREE_num(st) && k + 2 < cap; i++) {
		GENERAL_NAME *g = sk_GENERAL_SUBTREE_value(st, i)->base;
		char one[300] = "?";
		if (g->type == GEN_DNS)
			snprintf(one, sizeof(one), "DNS:%.*s", g->d.dNSName->length, (const char *)g->d.dNSName->data);
		else if (g->type == GEN_EMAIL)
			snprintf(one, sizeof(one), "email:%.*s", g->d.rfc822Name->length, (const char *)g->d.rfc822Name->data);
		else if (g->type == GEN_URI)
			snprintf(one, sizeof(one), "URI:%.*s", g->d.uniformResourceIdentifier->length,
				 (const char *)g->d.uniformResourceIdentifier->data);
		else if (g->type == GEN_IPADD)
			snprintf(one, sizeof(one), "IP range (%d bytes)", g->d.iPAddress->length);
		k += (size_t)snprintf(buf + k, cap - k, "%s%s", k ? ", " : "", one);
	}
	if (k >= cap)
		buf[cap - 1] = '\0';
}

void cer_show_ca_details(cer_run_t *r, X509 *x)
{
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	NAME_CONSTRAINTS *nc = X509_get_ext_d2i(x, NID_name_constraints, NULL, NULL);
	char issuer[1024] = "", plen[32] = "none (unlimited)", perm[1024] = "", excl[1024] = "", kfp[CER_FP_LEN];

	if (ca_x509_name_text(X509_get_issuer_name(x), issuer, sizeof(issuer)) != OFFCA_OK)
		snprintf(issuer, sizeof(issuer), "(unprintable)");
	if (bc != NULL && bc->pathlen != NULL)
		snprintf(plen, sizeof(plen), "%ld", ASN1_INTEGER_get(bc->pathlen));
	if (nc != NULL) {
		subtrees(nc->permittedSubtrees, perm, sizeof(perm));
		subtrees(nc->excludedSubtrees, excl, sizeof(excl));
	}
	cer_spki_fingerprint(X509_get0_pubkey(x), kfp, sizeof(kfp));
	cer_say(r, "    issuer    %s\n    pathLen   %s\n    name constraints  %s%s%s%s\n"
		   "    public key SHA-256 %s\n      (the same value the key step showed: this certificate is for that key)\n",
		issuer, bc && bc->ca ? plen : "(not a CA)", nc ? "permitted " : "none", nc ? (perm[0] ? perm : "(none)") : "",
		nc && excl[0] ? "; excluded " : "", nc && excl[0] ? excl : "", kfp);
	cer_log(r, "ca-details", json_pack("{s:s, s:s, s:s, s:s, s:s}", "issuer", issuer, "path_len", plen, "permitted",
					   perm, "excluded", excl, "key_sha256", kfp));
	BASIC_CONSTRAINTS_free(bc);
	NAME_CONSTRAINTS_free(nc);
}
