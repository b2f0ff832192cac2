/*
 * export_sops.c - the TLS Secret as a SOPS document (YAML store, age key group), as `sops
 * --encrypt --encrypted-regex '^(data|stringData)$' --age RECIPIENTS` writes it:
 *   - a fresh 32-byte data key; each value under data: AES-256-GCM with a 32-byte random IV and
 *     the value's path ("data:tls.crt:") as associated data, written ENC[AES256_GCM,data:..,iv:..,
 *     tag:..,type:str]; empty values stay "" (SOPS leaves them so);
 *   - the MAC: SHA-512 over every value of the document in order (clear ones included, null
 *     skipped), upper-case hex, encrypted like a value with lastmodified (RFC 3339) as associated
 *     data;
 *   - the data key encrypted to each age recipient (export_age.c), ASCII-armored, one entry each.
 * AES-256-GCM, SHA-512 and the randomness come from OpenSSL.
 */
#include "export_int.h"
#include "offca/util.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SOPS_VERSION "3.9.0" /* the metadata format written (SOPS 3.9: no empty key lists) */
#define SOPS_IV_LEN  32      /* SOPS's nonce size */

struct sops_ctx {
	unsigned char key[32];
	EVP_MD_CTX *mac;
};

/* ENC[AES256_GCM,...] of text with associated data aad, appended to out. */
static offca_rc sops_encrypt(const unsigned char key[32], const char *text, const char *aad, ex_text *out)
{
	size_t len = strlen(text);
	unsigned char iv[SOPS_IV_LEN], tag[16], *ct = malloc(len + 16);
	char *b_ct = NULL, *b_iv = NULL, *b_tag = NULL;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, f = 0, ok;
	offca_rc rc;

	ok = ct != NULL && c != NULL && RAND_bytes(iv, sizeof(iv)) == 1 &&
	     EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SOPS_IV_LEN, NULL) == 1 &&
	     EVP_EncryptInit_ex(c, NULL, NULL, key, iv) == 1 &&
	     EVP_EncryptUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
	     EVP_EncryptUpdate(c, ct, &n, (const unsigned char *)text, (int)len) == 1 &&
	     EVP_EncryptFinal_ex(c, ct + n, &f) == 1 && (size_t)(n + f) == len &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok) {
		free(ct);
		return ut_err_ssl(OFFCA_E_CRYPTO, "AES-256-GCM failed");
	}
	if ((rc = ex_b64(ct, len, &b_ct)) == OFFCA_OK && (rc = ex_b64(iv, sizeof(iv), &b_iv)) == OFFCA_OK &&
	    (rc = ex_b64(tag, sizeof(tag), &b_tag)) == OFFCA_OK && (rc = ex_text_str(out, "ENC[AES256_GCM,data:")) == OFFCA_OK &&
	    (rc = ex_text_str(out, b_ct)) == OFFCA_OK && (rc = ex_text_str(out, ",iv:")) == OFFCA_OK &&
	    (rc = ex_text_str(out, b_iv)) == OFFCA_OK && (rc = ex_text_str(out, ",tag:")) == OFFCA_OK &&
	    (rc = ex_text_str(out, b_tag)) == OFFCA_OK)
		rc = ex_text_str(out, ",type:str]");
	free(ct);
	free(b_ct);
	free(b_iv);
	free(b_tag);
	return rc;
}

static offca_rc mac_add(struct sops_ctx *s, const char *v)
{
	if (EVP_DigestUpdate(s->mac, v, strlen(v)) != 1)
		return ut_err_ssl(OFFCA_E_CRYPTO, "SHA-512 failed");
	return OFFCA_OK;
}

static offca_rc sops_value(void *arg, const char *key, const char *b64, ex_text *out)
{
	struct sops_ctx *s = arg;
	char aad[64];
	offca_rc rc;

	if (b64[0] == '\0')
		return ex_text_str(out, "\"\"");
	if ((rc = mac_add(s, b64)) != OFFCA_OK)
		return rc;
	snprintf(aad, sizeof(aad), "data:%s:", key);
	return sops_encrypt(s->key, b64, aad, out);
}

/* "    age:\n        - recipient: R\n          enc: |\n            <armor lines>" per recipient. */
static offca_rc age_entries(const unsigned char key[32], const char *const *age, size_t n, ex_text *out)
{
	unsigned char pub[32];
	char *arm = NULL;
	offca_rc rc = ex_text_str(out, "    age:\n");

	for (size_t i = 0; i < n && rc == OFFCA_OK; i++) {
		if ((rc = ca_age_recipient_parse(age[i], pub)) != OFFCA_OK ||
		    (rc = ca_age_encrypt((const unsigned char(*)[32])pub, 1, key, 32, &arm)) != OFFCA_OK)
			break;
		if ((rc = ex_text_str(out, "        - recipient: ")) == OFFCA_OK && (rc = ex_text_str(out, age[i])) == OFFCA_OK)
			rc = ex_text_str(out, "\n          enc: |\n");
		for (char *line = arm; rc == OFFCA_OK && *line != '\0';) {
			char *nl = strchr(line, '\n');
			size_t len = nl ? (size_t)(nl - line) : strlen(line);
			if ((rc = ex_text_str(out, "            ")) == OFFCA_OK && (rc = ex_text_add(out, line, len)) == OFFCA_OK)
				rc = ex_text_str(out, "\n");
			line += len + (nl ? 1 : 0);
		}
		free(arm);
		arm = NULL;
	}
	return rc;
}

/* The MAC over the clear values after the data ones, encrypted with lastmodified as AAD. */
static offca_rc metadata(struct sops_ctx *s, const char *name, const char *ns, const char *const *age, size_t n_age,
			 int64_t now, ex_text *out)
{
	unsigned char md[64];
	unsigned int mdlen = 0;
	char hex[129], when[32];
	time_t t = (time_t)now;
	struct tm tm;
	offca_rc rc;

	if ((rc = mac_add(s, "Secret")) != OFFCA_OK || (rc = mac_add(s, name)) != OFFCA_OK ||
	    (ns != NULL && (rc = mac_add(s, ns)) != OFFCA_OK) || (rc = mac_add(s, "kubernetes.io/tls")) != OFFCA_OK)
		return rc;
	if (EVP_DigestFinal_ex(s->mac, md, &mdlen) != 1 || mdlen != 64)
		return ut_err_ssl(OFFCA_E_CRYPTO, "SHA-512 failed");
	for (int i = 0; i < 64; i++)
		snprintf(hex + 2 * i, 3, "%02X", md[i]);
	if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return ut_err(OFFCA_E_INTERNAL, "cannot format the time");
	if ((rc = ex_text_str(out, "sops:\n")) != OFFCA_OK || (rc = age_entries(s->key, age, n_age, out)) != OFFCA_OK)
		return rc;
	if ((rc = ex_text_str(out, "    lastmodified: \"")) == OFFCA_OK && (rc = ex_text_str(out, when)) == OFFCA_OK &&
	    (rc = ex_text_str(out, "\"\n    mac: ")) == OFFCA_OK && (rc = sops_encrypt(s->key, hex, when, out)) == OFFCA_OK)
		rc = ex_text_str(out, "\n    encrypted_regex: ^(data|stringData)$\n    version: " SOPS_VERSION "\n");
	return rc;
}

offca_rc ca_export_sops_secret(const ca_export_item *it, const char *name, const char *ns, const char *const *age,
			       size_t n_age, int64_t now, char **yaml, size_t *len)
{
	struct sops_ctx s;
	ex_text t = {0};
	unsigned char pub[32];
	offca_rc rc = OFFCA_OK;

	*yaml = NULL;
	*len = 0;
	if (n_age == 0 || n_age > CA_EXPORT_MAX_AGE)
		return ut_err(OFFCA_E_USAGE, "SOPS needs 1..%d age recipients", CA_EXPORT_MAX_AGE);
	for (size_t i = 0; i < n_age && rc == OFFCA_OK; i++)
		rc = ca_age_recipient_parse(age[i], pub); /* all checked before anything is made */
	if (rc != OFFCA_OK)
		return rc;
	if ((rc = ex_check_names(name, ns)) != OFFCA_OK)
		return rc;
	memset(&s, 0, sizeof(s));
	if (RAND_bytes(s.key, sizeof(s.key)) != 1 || (s.mac = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(s.mac, EVP_sha512(), NULL) != 1 || EVP_DigestUpdate(s.mac, "v1", 2) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot start the SOPS encryption");
		goto out;
	}
	if ((rc = ex_secret_yaml(it, name, ns, 4, sops_value, &s, &t)) != OFFCA_OK ||
	    (rc = metadata(&s, name, ns, age, n_age, now, &t)) != OFFCA_OK)
		goto out;
	*yaml = t.p;
	*len = t.len;
	t.p = NULL;
out:
	ex_text_free(&t);
	ut_memzero(s.key, sizeof(s.key));
	EVP_MD_CTX_free(s.mac);
	return rc;
}
