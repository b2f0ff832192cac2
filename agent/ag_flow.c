/*
 * ag_flow.c - enroll (token, first certificate) and run (renew when due, mutual TLS). A request is
 * kept in DIR/pending/ (its key and its exact CSR bytes, since EST polls resend the same request)
 * until the gateway answers; the working certificate is never touched before the answer passed
 * every check and the new generation is completely written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "agent.h"
#include "offca/keyref.h"
#include "offca/util.h"

typedef struct req {
	char dir[4096];         /* DIR */
	char pend[4200];        /* DIR/pending */
	char op[32];            /* simpleenroll | simplereenroll */
	char sans[EST_MAX_SANS_TEXT];
	char *csr_b64;
	EVP_PKEY *key;          /* the request's key (for a token key: its public half) */
	ag_tkey tk;             /* the request's key when on a token (tk.ref NULL otherwise) */
	const char *pin_file;   /* the token's PIN file (token keys only) */
	char key_uri[AG_MAX_URI]; /* the request's token key URI ("" for a key file) */
	int tok_err;            /* the last failure came from the token */
	int installed;          /* the answer was installed */
} req;

static int fail(offca_rc rc, int code)
{
	fprintf(stderr, "offca-agent: %s\n", ut_err_msg());
	(void)rc;
	return code;
}

static void req_clear(req *r)
{
	free(r->csr_b64);
	EVP_PKEY_free(r->key);
	ag_tkey_close(&r->tk);
	memset(r, 0, sizeof(*r));
}

/* a token key operation: remember that a failure came from the token (exit AG_EXIT_TOKEN) */
static offca_rc tok_rc(req *r, offca_rc rc)
{
	if (rc != OFFCA_OK)
		r->tok_err = 1;
	return rc;
}

/* the exit code for a failure while preparing a request */
static int prep_code(const req *r, offca_rc rc)
{
	if (r->tok_err)
		return ag_tkey_exit(rc);
	return rc == OFFCA_E_NETWORK ? AG_EXIT_NETWORK : rc == OFFCA_E_VERIFY ? AG_EXIT_VERIFY : AG_EXIT_USAGE;
}

static offca_rc pend_path(const req *r, const char *name, char *buf, size_t cap)
{
	return ag_path(buf, cap, r->pend, name);
}

static void rm_pending(const req *r)
{
	static const char *const files[] = {"request.json", "csr.der", "key.pem", "key.uri"};
	char p[4300];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (pend_path(r, files[i], p, sizeof(p)) == OFFCA_OK)
			unlink(p);
	rmdir(r->pend);
}

/*
 * a new request: key (key.pem, or key.uri when r->tk holds a token key), CSR signed with key, then
 * request.json last (its presence means the request is complete)
 */
static offca_rc pending_new(req *r, EVP_PKEY *key, const X509_NAME *subject, const GENERAL_NAMES *san)
{
	EVP_PKEY *keep = r->tk.ref != NULL ? ca_keyref_public(r->tk.ref) : key;
	unsigned char *der = NULL;
	size_t n = 0;
	char p[4300], *js = NULL;
	json_t *j = NULL;
	offca_rc rc;

	rm_pending(r);
	if ((rc = ut_mkdir_p(r->pend, 0700)) != OFFCA_OK)
		return rc;
	if ((rc = est_sans_text(san, r->sans, sizeof(r->sans))) != OFFCA_OK ||
	    (rc = ag_csr_make(key, subject, san, &der, &n)) != OFFCA_OK)
		goto out;
	if (r->tk.ref != NULL) {
		snprintf(r->key_uri, sizeof(r->key_uri), "%s", r->tk.uri);
		if ((rc = pend_path(r, "key.uri", p, sizeof(p))) != OFFCA_OK || (rc = ag_tkey_uri_write(p, r->key_uri)) != OFFCA_OK)
			goto out;
	} else if ((rc = pend_path(r, "key.pem", p, sizeof(p))) != OFFCA_OK || (rc = ag_key_write(p, key)) != OFFCA_OK)
		goto out;
	if ((rc = pend_path(r, "csr.der", p, sizeof(p))) != OFFCA_OK || (rc = ut_write_file(p, der, n, UT_WF_EXCL)) != OFFCA_OK)
		goto out;
	j = json_pack("{s:s,s:s,s:I}", "op", r->op, "sans", r->sans, "created", (json_int_t)time(NULL));
	js = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (js == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = pend_path(r, "request.json", p, sizeof(p))) == OFFCA_OK)
		rc = ut_write_file(p, js, strlen(js), UT_WF_EXCL);
	if (rc == OFFCA_OK && (rc = est_b64_encode(der, n, &r->csr_b64)) == OFFCA_OK && EVP_PKEY_up_ref(keep))
		r->key = keep;
out:
	free(js);
	json_decref(j);
	OPENSSL_free(der);
	if (rc != OFFCA_OK)
		rm_pending(r);
	return rc;
}

/* the waiting request, if any: OFFCA_E_NOT_FOUND when none */
static offca_rc pending_load(req *r)
{
	char p[4300];
	unsigned char *buf = NULL, *der = NULL;
	size_t n = 0, dn = 0;
	json_t *j = NULL;
	offca_rc rc;

	if ((rc = pend_path(r, "request.json", p, sizeof(p))) != OFFCA_OK)
		return rc;
	if (ut_path_exists(p) != OFFCA_OK) {
		rm_pending(r); /* an incomplete request (crash while making it) */
		return OFFCA_E_NOT_FOUND;
	}
	if ((rc = ut_read_file(p, 64 * 1024, 1, &buf, &n)) != OFFCA_OK)
		return rc;
	j = json_loadb((const char *)buf, n, 0, NULL);
	free(buf);
	if (j == NULL || !json_is_string(json_object_get(j, "op")) || !json_is_string(json_object_get(j, "sans"))) {
		json_decref(j);
		return ut_err(OFFCA_E_PARSE, "%s is malformed (remove %s to start over)", p, r->pend);
	}
	snprintf(r->op, sizeof(r->op), "%s", json_string_value(json_object_get(j, "op")));
	snprintf(r->sans, sizeof(r->sans), "%s", json_string_value(json_object_get(j, "sans")));
	json_decref(j);
	if ((rc = pend_path(r, "csr.der", p, sizeof(p))) != OFFCA_OK || (rc = ut_read_file(p, 16 * 1024, 1, &der, &dn)) != OFFCA_OK)
		return rc;
	rc = est_b64_encode(der, dn, &r->csr_b64);
	free(der);
	if (rc != OFFCA_OK || (rc = pend_path(r, "key.uri", p, sizeof(p))) != OFFCA_OK)
		return rc;
	if (ut_path_exists(p) == OFFCA_OK) {
		if ((rc = ag_tkey_uri_read(p, r->key_uri, sizeof(r->key_uri))) != OFFCA_OK ||
		    (rc = tok_rc(r, ag_tkey_open(&r->tk, r->key_uri, r->pin_file))) != OFFCA_OK)
			return rc;
		r->key = ca_keyref_public(r->tk.ref);
		return EVP_PKEY_up_ref(r->key) ? OFFCA_OK : ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	if ((rc = pend_path(r, "key.pem", p, sizeof(p))) == OFFCA_OK)
		rc = ag_key_load(p, &r->key);
	return rc;
}

static void print_installed(const req *r, X509 *leaf)
{
	char until[64] = "?";
	struct tm tm;
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;

	if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm))
		strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("offca-agent: installed certificate %s (valid until %s) in %s\n", hex ? hex : "?", until, r->dir);
	OPENSSL_free(hex);
	BN_free(bn);
}

/* send (and resend as Retry-After says) until answered, refused, or max_wait is spent */
static int exchange(const ag_opts *o, req *r, const char *server, const char *user, const char *pass,
		    const char *cert, const char *key, EVP_PKEY *tls_key, X509 *installed)
{
	char cafile[4300], keyp[4300];
	X509 *root = NULL;
	ag_resp resp = {0};
	ag_issued is = {0};
	unsigned waited = 0;
	offca_rc rc;
	int code = AG_EXIT_OK;

	if ((rc = ag_path(cafile, sizeof(cafile), r->dir, "root.pem")) != OFFCA_OK || (rc = ag_load_cert(cafile, &root)) != OFFCA_OK)
		return fail(rc, AG_EXIT_USAGE);
	for (;;) {
		ag_resp_clear(&resp);
		rc = tls_key != NULL ? ag_post_pkey(server, r->op, cafile, cert, tls_key, r->csr_b64, &resp)
				     : ag_post(server, r->op, cafile, user, pass, cert, key, r->csr_b64, &resp);
		if (rc != OFFCA_OK) {
			code = fail(rc, rc == OFFCA_E_UNSUPPORTED ? AG_EXIT_TOKEN : AG_EXIT_NETWORK);
			break;
		}
		if (resp.status == 202) {
			unsigned ra = resp.retry_after ? resp.retry_after : 60;

			if (waited + ra > o->max_wait) {
				printf("offca-agent: the request waits for the offline CA (gateway says retry after %u s); "
				       "run again later\n", ra);
				code = AG_EXIT_PENDING;
				break;
			}
			sleep(ra);
			waited += ra;
			continue;
		}
		if (resp.status != 200) {
			size_t n = resp.len;

			while (n > 0 && (resp.body[n - 1] == '\n' || resp.body[n - 1] == '\r'))
				n--;
			ut_err(OFFCA_E_PROTOCOL, "the gateway refused the request (HTTP %ld): %.*s", resp.status,
			       (int)(n > 300 ? 300 : n), resp.body ? (const char *)resp.body : "");
			code = fail(OFFCA_E_PROTOCOL, resp.status >= 500 ? AG_EXIT_NETWORK : AG_EXIT_REFUSED);
			if (resp.status < 500)
				rm_pending(r);
			break;
		}
		if ((rc = ag_verify_answer(&resp, r->key, r->sans, root, installed, &is)) != OFFCA_OK) {
			code = fail(ut_err(rc, "%s; the installed certificate is kept", ut_err_msg()), AG_EXIT_VERIFY);
			break;
		}
		if ((rc = pend_path(r, r->key_uri[0] ? "key.uri" : "key.pem", keyp, sizeof(keyp))) != OFFCA_OK ||
		    (rc = ag_install(r->dir, &is, keyp)) != OFFCA_OK) {
			code = fail(rc, AG_EXIT_INSTALL);
			break;
		}
		r->installed = 1;
		print_installed(r, is.leaf);
		rm_pending(r);
		if (o->deploy_hook != NULL && (rc = ag_run_hook(o->deploy_hook, r->dir)) != OFFCA_OK)
			code = fail(rc, AG_EXIT_HOOK);
		break;
	}
	ag_issued_clear(&is);
	ag_resp_clear(&resp);
	X509_free(root);
	return code;
}

/* agent.json; for a token key also its base label (renewal keys are LABEL-<time>) and PIN file */
static offca_rc write_config(const req *r, const ag_opts *o, const char *key_label)
{
	char p[4300], *js, *pin = NULL;
	json_t *j = json_pack("{s:s,s:s}", "server", o->server, "root_sha256", o->root_fp);
	offca_rc rc;

	if (j != NULL && key_label != NULL) {
		if ((pin = realpath(o->pin_file, NULL)) == NULL) {
			json_decref(j);
			return ut_err(OFFCA_E_NOT_FOUND, "--pin-file %s: %s", o->pin_file, strerror(errno));
		}
		json_object_set_new(j, "key", json_string("pkcs11"));
		json_object_set_new(j, "key_label", json_string(key_label));
		json_object_set_new(j, "pin_file", json_string(pin));
		free(pin);
	}
	js = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_INDENT(0)) : NULL;
	json_decref(j);
	if (js == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	rc = ag_path(p, sizeof(p), r->dir, "agent.json");
	if (rc == OFFCA_OK)
		rc = ut_write_file(p, js, strlen(js), 0);
	free(js);
	return rc;
}

static offca_rc enroll_request(req *r, const ag_opts *o)
{
	unsigned char fp[32];
	char root[4300];
	EVP_PKEY *key = NULL;
	GENERAL_NAMES *san = NULL;
	X509_NAME *subj = X509_NAME_new();
	const char *cn = o->sans[0];
	offca_rc rc;

	if (strncmp(cn, "DNS:", 4) == 0 || strncmp(cn, "IP:", 3) == 0)
		cn = strchr(cn, ':') + 1;
	if ((rc = est_fp_parse(o->root_fp, fp)) != OFFCA_OK || (rc = ag_sans_parse(o->sans, o->n_sans, &san)) != OFFCA_OK)
		goto out;
	if (subj == NULL || !X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0)) {
		rc = ut_err(OFFCA_E_USAGE, "cannot make a subject CN=%s", cn);
		goto out;
	}
	if ((rc = ag_path(root, sizeof(root), r->dir, "root.pem")) != OFFCA_OK ||
	    (rc = ag_bootstrap_root(o->server, fp, root)) != OFFCA_OK)
		goto out;
	if (o->key_uri != NULL) {
		int made = 0;

		if ((rc = tok_rc(r, ag_tkey_obtain(&r->tk, o->key_uri, o->pin_file, &made))) != OFFCA_OK)
			goto out;
		if (made)
			printf("offca-agent: made the key %s on the token\n", r->tk.uri);
		if ((rc = write_config(r, o, ca_keyref_label(r->tk.ref))) == OFFCA_OK)
			rc = tok_rc(r, pending_new(r, ca_keyref_private(r->tk.ref), subj, san));
		goto out;
	}
	if ((rc = write_config(r, o, NULL)) != OFFCA_OK)
		goto out;
	rc = o->key_file != NULL ? ag_key_load(o->key_file, &key) : ag_key_new(&key);
	if (rc == OFFCA_OK)
		rc = pending_new(r, key, subj, san);
out:
	EVP_PKEY_free(key);
	GENERAL_NAMES_free(san);
	X509_NAME_free(subj);
	return rc;
}

static offca_rc req_init(req *r, const char *dir)
{
	memset(r, 0, sizeof(*r));
	if (snprintf(r->dir, sizeof(r->dir), "%s", dir) >= (int)sizeof(r->dir))
		return ut_err(OFFCA_E_USAGE, "--out-dir too long");
	return ag_path(r->pend, sizeof(r->pend), dir, "pending");
}

int ag_enroll(const ag_opts *o)
{
	req r;
	char tok[256], cur[4300], *pass;
	offca_rc rc;
	int code;

	if (o->server == NULL || o->root_fp == NULL || o->token_file == NULL || o->dir == NULL || o->n_sans == 0)
		return fail(ut_err(OFFCA_E_USAGE, "enroll needs --server URL --root-sha256 FP --token-file F --san NAME... "
				   "--out-dir DIR"), AG_EXIT_USAGE);
	if (o->pin_file != NULL && o->key_uri == NULL)
		return fail(ut_err(OFFCA_E_USAGE, "--pin-file goes with --key pkcs11:URI"), AG_EXIT_USAGE);
	if ((rc = req_init(&r, o->dir)) != OFFCA_OK)
		return fail(rc, AG_EXIT_USAGE);
	r.pin_file = o->pin_file;
	if (ag_path(cur, sizeof(cur), o->dir, "current") == OFFCA_OK && ut_path_exists(cur) == OFFCA_OK)
		return fail(ut_err(OFFCA_E_EXISTS, "%s is already enrolled (offca-agent run renews it)", o->dir), AG_EXIT_USAGE);
	if ((rc = ut_secret_from_file(o->token_file, 1, tok, sizeof(tok))) != OFFCA_OK)
		return fail(ut_err(rc, "token file: %s", ut_err_msg()), AG_EXIT_USAGE);
	pass = strchr(tok, ':');
	if (pass == NULL) {
		OPENSSL_cleanse(tok, sizeof(tok));
		return fail(ut_err(OFFCA_E_USAGE, "token file must hold ID:SECRET (as offca-gateway token new prints it)"),
			    AG_EXIT_USAGE);
	}
	*pass++ = '\0';
	if ((rc = ut_mkdir_p(o->dir, 0700)) != OFFCA_OK) {
		code = fail(rc, AG_EXIT_INSTALL);
		goto out;
	}
	rc = pending_load(&r);
	if (rc == OFFCA_OK && strcmp(r.op, "simpleenroll") != 0)
		rc = ut_err(OFFCA_E_STATE, "a renewal is pending in %s", r.pend);
	if (rc == OFFCA_E_NOT_FOUND && !r.tok_err) { /* (the waiting request's token key missing: exit 8) */
		snprintf(r.op, sizeof(r.op), "simpleenroll");
		rc = enroll_request(&r, o);
	}
	if (rc != OFFCA_OK) {
		code = fail(rc, prep_code(&r, rc));
		goto out;
	}
	code = exchange(o, &r, o->server, tok, pass, NULL, NULL, NULL, NULL);
out:
	OPENSSL_cleanse(tok, sizeof(tok));
	req_clear(&r);
	return code;
}

/* past notBefore + renew_at * lifetime, moved earlier by up to jitter * lifetime at random */
static int due(const ag_opts *o, X509 *cert, time_t *when)
{
	struct tm nb, na;
	time_t b, a, now = time(NULL);
	unsigned int rnd = 0;
	double life;

	if (!ASN1_TIME_to_tm(X509_get0_notBefore(cert), &nb) || !ASN1_TIME_to_tm(X509_get0_notAfter(cert), &na))
		return 1;
	b = timegm(&nb);
	a = timegm(&na);
	life = difftime(a, b);
	RAND_bytes((unsigned char *)&rnd, sizeof(rnd));
	*when = b + (time_t)(o->renew_at * life - o->jitter * life * ((double)rnd / 4294967296.0));
	return o->force || now >= *when;
}

/* agent.json: the server, and for a token key its base label and PIN file ("" when absent) */
offca_rc ag_config_load(const char *dir, char *server, size_t cap, char *label, size_t lcap, char *pin, size_t pcap)
{
	char p[4300];
	unsigned char *buf = NULL;
	size_t n = 0;
	json_t *j;
	offca_rc rc = ag_path(p, sizeof(p), dir, "agent.json");

	if (rc == OFFCA_OK)
		rc = ut_read_file(p, 64 * 1024, 1, &buf, &n);
	if (rc != OFFCA_OK)
		return ut_err(OFFCA_E_STATE, "%s is not enrolled (no agent.json): run offca-agent enroll first", dir);
	j = json_loadb((const char *)buf, n, 0, NULL);
	free(buf);
	if (j == NULL || !json_is_string(json_object_get(j, "server"))) {
		json_decref(j);
		return ut_err(OFFCA_E_PARSE, "%s is malformed", p);
	}
	snprintf(server, cap, "%s", json_string_value(json_object_get(j, "server")));
	snprintf(label, lcap, "%s", json_is_string(json_object_get(j, "key_label")) ?
		 json_string_value(json_object_get(j, "key_label")) : "");
	snprintf(pin, pcap, "%s", json_is_string(json_object_get(j, "pin_file")) ?
		 json_string_value(json_object_get(j, "pin_file")) : "");
	json_decref(j);
	return OFFCA_OK;
}

/* the renewal's key on the token: the current one (--reuse-key) or a new LABEL-<time> */
static offca_rc renew_token_key(req *r, const ag_opts *o, const char *cur_uri, const char *label)
{
	if (o->reuse_key)
		return tok_rc(r, ag_tkey_open(&r->tk, cur_uri, r->pin_file));
	return tok_rc(r, ag_tkey_make(&r->tk, cur_uri, label[0] != '\0' ? label : "offca-agent", r->pin_file));
}

static offca_rc renew_request(req *r, const ag_opts *o, X509 *cert, const char *cur_key, const char *cur_uri,
			      const char *label)
{
	EVP_PKEY *key = NULL;
	GENERAL_NAMES *san = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	offca_rc rc;

	snprintf(r->op, sizeof(r->op), "simplereenroll");
	if (cur_uri[0] != '\0') {
		if ((rc = renew_token_key(r, o, cur_uri, label)) == OFFCA_OK &&
		    (rc = tok_rc(r, pending_new(r, ca_keyref_private(r->tk.ref), X509_get_subject_name(cert), san))) != OFFCA_OK &&
		    !o->reuse_key) {
			char made[AG_MAX_URI], msg[1024];

			snprintf(made, sizeof(made), "%s", r->tk.uri);
			snprintf(msg, sizeof(msg), "%s", ut_err_msg());
			ag_tkey_close(&r->tk);
			ag_tkey_drop(made, r->pin_file, "unused new");
			rc = ut_err(rc, "%s", msg);
		}
		GENERAL_NAMES_free(san);
		return rc;
	}
	rc = o->reuse_key ? ag_key_load(cur_key, &key) : ag_key_new(&key);
	if (rc == OFFCA_OK)
		rc = pending_new(r, key, X509_get_subject_name(cert), san);
	EVP_PKEY_free(key);
	GENERAL_NAMES_free(san);
	return rc;
}

/*
 * after a renewal with token keys: once the new certificate is installed the replaced key goes;
 * a request the gateway refused takes its own new key with it. Handles closed first.
 */
static void cycle_keys(req *r, ag_tkey *client, const char *cur_uri, int code)
{
	char victim[AG_MAX_URI];
	const char *why;

	if (r->key_uri[0] == '\0' || strcmp(r->key_uri, cur_uri) == 0)
		return;
	if (r->installed) {
		snprintf(victim, sizeof(victim), "%s", cur_uri);
		why = "replaced";
	} else if (code == AG_EXIT_REFUSED) {
		snprintf(victim, sizeof(victim), "%s", r->key_uri);
		why = "refused request's";
	} else
		return;
	ag_tkey_close(client);
	EVP_PKEY_free(r->key);
	r->key = NULL;
	ag_tkey_close(&r->tk);
	ag_tkey_drop(victim, r->pin_file, why);
}

int ag_run(const ag_opts *o)
{
	req r;
	char server[2048], certp[4300], fullp[4300], keyp[4300], urip[4300];
	char label[128], pin[4096], cur_uri[AG_MAX_URI] = "";
	ag_tkey client = {0};
	X509 *cert = NULL;
	time_t when = 0;
	offca_rc rc;
	int code;

	if (o->dir == NULL)
		return fail(ut_err(OFFCA_E_USAGE, "run needs --out-dir DIR"), AG_EXIT_USAGE);
	if ((rc = req_init(&r, o->dir)) != OFFCA_OK ||
	    (rc = ag_config_load(o->dir, server, sizeof(server), label, sizeof(label), pin, sizeof(pin))) != OFFCA_OK)
		return fail(rc, AG_EXIT_USAGE);
	if (o->server != NULL)
		snprintf(server, sizeof(server), "%s", o->server);
	r.pin_file = o->pin_file != NULL ? o->pin_file : pin[0] != '\0' ? pin : NULL;
	if ((rc = ag_path(certp, sizeof(certp), o->dir, "current/cert.pem")) != OFFCA_OK ||
	    (rc = ag_path(fullp, sizeof(fullp), o->dir, "current/fullchain.pem")) != OFFCA_OK ||
	    (rc = ag_path(keyp, sizeof(keyp), o->dir, "current/privkey.pem")) != OFFCA_OK ||
	    (rc = ag_path(urip, sizeof(urip), o->dir, "current/key.uri")) != OFFCA_OK)
		return fail(rc, AG_EXIT_USAGE);
	if ((rc = ag_load_cert(certp, &cert)) != OFFCA_OK)
		return fail(ut_err(OFFCA_E_STATE, "no installed certificate (%s): finish offca-agent enroll first", ut_err_msg()),
			    AG_EXIT_USAGE);
	if (ut_path_exists(urip) == OFFCA_OK && (rc = ag_tkey_uri_read(urip, cur_uri, sizeof(cur_uri))) != OFFCA_OK) {
		code = fail(rc, AG_EXIT_USAGE);
		goto out;
	}
	rc = pending_load(&r);
	if (rc == OFFCA_OK && strcmp(r.op, "simplereenroll") != 0)
		rc = ut_err(OFFCA_E_STATE, "an enrollment is pending in %s", r.pend);
	if (rc == OFFCA_E_NOT_FOUND && !r.tok_err) {
		if (!due(o, cert, &when)) {
			char w[64];
			struct tm tm;

			gmtime_r(&when, &tm);
			strftime(w, sizeof(w), "%Y-%m-%dT%H:%M:%SZ", &tm);
			printf("offca-agent: not due for renewal until %s\n", w);
			code = AG_EXIT_OK;
			goto out;
		}
		rc = renew_request(&r, o, cert, keyp, cur_uri, label);
	}
	if (rc == OFFCA_OK && cur_uri[0] != '\0')
		rc = tok_rc(&r, ag_tkey_open(&client, cur_uri, r.pin_file));
	if (rc != OFFCA_OK) {
		code = fail(rc, r.tok_err ? ag_tkey_exit(rc) : AG_EXIT_INSTALL);
		goto out;
	}
	code = exchange(o, &r, server, NULL, NULL, fullp, keyp, client.ref != NULL ? ca_keyref_private(client.ref) : NULL,
			cert);
	if (cur_uri[0] != '\0')
		cycle_keys(&r, &client, cur_uri, code);
out:
	ag_tkey_close(&client);
	X509_free(cert);
	req_clear(&r);
	return code;
}
