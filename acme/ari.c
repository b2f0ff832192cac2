/* ari.c - RFC 9773 certID and renewal window (see ari.h). */
#define _XOPEN_SOURCE 700 /* strptime */
#include "ari.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "offca/util.h"

offca_rc acme_ari_certid(X509 *cert, char **out)
{
	offca_rc rc = OFFCA_E_NOMEM;
	const ASN1_OCTET_STRING *kid = X509_get0_authority_key_id(cert);
	const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
	unsigned char *der = NULL;
	char *a = NULL, *b = NULL;
	int n;
	size_t hl, l;

	*out = NULL;
	if (kid == NULL)
		return ut_err(OFFCA_E_UNSUPPORTED, "the certificate has no authority key identifier (ARI needs it)");
	n = i2d_ASN1_INTEGER(serial, &der);
	if (n < 3)
		return ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the serial");
	/* skip tag and (short or long form) length: keep the content octets */
	hl = (der[1] & 0x80) ? 2 + (size_t)(der[1] & 0x7f) : 2;
	if (hl >= (size_t)n)
		goto out;
	a = acme_b64url(ASN1_STRING_get0_data(kid), (size_t)ASN1_STRING_length(kid));
	b = acme_b64url(der + hl, (size_t)n - hl);
	if (a == NULL || b == NULL)
		goto out;
	l = strlen(a) + strlen(b) + 2;
	*out = malloc(l);
	if (*out == NULL)
		goto out;
	snprintf(*out, l, "%s.%s", a, b);
	rc = OFFCA_OK;
out:
	if (rc != OFFCA_OK)
		ut_err(rc, "out of memory");
	OPENSSL_free(der);
	free(a);
	free(b);
	return rc;
}

offca_rc acme_rfc3339(const char *s, time_t *out)
{
	struct tm tm;
	const char *p;
	long off = 0;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return ut_err(OFFCA_E_PARSE, "bad timestamp %.40s", s);
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
		 p[3] == ':' && isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600L + ((p[4] - '0') * 10 + (p[5] - '0')) * 60L;
		if (*p == '+')
			off = -off;
		p += 6;
	} else
		return ut_err(OFFCA_E_PARSE, "bad timestamp %.40s", s);
	if (*p != '\0')
		return ut_err(OFFCA_E_PARSE, "bad timestamp %.40s", s);
	*out = timegm(&tm) + off;
	return OFFCA_OK;
}

offca_rc acme_ari_window(struct acme_client *c, X509 *cert, time_t *start, time_t *end)
{
	offca_rc rc;
	const char *base = acme_client_url(c, "renewalInfo");
	char *id = NULL, *url = NULL;
	struct acme_resp r;
	json_t *j = NULL, *w;
	json_error_t err;
	size_t l;

	memset(&r, 0, sizeof(r));
	if (base == NULL || base[0] == '\0')
		return ut_err(OFFCA_E_UNSUPPORTED, "the CA offers no renewalInfo (ARI)");
	rc = acme_ari_certid(cert, &id);
	if (rc != OFFCA_OK)
		return rc;
	l = strlen(base) + strlen(id) + 2;
	url = malloc(l);
	if (url == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	snprintf(url, l, "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/", id);
	rc = acme_client_get(c, url, &r);
	if (rc != OFFCA_OK)
		goto out;
	if (r.status != 200) {
		rc = ut_err(OFFCA_E_PROTOCOL, "renewalInfo %s: HTTP %ld", url, r.status);
		goto out;
	}
	j = json_loadb((const char *)r.body, r.len, 0, &err);
	w = json_object_get(j, "suggestedWindow");
	if (!json_is_string(json_object_get(w, "start")) || !json_is_string(json_object_get(w, "end"))) {
		rc = ut_err(OFFCA_E_PROTOCOL, "renewalInfo %s: no suggestedWindow", url);
		goto out;
	}
	rc = acme_rfc3339(json_string_value(json_object_get(w, "start")), start);
	if (rc == OFFCA_OK)
		rc = acme_rfc3339(json_string_value(json_object_get(w, "end")), end);
out:
	acme_resp_clear(&r);
	json_decref(j);
	free(id);
	free(url);
	return rc;
}
