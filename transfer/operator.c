/* operator.c - enrolled operator certificates (HOME/operators/NAME.pem) that may sign inbound bundles. */
#include "offca/bundle.h"

#include <dirent.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offca/util.h"
#include "offca/x509.h"

static int op_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > XFR_MAX_OPERATOR_NAME || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* One certificate from PEM or DER bytes. */
static offca_rc load_cert(const unsigned char *data, size_t len, X509 **out)
{
	const unsigned char *p = data;
	BIO *bio;
	X509 *x = NULL;

	*out = NULL;
	if (len > 0 && data[0] == 0x30) {
		x = d2i_X509(NULL, &p, (long)len);
		if (x != NULL && p != data + len) {
			X509_free(x);
			x = NULL;
		}
	} else if (len <= INT_MAX) {
		bio = BIO_new_mem_buf(data, (int)len);
		if (bio != NULL)
			x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	if (x == NULL)
		return ut_err_ssl(OFFCA_E_PARSE, "not a PEM or DER certificate");
	*out = x;
	return OFFCA_OK;
}

static offca_rc cert_fp(X509 *x, unsigned char md[32])
{
	unsigned int n = 0;

	if (X509_digest(x, EVP_sha256(), md, &n) != 1 || n != 32)
		return ut_err_ssl(OFFCA_E_CRYPTO, "cannot hash a certificate");
	return OFFCA_OK;
}

static offca_rc ops_dir(const char *home, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/operators", home);

	if (n < 0 || (size_t)n >= cap)
		return ut_err(OFFCA_E_USAGE, "%s: path too long", home);
	return OFFCA_OK;
}

/* Callback per enrolled certificate: return 1 to stop. */
typedef int (*op_cb)(void *arg, const char *name, X509 *x, const unsigned char fp[32]);

static offca_rc each_operator(const char *home, op_cb cb, void *arg, int *stopped)
{
	offca_rc rc;
	char dirpath[PATH_MAX], path[PATH_MAX], name[XFR_MAX_OPERATOR_NAME + 1];
	unsigned char *data = NULL, fp[32];
	size_t len = 0, seen = 0, nl;
	struct dirent *de;
	DIR *d;
	X509 *x = NULL;

	*stopped = 0;
	rc = ops_dir(home, dirpath, sizeof(dirpath));
	if (rc != OFFCA_OK)
		return rc;
	d = opendir(dirpath);
	if (d == NULL)
		return OFFCA_OK; /* nobody enrolled */
	while (!*stopped && (de = readdir(d)) != NULL) {
		nl = strlen(de->d_name);
		if (nl < 5 || nl - 4 > XFR_MAX_OPERATOR_NAME || strcmp(de->d_name + nl - 4, ".pem") != 0)
			continue;
		memcpy(name, de->d_name, nl - 4);
		name[nl - 4] = '\0';
		if (!op_name_valid(name) || ++seen > XFR_MAX_OPERATORS)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name) >= (int)sizeof(path))
			continue;
		if (ut_read_file(path, UT_MAX_CERT_FILE, 1, &data, &len) != OFFCA_OK ||
		    load_cert(data, len, &x) != OFFCA_OK || cert_fp(x, fp) != OFFCA_OK) {
			ut_err_clear();
		} else if (cb(arg, name, x, fp)) {
			*stopped = 1;
		}
		free(data);
		data = NULL;
		X509_free(x);
		x = NULL;
	}
	closedir(d);
	return OFFCA_OK;
}

struct find {
	unsigned char fp[32];
	char name[XFR_MAX_OPERATOR_NAME + 1];
	int expired;
};

static int find_cb(void *arg, const char *name, X509 *x, const unsigned char fp[32])
{
	struct find *f = arg;

	if (CRYPTO_memcmp(fp, f->fp, 32) != 0)
		return 0;
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->expired = X509_cmp_current_time(X509_get0_notAfter(x)) <= 0 ||
		     X509_cmp_current_time(X509_get0_notBefore(x)) > 0;
	return 1;
}

offca_rc xfr_operator_enroll(const char *home, const char *name, const char *cert_path, char *fp_hex)
{
	offca_rc rc;
	char dirpath[PATH_MAX], path[PATH_MAX], *hex = NULL;
	unsigned char *data = NULL;
	size_t len = 0;
	struct find f;
	int stopped = 0;
	X509 *x = NULL;
	BIO *mem = NULL;
	BUF_MEM *pem;

	memset(&f, 0, sizeof(f));
	if (!op_name_valid(name))
		return ut_err(OFFCA_E_USAGE, "operator name must be 1..%u of [A-Za-z0-9._-], not starting with '.'",
			      XFR_MAX_OPERATOR_NAME);
	rc = ops_dir(home, dirpath, sizeof(dirpath));
	if (rc != OFFCA_OK)
		return rc;
	if (snprintf(path, sizeof(path), "%s/%s.pem", dirpath, name) >= (int)sizeof(path))
		return ut_err(OFFCA_E_USAGE, "%s: path too long", dirpath);
	rc = ut_read_file(cert_path, UT_MAX_CERT_FILE, 1, &data, &len);
	if (rc != OFFCA_OK)
		goto out;
	rc = load_cert(data, len, &x);
	if (rc != OFFCA_OK) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		rc = ut_err(rc, "%s: %s", cert_path, msg);
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0) {
		rc = ut_err(OFFCA_E_STATE, "%s: the certificate has expired", cert_path);
		goto out;
	}
	rc = cert_fp(x, f.fp);
	if (rc != OFFCA_OK)
		goto out;
	rc = each_operator(home, find_cb, &f, &stopped);
	if (rc != OFFCA_OK)
		goto out;
	if (stopped) {
		rc = ut_err(OFFCA_E_EXISTS, "this certificate is already enrolled as operator '%s'", f.name);
		goto out;
	}
	mem = BIO_new(BIO_s_mem());
	if (mem == NULL || PEM_write_bio_X509(mem, x) != 1) {
		rc = ut_err_ssl(OFFCA_E_NOMEM, "cannot encode the certificate");
		goto out;
	}
	BIO_get_mem_ptr(mem, &pem);
	rc = ut_mkdir_p(dirpath, 0700);
	if (rc == OFFCA_OK)
		rc = ut_write_file(path, pem->data, pem->length, UT_WF_EXCL);
	if (rc != OFFCA_OK)
		goto out;
	if (fp_hex != NULL) {
		hex = ut_hex(f.fp, 32);
		if (hex == NULL) {
			rc = ut_err(OFFCA_E_NOMEM, "out of memory");
			goto out;
		}
		memcpy(fp_hex, hex, 65);
	}
	rc = OFFCA_OK;
out:
	free(hex);
	BIO_free(mem);
	X509_free(x);
	free(data);
	return rc;
}

offca_rc xfr_operator_match(const char *home, X509 *signer, char *name_out)
{
	offca_rc rc;
	struct find f;
	int stopped = 0;
	char subj[256];

	memset(&f, 0, sizeof(f));
	name_out[0] = '\0';
	if (ca_x509_name_text(X509_get_subject_name(signer), subj, sizeof(subj)) != OFFCA_OK)
		snprintf(subj, sizeof(subj), "(unprintable subject)");
	rc = cert_fp(signer, f.fp);
	if (rc != OFFCA_OK)
		return rc;
	rc = each_operator(home, find_cb, &f, &stopped);
	if (rc != OFFCA_OK)
		return rc;
	if (!stopped)
		return ut_err(OFFCA_E_VERIFY, "bundle signer %s is not an enrolled operator "
			      "(offca bundle enroll-operator)", subj);
	if (f.expired)
		return ut_err(OFFCA_E_VERIFY, "operator '%s' (%s): certificate is expired or not yet valid", f.name,
			      subj);
	memcpy(name_out, f.name, strlen(f.name) + 1);
	return OFFCA_OK;
}
