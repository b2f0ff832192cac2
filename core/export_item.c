/* export_item.c - one store record as the pieces every delivery artifact is made of (offca/export.h). */
#include "offca/export.h"
#include "offca/util.h"
#include "offca/x509.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROOT_MAX_DEPTH 16

static offca_rc buf_cat(ca_export_buf *b, const char *p, size_t len)
{
	char *n = realloc(b->p, b->len + len + 1);

	if (n == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	memcpy(n + b->len, p, len);
	b->len += len;
	n[b->len] = '\0';
	b->p = n;
	return OFFCA_OK;
}

static offca_rc buf_pem(ca_export_buf *b, const unsigned char *der, size_t len)
{
	char *pem = NULL;
	size_t plen = 0;
	offca_rc rc = ca_x509_der_to_pem(der, len, &pem, &plen);

	if (rc == OFFCA_OK)
		rc = buf_cat(b, pem, plen);
	free(pem);
	return rc;
}

/* The root above issuer name: follow parents to the self-signed one. */
static offca_rc root_of(ca_store *st, const char *issuer, ca_issuer *root)
{
	char name[64];
	offca_rc rc;

	snprintf(name, sizeof(name), "%s", issuer);
	for (int depth = 0; depth < ROOT_MAX_DEPTH; depth++) {
		rc = ca_store_issuer_get(st, name, root);
		if (rc == OFFCA_E_NOT_FOUND)
			return ut_err(OFFCA_E_STATE, "issuer '%s' of this certificate is not in the store", name);
		if (rc != OFFCA_OK)
			return rc;
		if (root->is_root || root->parent[0] == '\0')
			return OFFCA_OK;
		snprintf(name, sizeof(name), "%s", root->parent);
		ca_issuer_clear(root);
	}
	return ut_err(OFFCA_E_STORE, "issuer chain of %s is longer than %d (loop?)", issuer, ROOT_MAX_DEPTH);
}

/* Lower-case [a-z0-9.-_] of the first SAN value (wildcard "*" -> "_"), else the CN, else the serial. */
static void dir_name(const ca_cert_record *rec, X509 *x, char *out, size_t cap)
{
	char cn[256] = "";
	const char *src = cn, *c;
	size_t k = 0;

	if (rec->n_sans > 0) {
		src = strchr(rec->sans[0], ':');
		src = src ? src + 1 : rec->sans[0];
	} else {
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	}
	for (c = src; *c != '\0' && k + 1 < cap; c++) {
		unsigned char ch = (unsigned char)*c;
		if (isalnum(ch) || ch == '.' || ch == '-' || ch == '_')
			out[k++] = (char)tolower(ch);
		else if (k > 0 && out[k - 1] != '_')
			out[k++] = '_';
	}
	while (k > 0 && (out[k - 1] == '.' || out[k - 1] == '_'))
		k--;
	out[k] = '\0';
	if (out[0] == '.' || out[0] == '-')
		out[0] = '_';
}

static void iso(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "@%lld", (long long)t);
}

static offca_rc metadata(const ca_cert_record *rec, X509 *x, const char *serial, const char *root_name,
			 ca_export_buf *out)
{
	char nb[32], na[32], rb[32], issuer_dn[CA_STORE_MAX_SUBJECT];
	char *fp = ut_hex(rec->sha256, sizeof(rec->sha256)), *text = NULL;
	json_t *o = json_object(), *sans = json_array();
	offca_rc rc = OFFCA_E_NOMEM;
	int64_t life = rec->not_after - rec->not_before;

	if (fp == NULL || o == NULL || sans == NULL)
		goto out;
	for (size_t i = 0; i < rec->n_sans; i++)
		json_array_append_new(sans, json_string(rec->sans[i]));
	if (ca_x509_name_text(X509_get_issuer_name(x), issuer_dn, sizeof(issuer_dn)) != OFFCA_OK)
		issuer_dn[0] = '\0';
	iso(rec->not_before, nb, sizeof(nb));
	iso(rec->not_after, na, sizeof(na));
	iso(rec->not_after - (life > 0 ? life / 3 : 0), rb, sizeof(rb));
	json_object_set_new(o, "serial", json_string(serial));
	json_object_set_new(o, "sha256", json_string(fp));
	json_object_set_new(o, "subject", json_string(rec->subject ? rec->subject : ""));
	json_object_set_new(o, "sans", sans);
	sans = NULL;
	json_object_set_new(o, "issuer", json_string(issuer_dn));
	json_object_set_new(o, "issuer_name", json_string(rec->issuer));
	json_object_set_new(o, "root_name", json_string(root_name));
	json_object_set_new(o, "not_before", json_string(nb));
	json_object_set_new(o, "not_after", json_string(na));
	json_object_set_new(o, "renew_before", json_string(rb));
	json_object_set_new(o, "profile", json_string(rec->profile));
	json_object_set_new(o, "status", json_string(rec->status == CA_CERT_REVOKED ? "revoked"
						     : rec->not_after < (int64_t)time(NULL) ? "expired" : "valid"));
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text == NULL || (rc = buf_cat(out, text, strlen(text))) != OFFCA_OK || (rc = buf_cat(out, "\n", 1)) != OFFCA_OK)
		goto out;
	rc = OFFCA_OK;
out:
	if (rc == OFFCA_E_NOMEM)
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
	free(text);
	json_decref(sans);
	json_decref(o);
	free(fp);
	return rc;
}

static offca_rc sans_text(const ca_cert_record *rec, char **out)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < rec->n_sans; i++)
		len += strlen(rec->sans[i]) + 2;
	if ((s = calloc(1, len)) == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	for (size_t i = 0; i < rec->n_sans; i++) {
		if (i > 0)
			strcat(s, ", ");
		strcat(s, rec->sans[i]);
	}
	*out = s;
	return OFFCA_OK;
}

/* The stored DER, parsed, checked against the record's fingerprint. */
static offca_rc record_x509(const ca_cert_record *rec, X509 **x)
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	*x = NULL;
	if (EVP_Digest(rec->der, rec->der_len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32 ||
	    memcmp(md, rec->sha256, 32) != 0)
		return ut_err(OFFCA_E_STORE, "the stored certificate does not match its record's SHA-256");
	if (ca_x509_from_der(rec->der, rec->der_len, x) != OFFCA_OK)
		return ut_err(OFFCA_E_STORE, "a stored certificate is not valid DER");
	return OFFCA_OK;
}

offca_rc ca_export_item_load(ca_store *st, const ca_cert_record *rec, ca_export_item *out)
{
	unsigned char **ders = NULL;
	size_t *lens = NULL, n = 0;
	ca_issuer root;
	X509 *x = NULL;
	offca_rc rc;

	memset(out, 0, sizeof(*out));
	memset(&root, 0, sizeof(root));
	if ((rc = record_x509(rec, &x)) != OFFCA_OK)
		goto out;
	ca_serial_hex(&rec->serial, out->serial, sizeof(out->serial));
	dir_name(rec, x, out->name, sizeof(out->name));
	if (out->name[0] == '\0')
		snprintf(out->name, sizeof(out->name), "%s", out->serial);
	out->not_after = rec->not_after;
	if ((out->der = malloc(rec->der_len)) == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(out->der, rec->der, rec->der_len);
	out->der_len = rec->der_len;
	if ((rc = sans_text(rec, &out->sans_text)) != OFFCA_OK || (rc = buf_pem(&out->cert, rec->der, rec->der_len)) != OFFCA_OK)
		goto out;
	out->self_signed = X509_check_issued(x, x) == X509_V_OK;
	if ((!out->self_signed && (rc = ca_store_chain(st, rec, &ders, &lens, &n)) != OFFCA_OK) ||
	    (rc = root_of(st, rec->issuer, &root)) != OFFCA_OK)
		goto out;
	if ((rc = buf_cat(&out->fullchain, out->cert.p, out->cert.len)) != OFFCA_OK)
		goto out;
	for (size_t i = 0; i < n && rc == OFFCA_OK; i++)
		if ((rc = buf_pem(&out->chain, ders[i], lens[i])) == OFFCA_OK)
			rc = buf_pem(&out->fullchain, ders[i], lens[i]);
	if (rc == OFFCA_OK && (rc = buf_pem(&out->root, root.der, root.der_len)) == OFFCA_OK)
		rc = metadata(rec, x, out->serial, root.name, &out->metadata);
out:
	if (rc != OFFCA_OK)
		ca_export_item_clear(out);
	ca_der_list_free(ders, lens, n);
	ca_issuer_clear(&root);
	X509_free(x);
	return rc;
}

offca_rc ca_export_item_set_key(ca_export_item *it, EVP_PKEY *key)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *p = NULL;
	long n;
	offca_rc rc = OFFCA_OK;

	if (b == NULL || PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the private key");
	} else {
		n = BIO_get_mem_data(b, &p);
		ut_free_secret(it->key.p, it->key.len);
		it->key.p = NULL;
		it->key.len = 0;
		rc = n > 0 ? buf_cat(&it->key, p, (size_t)n) : ut_err(OFFCA_E_CRYPTO, "empty private key");
	}
	BIO_free(b); /* secure heap: cleared on free */
	return rc;
}

void ca_export_item_clear(ca_export_item *it)
{
	if (it == NULL)
		return;
	free(it->cert.p);
	free(it->chain.p);
	free(it->fullchain.p);
	free(it->root.p);
	free(it->metadata.p);
	ut_free_secret(it->key.p, it->key.len);
	free(it->sans_text);
	free(it->der);
	memset(it, 0, sizeof(*it));
}
