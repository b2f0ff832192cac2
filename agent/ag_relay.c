/*
 * ag_relay.c - offca-agent run --relay URL (delivery pattern 5): GET URL/<hex SHA-256 of this
 * endpoint's public key>; 404 means nothing new. The object is opened and checked
 * (ag_relay_open.c), its sequence number must be above the last one installed for this key
 * (DIR/relay.json), then it is installed like an EST renewal (ag_install: a new generation, one
 * rename) and the deploy hook runs. On any failure the working certificate stays.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "ag_relay.h"
#include "offca/keyref.h"
#include "offca/publish.h"
#include "offca/util.h"

typedef struct relay_run {
	char dir[4096], cert[4300], full[4300], key[4300], root[4300], state[4300], newkey[4300], url[4400];
	char hex[65];
	unsigned char endpoint[32];
	EVP_PKEY *pkey, *pub; /* the endpoint's key (a file's, or its token's) and its public half */
	ag_tkey tk;           /* a token key: open while the object is opened */
	int token;
	X509 *cur, *root_x;
} relay_run;

static int fail(int code)
{
	fprintf(stderr, "offca-agent: %s\n", ut_err_msg());
	return code;
}

static void run_clear(relay_run *r)
{
	EVP_PKEY_free(r->pkey);
	EVP_PKEY_free(r->pub);
	if (r->token)
		ag_tkey_close(&r->tk);
	X509_free(r->cur);
	X509_free(r->root_x);
}

/* the last sequence number installed for this endpoint's key (0: none) */
static unsigned long long last_seq(const relay_run *r)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	unsigned long long v = 0;
	json_t *j;

	if (ut_read_file(r->state, 64 * 1024, 1, &buf, &n) != OFFCA_OK)
		return 0;
	j = json_loadb((const char *)buf, n, 0, NULL);
	free(buf);
	if (json_is_string(json_object_get(j, "endpoint")) &&
	    strcmp(json_string_value(json_object_get(j, "endpoint")), r->hex) == 0 &&
	    json_is_integer(json_object_get(j, "seq")))
		v = (unsigned long long)json_integer_value(json_object_get(j, "seq"));
	json_decref(j);
	return v;
}

static offca_rc save_seq(const relay_run *r, unsigned long long seq)
{
	json_t *j = json_pack("{s:s,s:I}", "endpoint", r->hex, "seq", (json_int_t)seq);
	char *js = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	offca_rc rc = js != NULL ? ut_write_file(r->state, js, strlen(js), 0) : ut_err(OFFCA_E_NOMEM, "out of memory");

	free(js);
	json_decref(j);
	return rc;
}

/* the installed generation's key: current/key.uri (a token key, PIN file from --pin-file or
   agent.json) or current/privkey.pem */
static offca_rc open_key(relay_run *r, const ag_opts *o)
{
	char uri_path[4300], uri[AG_MAX_URI], server[2048], label[256], pin[4300];
	offca_rc rc = ag_path(uri_path, sizeof(uri_path), o->dir, "current/key.uri");

	if (rc != OFFCA_OK || ut_path_exists(uri_path) != OFFCA_OK) {
		if ((rc = ag_key_load(r->key, &r->pkey)) != OFFCA_OK)
			return rc;
		r->pub = r->pkey;
		return EVP_PKEY_up_ref(r->pub) ? OFFCA_OK : ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	if (o->relay_client_auth)
		return ut_err(OFFCA_E_UNSUPPORTED, "--relay-client-auth with a key on a token: not supported (the relay's "
				  "client authentication reads a key file)");
	if ((rc = ag_tkey_uri_read(uri_path, uri, sizeof(uri))) != OFFCA_OK ||
	    (rc = ag_config_load(o->dir, server, sizeof(server), label, sizeof(label), pin, sizeof(pin))) != OFFCA_OK)
		return rc;
	r->token = 1;
	if ((rc = ag_tkey_open(&r->tk, uri, o->pin_file != NULL ? o->pin_file : pin[0] != '\0' ? pin : NULL)) != OFFCA_OK)
		return rc;
	r->pkey = ca_keyref_private(r->tk.ref);
	r->pub = ca_keyref_public(r->tk.ref);
	if (!EVP_PKEY_up_ref(r->pkey) || !EVP_PKEY_up_ref(r->pub)) {
		r->pkey = r->pub = NULL;
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	return OFFCA_OK;
}

static offca_rc run_init(relay_run *r, const ag_opts *o)
{
	size_t ul = strlen(o->relay);
	offca_rc rc;

	memset(r, 0, sizeof(*r));
	if (snprintf(r->dir, sizeof(r->dir), "%s", o->dir) >= (int)sizeof(r->dir))
		return ut_err(OFFCA_E_USAGE, "--out-dir too long");
	if ((rc = ag_path(r->cert, sizeof(r->cert), o->dir, "current/cert.pem")) != OFFCA_OK ||
	    (rc = ag_path(r->full, sizeof(r->full), o->dir, "current/fullchain.pem")) != OFFCA_OK ||
	    (rc = ag_path(r->key, sizeof(r->key), o->dir, "current/privkey.pem")) != OFFCA_OK ||
	    (rc = ag_path(r->root, sizeof(r->root), o->dir, "root.pem")) != OFFCA_OK ||
	    (rc = ag_path(r->state, sizeof(r->state), o->dir, "relay.json")) != OFFCA_OK ||
	    (rc = ag_path(r->newkey, sizeof(r->newkey), o->dir, "relay-key.pem")) != OFFCA_OK)
		return rc;
	if ((rc = ag_load_cert(r->cert, &r->cur)) != OFFCA_OK)
		return ut_err(OFFCA_E_STATE, "no installed certificate (%s): enroll first", ut_err_msg());
	if ((rc = ag_load_cert(r->root, &r->root_x)) != OFFCA_OK || (rc = open_key(r, o)) != OFFCA_OK)
		return rc;
	if ((rc = ca_pub_key_hash(r->pub, r->endpoint)) != OFFCA_OK)
		return rc;
	ca_pub_hex(r->endpoint, r->hex);
	while (ul > 0 && o->relay[ul - 1] == '/')
		ul--;
	if (snprintf(r->url, sizeof(r->url), "%.*s/%s", (int)ul, o->relay, r->hex) >= (int)sizeof(r->url))
		return ut_err(OFFCA_E_USAGE, "--relay URL too long");
	return OFFCA_OK;
}

/* 0 when there is an object to open; else the exit code (nothing new, or the relay's failure) */
static int fetch(const relay_run *r, const ag_opts *o, ag_resp *resp)
{
	offca_rc rc = ag_relay_get(r->url, o->relay_cacert, o->relay_client_auth ? r->full : NULL,
				   o->relay_client_auth ? r->key : NULL, resp);

	if (rc != OFFCA_OK)
		return fail(rc == OFFCA_E_NETWORK ? AG_EXIT_NETWORK : AG_EXIT_VERIFY);
	if (resp->status == 404) {
		printf("offca-agent: nothing new on the relay for this endpoint (%s)\n", r->hex);
		return -1;
	}
	if (resp->status != 200) {
		ut_err(OFFCA_E_PROTOCOL, "the relay answered HTTP %ld for %s; the installed certificate is kept",
		       resp->status, r->url);
		return fail(resp->status >= 500 ? AG_EXIT_NETWORK : AG_EXIT_REFUSED);
	}
	return 0;
}

static int install(const relay_run *r, const ag_opts *o, ag_relay_obj *ob)
{
	const char *keyp = r->key;
	offca_rc rc = OFFCA_OK;
	int code = AG_EXIT_OK;

	if (ob->key != NULL) { /* an issuer-generated key: written 0600 beside, copied into the generation */
		unlink(r->newkey);
		keyp = r->newkey;
		rc = ag_key_write(r->newkey, ob->key);
	}
	if (rc == OFFCA_OK)
		rc = ag_install(r->dir, &ob->is, keyp);
	if (ob->key != NULL)
		unlink(r->newkey);
	if (rc != OFFCA_OK)
		return fail(AG_EXIT_INSTALL);
	if ((rc = save_seq(r, ob->seq)) != OFFCA_OK)
		fprintf(stderr, "offca-agent: warning: installed, but the sequence number was not saved: %s\n", ut_err_msg());
	printf("offca-agent: installed certificate from the relay (sequence %llu%s) in %s\n", ob->seq,
	       ob->key != NULL ? ", with the key the CA generated" : "", r->dir);
	if (o->deploy_hook != NULL && (rc = ag_run_hook(o->deploy_hook, r->dir)) != OFFCA_OK)
		code = fail(AG_EXIT_HOOK);
	return code;
}

int ag_relay_run(const ag_opts *o)
{
	relay_run r;
	ag_resp resp = {0};
	ag_relay_obj ob = {0};
	unsigned long long last;
	offca_rc rc;
	int code;

	if (o->dir == NULL)
		return fail((ut_err(OFFCA_E_USAGE, "run --relay needs --out-dir DIR"), AG_EXIT_USAGE));
	if (o->server != NULL || o->token_file != NULL || o->key_file != NULL || o->n_sans > 0 || o->reuse_key ||
	    o->force || o->max_wait > 0)
		return fail((ut_err(OFFCA_E_USAGE, "run --relay takes --out-dir, --relay-cacert, --relay-client-auth, --pin-file and --deploy-hook only "
				    "(the CA decides when to renew)"), AG_EXIT_USAGE));
	if ((rc = run_init(&r, o)) != OFFCA_OK) {
		code = r.token ? ag_tkey_exit(rc) : AG_EXIT_USAGE;
		run_clear(&r);
		return fail(code);
	}
	if ((code = fetch(&r, o, &resp)) != 0) {
		code = code < 0 ? AG_EXIT_OK : code;
		goto out;
	}
	if ((rc = ag_relay_open(resp.body, resp.len, r.pkey, r.pub, r.root_x, r.endpoint, &ob)) != OFFCA_OK) {
		code = fail((ut_err(rc, "%s; the installed certificate is kept", ut_err_msg()), AG_EXIT_VERIFY));
		goto out;
	}
	last = last_seq(&r);
	if (ob.seq < last) {
		ut_err(OFFCA_E_VERIFY, "replayed or older relay object refused (sequence %llu, installed %llu); "
		       "the installed certificate is kept", ob.seq, last);
		code = fail(AG_EXIT_VERIFY);
	} else if (ob.seq == last) {
		printf("offca-agent: nothing new on the relay (sequence %llu is installed)\n", ob.seq);
		code = AG_EXIT_OK;
	} else if (X509_cmp(ob.is.leaf, r.cur) == 0) {
		printf("offca-agent: nothing new on the relay (sequence %llu holds the installed certificate)\n", ob.seq);
		(void)save_seq(&r, ob.seq);
		code = AG_EXIT_OK;
	} else {
		code = install(&r, o, &ob);
	}
out:
	ag_relay_obj_clear(&ob);
	ag_resp_clear(&resp);
	run_clear(&r);
	return code;
}
