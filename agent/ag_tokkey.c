/*
 * ag_tokkey.c - an endpoint key kept on a PKCS#11 token (--key pkcs11:URI), through core's key
 * handle (offca/keyref.h): opened, or made there when the URI's object= label names no key yet,
 * never leaving the token. The agent keeps only URIs (DIR/pending/key.uri, archive/N/key.uri):
 * the canonical one of the key (token, id, object, type) followed by the query part the operator
 * gave (module-path), never a PIN (core refuses pin-value; the PIN comes from --pin-file).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "offca/keyref.h"
#include "offca/util.h"

int ag_is_pkcs11(const char *key)
{
	return key != NULL && strncmp(key, "pkcs11:", 7) == 0;
}

int ag_tkey_exit(offca_rc rc)
{
	switch (rc) {
	case OFFCA_E_PIN_INCORRECT:
	case OFFCA_E_PIN_LOCKED:
	case OFFCA_E_TOKEN_ABSENT:
	case OFFCA_E_TOKEN:
	case OFFCA_E_MODULE:
	case OFFCA_E_NOT_FOUND:
	case OFFCA_E_PERM:
	case OFFCA_E_EXISTS:
	case OFFCA_E_UNSUPPORTED:
	case OFFCA_E_CRYPTO:
		return AG_EXIT_TOKEN;
	default:
		return AG_EXIT_USAGE;
	}
}

void ag_tkey_close(ag_tkey *k)
{
	ca_keyref_free(k->ref);
	memset(k, 0, sizeof(*k));
}

/* k->uri: the key's canonical URI and the query part of the URI the operator gave */
static offca_rc set_uri(ag_tkey *k, const char *given)
{
	const char *q = strchr(given, '?');

	if (snprintf(k->uri, sizeof(k->uri), "%s%s", ca_keyref_uri(k->ref), q != NULL ? q : "") >= (int)sizeof(k->uri))
		return ut_err(OFFCA_E_USAGE, "pkcs11 URI too long");
	return OFFCA_OK;
}

static offca_rc with_uri(offca_rc rc, const char *uri)
{
	return rc == OFFCA_OK ? rc : ut_err(rc, "token key %s: %s", uri, ut_err_msg());
}

offca_rc ag_tkey_open(ag_tkey *k, const char *uri, const char *pin_file)
{
	offca_rc rc;

	memset(k, 0, sizeof(*k));
	if (pin_file == NULL)
		return ut_err(OFFCA_E_USAGE, "a key on a token needs --pin-file FILE (the token's user PIN)");
	rc = ca_keyref_open(uri, pin_file, &k->ref);
	if (rc == OFFCA_OK)
		rc = set_uri(k, uri);
	if (rc != OFFCA_OK)
		ag_tkey_close(k);
	return with_uri(rc, uri);
}

/* make a key labelled label (NULL: the URI's object=) on uri's token, then open it */
static offca_rc make_open(ag_tkey *k, const char *uri, const char *label, const char *pin_file)
{
	char *made = NULL, full[AG_MAX_URI];
	const char *q = strchr(uri, '?');
	offca_rc rc = ca_keyref_generate(uri, label, pin_file, &made);

	if (rc != OFFCA_OK)
		return with_uri(rc, uri);
	if (snprintf(full, sizeof(full), "%s%s", made, q != NULL ? q : "") >= (int)sizeof(full))
		rc = ut_err(OFFCA_E_USAGE, "pkcs11 URI too long");
	free(made);
	return rc == OFFCA_OK ? ag_tkey_open(k, full, pin_file) : rc;
}

offca_rc ag_tkey_obtain(ag_tkey *k, const char *uri, const char *pin_file, int *made)
{
	offca_rc rc = ag_tkey_open(k, uri, pin_file);

	*made = 0;
	if (rc != OFFCA_E_NOT_FOUND)
		return rc;
	rc = make_open(k, uri, NULL, pin_file);
	*made = rc == OFFCA_OK;
	return rc;
}

offca_rc ag_tkey_make(ag_tkey *k, const char *like_uri, const char *base_label, const char *pin_file)
{
	char label[96];
	offca_rc rc = OFFCA_E_EXISTS;

	memset(k, 0, sizeof(*k));
	if (pin_file == NULL)
		return ut_err(OFFCA_E_USAGE, "a key on a token needs --pin-file FILE (the token's user PIN)");
	/* a label of its own for every generation: BASE-<unix time>[-n], within the 64 bytes of a label */
	for (int n = 0; n < 10 && rc == OFFCA_E_EXISTS; n++) {
		if (n == 0)
			snprintf(label, sizeof(label), "%.50s-%lld", base_label, (long long)time(NULL));
		else
			snprintf(label, sizeof(label), "%.50s-%lld-%d", base_label, (long long)time(NULL), n);
		rc = make_open(k, like_uri, label, pin_file);
	}
	return rc;
}

void ag_tkey_drop(const char *uri, const char *pin_file, const char *why)
{
	if (ca_keyref_destroy(uri, pin_file) == OFFCA_OK)
		printf("offca-agent: deleted the %s key %s from the token\n", why, uri);
	else
		fprintf(stderr, "offca-agent: warning: the %s key %s stays on the token: %s\n", why, uri, ut_err_msg());
}

offca_rc ag_tkey_uri_read(const char *path, char *buf, size_t cap)
{
	unsigned char *b = NULL;
	size_t n = 0;
	offca_rc rc = ut_read_file(path, AG_MAX_URI, 1, &b, &n);

	if (rc != OFFCA_OK)
		return rc;
	while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r'))
		n--;
	if (n == 0 || n >= cap || memchr(b, '\0', n) != NULL || !ag_is_pkcs11((const char *)b))
		rc = ut_err(OFFCA_E_PARSE, "%s does not hold a pkcs11: URI", path);
	else {
		memcpy(buf, b, n);
		buf[n] = '\0';
	}
	free(b);
	return rc;
}

offca_rc ag_tkey_uri_write(const char *path, const char *uri)
{
	char line[AG_MAX_URI + 2];
	int n = snprintf(line, sizeof(line), "%s\n", uri);

	if (n < 0 || n >= (int)sizeof(line))
		return ut_err(OFFCA_E_USAGE, "pkcs11 URI too long");
	return ut_write_file(path, line, (size_t)n, UT_WF_EXCL);
}
