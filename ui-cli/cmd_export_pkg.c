/*
 * cmd_export_pkg.c - offca export's delivery forms (docs/distribution.md): certbot layout in a
 * directory or a ZIP, PKCS#12 trust bundle, Kubernetes Secret/ConfigMap, SOPS/age Secret, and
 * that Secret written (and committed) into a Git work tree.
 */
#include "cli.h"
#include "export_cli.h"
#include "cli_session.h"
#include "inventory.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "offca/pkcs12.h"
#include "offca/store.h"
#include "offca/util.h"

struct popts {
	const char *home, *san, *layout, *out_dir, *zip, *format, *out, *pass_file, *secret, *configmap, *ns;
	const char *git, *git_path, *serial;
	int all, force, legacy, sops, commit;
	const char *age[CA_EXPORT_MAX_AGE];
	char *age_buf[CA_EXPORT_MAX_AGE]; /* strdup'ed copies split on commas */
	size_t n_age, n_age_buf;
};

int cli_export_pkg_wanted(const cli_args *a)
{
	static const char *const opts[] = {"layout", "zip", "k8s-secret", "k8s-configmap", "sops", "san", "all-valid",
					   "git-repo", "out-dir", "passphrase-file", "legacy", "force", "namespace",
					   "age", "git-path", "commit"};
	const char *fmt = cli_str(a, "format");

	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
		if (cli_flag(a, opts[k]))
			return 1;
	return fmt != NULL && strcmp(fmt, "p12") == 0;
}

static int add_age(struct popts *o, const char *arg)
{
	char *copy, *save = NULL;

	if (o->n_age_buf >= CA_EXPORT_MAX_AGE || (copy = strdup(arg)) == NULL)
		return cli_usage_error("export", "too many --age recipients (at most %d)", CA_EXPORT_MAX_AGE);
	o->age_buf[o->n_age_buf++] = copy;
	for (char *t = strtok_r(copy, ", ", &save); t != NULL; t = strtok_r(NULL, ", ", &save)) {
		if (o->n_age >= CA_EXPORT_MAX_AGE)
			return cli_usage_error("export", "too many --age recipients (at most %d)", CA_EXPORT_MAX_AGE);
		o->age[o->n_age++] = t;
	}
	return 0;
}

static void popts_free(struct popts *o)
{
	for (size_t i = 0; i < o->n_age_buf; i++)
		free(o->age_buf[i]);
}

/* The delivery form's options, read from the parsed command line. */
static int from_args(const cli_args *a, struct popts *o)
{
	const char *const *age;
	size_t n_age;
	int r = 0;

	memset(o, 0, sizeof(*o));
	o->home = cli_str(a, "home");
	o->san = cli_str(a, "san");
	o->all = cli_flag(a, "all-valid");
	o->force = cli_flag(a, "force");
	o->layout = cli_str(a, "layout");
	o->out_dir = cli_str(a, "out-dir");
	o->zip = cli_str(a, "zip");
	o->format = cli_str(a, "format");
	o->out = cli_str(a, "out");
	o->pass_file = cli_str(a, "passphrase-file");
	o->legacy = cli_flag(a, "legacy");
	o->secret = cli_str(a, "k8s-secret");
	o->configmap = cli_str(a, "k8s-configmap");
	o->ns = cli_str(a, "namespace");
	o->sops = cli_flag(a, "sops");
	o->git = cli_str(a, "git-repo");
	o->git_path = cli_str(a, "git-path");
	o->commit = cli_flag(a, "commit");
	o->serial = a->npos > 0 ? a->pos[0] : NULL;
	age = cli_list(a, "age", &n_age);
	for (size_t i = 0; r == 0 && i < n_age; i++)
		r = add_age(o, age[i]);
	return r;
}

enum form { F_LAYOUT, F_ZIP, F_P12, F_SECRET, F_CONFIGMAP };

/* Exactly one selection and one output form, with only the options that form takes. */
static int check(const struct popts *o, enum form *f)
{
	int sel = (o->serial != NULL) + (o->san != NULL) + o->all;
	int forms = (o->out_dir != NULL) + (o->zip != NULL) + (o->format != NULL) + (o->secret != NULL) +
		    (o->configmap != NULL);

	if (sel != 1)
		return cli_usage_error("export", "give one of SERIAL, --san NAME or --all-valid");
	if (forms != 1)
		return cli_usage_error("export", "give one of --layout certbot --out-dir DIR, --zip FILE, --format p12, "
						 "--k8s-secret NAME or --k8s-configmap NAME");
	*f = o->out_dir ? F_LAYOUT : o->zip ? F_ZIP : o->format ? F_P12 : o->secret ? F_SECRET : F_CONFIGMAP;
	if ((*f == F_LAYOUT || *f == F_ZIP) != (o->layout != NULL))
		return cli_usage_error("export", "--layout certbot goes with --out-dir DIR or --zip FILE");
	if (o->layout != NULL && strcmp(o->layout, "certbot") != 0)
		return cli_usage_error("export", "--layout: the one layout is 'certbot'");
	if (*f == F_P12 && strcmp(o->format, "p12") != 0)
		return cli_usage_error("export", "--format %s: this form takes p12 (pem, der, chain, fullchain: see "
						 "offca export --help)", o->format);
	if (o->all && *f != F_LAYOUT && *f != F_ZIP)
		return cli_usage_error("export", "--all-valid goes with --layout certbot (a directory or a ZIP)");
	if ((o->pass_file || o->legacy) && *f != F_P12)
		return cli_usage_error("export", "--passphrase-file and --legacy go with --format p12");
	if (*f == F_P12 && o->out == NULL)
		return cli_usage_error("export", "--format p12 needs --out FILE");
	if (o->ns != NULL && *f != F_SECRET && *f != F_CONFIGMAP)
		return cli_usage_error("export", "--namespace goes with --k8s-secret or --k8s-configmap");
	if ((o->sops || o->n_age) && (*f != F_SECRET || !o->sops || o->n_age == 0))
		return cli_usage_error("export", "--sops needs --k8s-secret NAME and at least one --age RECIPIENT");
	if ((o->git_path || o->commit) && o->git == NULL)
		return cli_usage_error("export", "--git-path and --commit go with --git-repo DIR");
	if (o->git != NULL && (!o->sops || o->out != NULL))
		return cli_usage_error("export", "--git-repo takes a SOPS Secret (--sops --age ...) instead of --out");
	if (o->sops && o->out == NULL && o->git == NULL)
		return cli_usage_error("export", "--sops needs --out FILE or --git-repo DIR");
	if ((*f == F_LAYOUT || *f == F_ZIP) && o->out != NULL)
		return cli_usage_error("export", "--out does not apply to the certbot layout");
	return 0;
}

/* ---- selection ---- */

struct serials { ca_serial *v; size_t n, cap; int64_t best_time, best_issued, now; int all; };

static int push_serial(struct serials *s, const ca_serial *x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		ca_serial *n = realloc(s->v, cap * sizeof(*n));
		if (n == NULL)
			return 1;
		s->v = n;
		s->cap = cap;
	}
	s->v[s->n++] = *x;
	return 0;
}

static int usable(const ca_cert_record *r, int64_t now)
{
	return r->status == CA_CERT_VALID && r->not_after >= now && r->not_before <= now;
}

/* --san: keep the newest valid (latest notBefore, then latest issued_at); --all-valid: every valid one. */
static int collect_cb(void *arg, const ca_cert_record *r)
{
	struct serials *s = arg;

	if (!usable(r, s->now) || strcmp(r->profile, "root") == 0 || strcmp(r->profile, "intermediate") == 0)
		return 0; /* CA certificates travel as ca.crt / chain.pem, not as packages of their own */
	if (s->all)
		return push_serial(s, &r->serial);
	if (s->n > 0 && (r->not_before < s->best_time ||
			 (r->not_before == s->best_time && r->issued_at <= s->best_issued)))
		return 0;
	s->best_time = r->not_before;
	s->best_issued = r->issued_at;
	s->n = 0;
	return push_serial(s, &r->serial);
}

static offca_rc select_serials(ca_store *st, const struct popts *o, struct serials *s)
{
	offca_rc rc;

	s->now = (int64_t)time(NULL);
	s->best_time = INT64_MIN;
	if (o->serial != NULL) {
		ca_cert_record rec;
		memset(&rec, 0, sizeof(rec));
		if ((rc = ca_store_cert_find(st, o->serial, &rec)) != OFFCA_OK)
			return rc;
		rc = push_serial(s, &rec.serial) ? ut_err(OFFCA_E_NOMEM, "out of memory") : OFFCA_OK;
		ca_cert_record_clear(&rec);
		return rc;
	}
	s->all = o->all;
	if (o->all)
		rc = ca_store_cert_each(st, NULL, 0, 0, collect_cb, s);
	else
		rc = ca_store_cert_by_san(st, o->san, collect_cb, s);
	if (rc == OFFCA_OK && s->n == 0)
		rc = o->all ? ut_err(OFFCA_E_NOT_FOUND, "no valid certificate in the store")
			    : ut_err(OFFCA_E_NOT_FOUND, "no valid certificate holds SAN %s (offca list)", o->san);
	return rc;
}

/* The record of serial, refused when revoked or expired unless --force, as an export item. */
static offca_rc load_one(ca_store *st, const ca_serial *serial, int force, ca_export_item *it)
{
	ca_cert_record rec;
	char hex[2 * CA_SERIAL_LEN + 1];
	int64_t now = (int64_t)time(NULL);
	const char *bad;
	offca_rc rc;

	memset(&rec, 0, sizeof(rec));
	if ((rc = ca_store_cert_by_serial(st, serial, &rec)) != OFFCA_OK)
		return rc;
	ca_serial_hex(serial, hex, sizeof(hex));
	bad = rec.status == CA_CERT_REVOKED ? "revoked" : rec.not_after < now ? "expired" : NULL;
	if (bad != NULL && !force) {
		ca_cert_record_clear(&rec);
		return ut_err(OFFCA_E_STATE, "certificate %s is %s: refusing to export it (--force to do it anyway)", hex, bad);
	}
	if (bad != NULL)
		fprintf(stderr, "offca: WARNING: --force: exporting certificate %s although it is %s\n", hex, bad);
	rc = ca_export_item_load(st, &rec, it);
	ca_cert_record_clear(&rec);
	return rc;
}

/* ---- outputs ---- */

static offca_rc emit(const char *out, const char *data, size_t len, int secret)
{
	if (out != NULL)
		return ut_write_file(out, data, len, UT_WF_EXCL | (secret ? UT_WF_SECRET : 0));
	if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
		return ut_err(OFFCA_E_IO, "writing to stdout failed");
	return OFFCA_OK;
}

static offca_rc out_p12(const struct popts *o, const ca_export_item *it)
{
	char pass[UT_MAX_SECRET] = "";
	unsigned char *der = NULL;
	size_t len = 0;
	offca_rc rc;

	if ((rc = cli_p12_passphrase(o->pass_file, pass, sizeof(pass))) == OFFCA_OK &&
	    (rc = ca_export_p12(it, pass, o->legacy, &der, &len)) == OFFCA_OK)
		rc = ut_write_file(o->out, der, len, UT_WF_EXCL);
	ut_memzero(pass, sizeof(pass));
	OPENSSL_free(der);
	if (rc == OFFCA_OK && o->legacy)
		fprintf(stderr, "offca: WARNING: --legacy uses PBE-SHA1-3DES: weak protection, for old consumers only.\n");
	return rc;
}

static offca_rc out_git(const struct popts *o, const ca_export_item *it, const char *yaml, size_t len)
{
	char path[512], msg[1024], na[32];
	offca_rc rc;

	if (o->git_path != NULL)
		snprintf(path, sizeof(path), "%s", o->git_path);
	else if ((size_t)snprintf(path, sizeof(path), "offca/%s.sops.yaml", o->secret) >= sizeof(path))
		return ut_err(OFFCA_E_USAGE, "--k8s-secret name too long");
	cli_fmt_time(it->not_after, na, sizeof(na));
	snprintf(msg, sizeof(msg), "offca: Secret %s for serial %s (%.600s), notAfter %s", o->secret, it->serial,
		 it->sans_text, na);
	rc = cli_git_write(o->git, path, yaml, len, o->commit, msg);
	if (rc == OFFCA_OK)
		fprintf(stderr, "offca: %s/%s written%s\n", o->git, path, o->commit ? " and committed" : " (not committed)");
	return rc;
}

static offca_rc out_k8s(const struct popts *o, enum form f, const ca_export_item *it)
{
	char *yaml = NULL;
	size_t len = 0;
	offca_rc rc;

	if (f == F_CONFIGMAP)
		rc = ca_export_k8s_configmap(it, o->configmap, o->ns, &yaml, &len);
	else if (o->sops)
		rc = ca_export_sops_secret(it, o->secret, o->ns, o->age, o->n_age, (int64_t)time(NULL), &yaml, &len);
	else
		rc = ca_export_k8s_secret(it, o->secret, o->ns, &yaml, &len);
	if (rc == OFFCA_OK)
		rc = o->git ? out_git(o, it, yaml, len) : emit(o->out, yaml, len, it->key.p != NULL && !o->sops);
	ut_free_secret(yaml, len);
	return rc;
}

/* Refuse an existing output before any work (the writers check again, atomically). */
static offca_rc check_outputs(const struct popts *o)
{
	const char *out = o->zip ? o->zip : o->out;

	if (out != NULL && ut_path_exists(out) == OFFCA_OK)
		return ut_err(OFFCA_E_EXISTS, "%s exists: refusing to overwrite it", out);
	for (size_t i = 0; i < o->n_age; i++) {
		unsigned char pub[32];
		offca_rc rc = ca_age_recipient_parse(o->age[i], pub);
		if (rc != OFFCA_OK)
			return rc;
	}
	return OFFCA_OK;
}

static offca_rc run(const struct popts *o, enum form f, ca_store *st)
{
	struct serials s;
	ca_export_item *items = NULL;
	size_t n = 0;
	offca_rc rc;

	memset(&s, 0, sizeof(s));
	if ((rc = check_outputs(o)) != OFFCA_OK || (rc = select_serials(st, o, &s)) != OFFCA_OK)
		goto out;
	if ((items = calloc(s.n, sizeof(*items))) == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	for (; n < s.n; n++)
		if ((rc = load_one(st, &s.v[n], o->force, &items[n])) != OFFCA_OK)
			goto out;
	if (f == F_LAYOUT)
		rc = ca_export_write_dirs(o->out_dir, items, n);
	else if (f == F_ZIP)
		rc = ca_export_write_zip(o->zip, items, n);
	else if (f == F_P12)
		rc = out_p12(o, &items[0]);
	else
		rc = out_k8s(o, f, &items[0]);
	if (rc == OFFCA_OK && (f == F_LAYOUT || f == F_ZIP))
		for (size_t i = 0; i < n; i++)
			printf("%s%s%s  serial %s  %s\n", f == F_LAYOUT ? o->out_dir : o->zip, f == F_LAYOUT ? "/" : ": ",
			       items[i].name, items[i].serial, items[i].sans_text);
out:
	for (size_t i = 0; items != NULL && i < s.n; i++)
		ca_export_item_clear(&items[i]);
	free(items);
	free(s.v);
	return rc;
}

int cli_cmd_export_pkg(const cli_args *a)
{
	struct popts o;
	enum form f = F_LAYOUT;
	cli_session s = {0};
	offca_rc rc;
	int r, made;

	if ((r = from_args(a, &o)) != 0 || (r = check(&o, &f)) != 0) {
		popts_free(&o);
		return r;
	}
	/* a missing --out-dir is made 0700; a refused export takes it away again (if still empty) */
	made = o.out_dir != NULL && ut_path_exists(o.out_dir) != OFFCA_OK;
	rc = o.out_dir != NULL ? cli_out_dir(o.out_dir) : OFFCA_OK;
	if (rc == OFFCA_OK && (rc = cli_session_open(&s, a, CLI_S_STORE_RO, NULL)) == OFFCA_OK)
		rc = run(&o, f, s.st);
	if (rc != OFFCA_OK && made)
		(void)rmdir(o.out_dir);
	cli_session_close(&s);
	popts_free(&o);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

offca_rc cli_export_issued_layout(ca_store *st, const ca_serial *serial, EVP_PKEY *key, const char *out_dir)
{
	ca_export_item it;
	offca_rc rc;

	memset(&it, 0, sizeof(it));
	if ((rc = load_one(st, serial, 0, &it)) != OFFCA_OK || (rc = ca_export_item_set_key(&it, key)) != OFFCA_OK)
		goto out;
	rc = ca_export_write_dirs(out_dir, &it, 1);
	if (rc == OFFCA_E_EXISTS) { /* never lose the key: take the name-SERIAL directory instead */
		size_t keep = strnlen(it.name, CA_EXPORT_MAX_NAME - 33);
		it.name[keep] = '-';
		memcpy(it.name + keep + 1, it.serial, sizeof(it.serial));
		rc = ca_export_write_dirs(out_dir, &it, 1);
	}
	if (rc != OFFCA_OK)
		goto out;
	printf("%s/%s  serial %s  %s\n", out_dir, it.name, it.serial, it.sans_text);
	fprintf(stderr,
		"offca: WARNING: this private key was generated here and now has to travel to its endpoint.\n"
		"offca: WARNING: %s/%s/privkey.pem is NOT encrypted: move it only over a channel you trust,\n"
		"offca: WARNING: delete every copy once installed, and prefer endpoint-generated keys (offca sign\n"
		"offca: WARNING: --csr) next time.\n", out_dir, it.name);
out:
	if (rc != OFFCA_OK) {
		char msg[600];
		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		rc = ut_err(rc, "%s: the certificate is signed and recorded but its key could not be written and is gone: "
				"revoke it (offca revoke)", msg);
	}
	ca_export_item_clear(&it);
	return rc;
}

offca_rc cli_export_sops_check(const char *name, const char *ns, const char *const *age, size_t n_age)
{
	unsigned char pub[32];
	offca_rc rc = OFFCA_OK;

	if (!ca_export_k8s_name_ok(name, 0) || (ns != NULL && !ca_export_k8s_name_ok(ns, 1)))
		return ut_err(OFFCA_E_USAGE, "--k8s-secret '%s'%s%s: not a Kubernetes object name / namespace (lower-case "
					     "letters, digits, '-', '.')", name, ns ? " --namespace " : "", ns ? ns : "");
	if (n_age == 0 || n_age > CA_EXPORT_MAX_AGE)
		return ut_err(OFFCA_E_USAGE, "--sops needs 1..%d --age recipients", CA_EXPORT_MAX_AGE);
	for (size_t i = 0; i < n_age && rc == OFFCA_OK; i++)
		rc = ca_age_recipient_parse(age[i], pub);
	return rc;
}

offca_rc cli_export_issued_sops(ca_store *st, const ca_serial *serial, EVP_PKEY *key, const char *name, const char *ns,
				const char *const *age, size_t n_age, const char *out)
{
	ca_export_item it;
	char *yaml = NULL;
	size_t len = 0;
	offca_rc rc;

	memset(&it, 0, sizeof(it));
	if ((rc = load_one(st, serial, 0, &it)) == OFFCA_OK && (rc = ca_export_item_set_key(&it, key)) == OFFCA_OK &&
	    (rc = ca_export_sops_secret(&it, name, ns, age, n_age, (int64_t)time(NULL), &yaml, &len)) == OFFCA_OK)
		rc = ut_write_file(out, yaml, len, UT_WF_EXCL);
	if (rc == OFFCA_OK) {
		printf("%s  serial %s  %s\n", out, it.serial, it.sans_text);
		fprintf(stderr, "offca: WARNING: this private key was generated here; %s holds it encrypted to %zu age "
				"recipient(s) only.\n", out, n_age);
	} else {
		char msg[600];
		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		rc = ut_err(rc, "%s: the certificate is signed and recorded but its key could not be written and is gone: "
				"revoke it (offca revoke)", msg);
	}
	ut_free_secret(yaml, len);
	ca_export_item_clear(&it);
	return rc;
}
