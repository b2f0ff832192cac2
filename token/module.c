/* module.c - choosing and loading a PKCS#11 module (libp11 context + the raw function list). */
#include "tok_int.h"
#include "offca/util.h"

#include <dlfcn.h>
#include <openssl/err.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Installed modules offca looks for, in this order (SoftHSM2 first, then OpenSC). */
static const char *const known_modules[] = {
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
	"/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so",
	"/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
	"/usr/lib/aarch64-linux-gnu/pkcs11/opensc-pkcs11.so",
	"/usr/lib/opensc-pkcs11.so",
	"/usr/local/lib/opensc-pkcs11.so",
	NULL,
};

static const char *const module_dirs[] = {
	"/usr/lib/x86_64-linux-gnu/pkcs11", "/usr/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu/softhsm",
	"/usr/lib/aarch64-linux-gnu/pkcs11", "/usr/lib/aarch64-linux-gnu", "/usr/lib/softhsm", "/usr/lib",
	"/usr/local/lib", NULL,
};

/*
 * One tok_ctx per module path per process, shared and counted. Two independent libp11 contexts on
 * one module do not mix: unloading one calls C_Finalize, and releasing its slots calls
 * C_CloseAllSessions, either of which ends the sessions (and login) of every other context on
 * that module. So a second tok_ctx_open of the same path returns the same context with one more
 * user, and only the last tok_ctx_free releases it.
 */
#define MAX_LOADED 8
static pthread_mutex_t loaded_lock = PTHREAD_MUTEX_INITIALIZER;
static tok_ctx *loaded[MAX_LOADED];

/*
 * The context already open for the library at real (a realpath(): /usr/lib/softhsm/libsofthsm2.so
 * is a symlink to the same library as .../x86_64-linux-gnu/softhsm/libsofthsm2.so), with one more
 * user, or NULL. Call with loaded_lock held.
 */
static tok_ctx *loaded_find(const char *real)
{
	for (size_t i = 0; i < MAX_LOADED; i++) {
		if (loaded[i] != NULL && strcmp(loaded[i]->real, real) == 0) {
			loaded[i]->users++;
			return loaded[i];
		}
	}
	return NULL;
}

/* Register ctx. Returns 0, or -1 when the table is full. Call with loaded_lock held. */
static int loaded_add(tok_ctx *ctx)
{
	for (size_t i = 0; i < MAX_LOADED; i++) {
		if (loaded[i] == NULL) {
			loaded[i] = ctx;
			return 0;
		}
	}
	return -1;
}

static void loaded_remove(tok_ctx *ctx)
{
	for (size_t i = 0; i < MAX_LOADED; i++)
		if (loaded[i] == ctx)
			loaded[i] = NULL;
}

static void ctx_release(tok_ctx *ctx);
static offca_rc enum_slots(tok_ctx *ctx);

static offca_rc copy_path(const char *src, const char *from, char *out, size_t cap)
{
	int n;

	if (access(src, R_OK) != 0)
		return ut_err(OFFCA_E_MODULE, "PKCS#11 module %s (from %s): not found or not readable", src, from);
	n = snprintf(out, cap, "%s", src);
	if (n < 0 || (size_t)n >= cap)
		return ut_err(OFFCA_E_TOO_BIG, "PKCS#11 module path too long");
	return OFFCA_OK;
}

/* RFC 7512 module-name: "softhsm2" -> .../libsofthsm2.so, "opensc-pkcs11" -> .../opensc-pkcs11.so */
static offca_rc by_name(const char *name, char *out, size_t cap)
{
	char path[PATH_MAX];
	static const char *const prefixes[] = {"", "lib", NULL};

	if (strchr(name, '/') != NULL || name[0] == '.' || name[0] == '\0')
		return ut_err(OFFCA_E_PARSE, "pkcs11 URI: module-name must be a bare library name");
	for (size_t d = 0; module_dirs[d] != NULL; d++) {
		for (size_t f = 0; prefixes[f] != NULL; f++) {
			int n = snprintf(path, sizeof(path), "%s/%s%s.so", module_dirs[d], prefixes[f], name);

			if (n > 0 && (size_t)n < sizeof(path) && access(path, R_OK) == 0)
				return copy_path(path, "module-name", out, cap);
		}
	}
	return ut_err(OFFCA_E_MODULE, "PKCS#11 module-name=%s: no such library in the usual directories", name);
}

offca_rc tok_module_resolve(const char *cli_module, const tok_uri *uri, char *out, size_t cap)
{
	const char *v;

	if (out == NULL || cap == 0)
		return ut_err(OFFCA_E_USAGE, "tok_module_resolve: no output buffer");
	out[0] = '\0';
	if (cli_module != NULL && cli_module[0] != '\0')
		return copy_path(cli_module, "--module", out, cap);
	v = tok_uri_get(uri, "module-path");
	if (v != NULL)
		return copy_path(v, "the URI's module-path", out, cap);
	v = tok_uri_get(uri, "module-name");
	if (v != NULL)
		return by_name(v, out, cap);
	v = getenv("OFFCA_PKCS11_MODULE");
	if (v != NULL && v[0] != '\0')
		return copy_path(v, "$OFFCA_PKCS11_MODULE", out, cap);
	for (size_t i = 0; known_modules[i] != NULL; i++)
		if (access(known_modules[i], R_OK) == 0)
			return copy_path(known_modules[i], "discovery", out, cap);
	return ut_err(OFFCA_E_MODULE, "no PKCS#11 module found: install softhsm2 or opensc-pkcs11, "
				      "or pass --module PATH / set OFFCA_PKCS11_MODULE");
}

/* Load the module into a new context (not yet registered). */
static offca_rc ctx_load(const char *module_path, const char *real, tok_ctx **out)
{
	tok_ctx *ctx = NULL;
	CK_C_GetFunctionList getfl;
	CK_RV rv;
	offca_rc rc = OFFCA_E_NOMEM;

	*out = NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		goto out;
	ctx->users = 1;
	if (snprintf(ctx->module, sizeof(ctx->module), "%s", module_path) >= (int)sizeof(ctx->module) ||
	    snprintf(ctx->real, sizeof(ctx->real), "%s", real) >= (int)sizeof(ctx->real)) {
		rc = ut_err(OFFCA_E_TOO_BIG, "PKCS#11 module path too long");
		goto out;
	}
	/*
	 * Load it ourselves first: a clear error for a missing or bogus module (libp11 prints dlerror()
	 * on stderr), and the raw function list. libp11 loading the same path gets the same library.
	 */
	ctx->dl = dlopen(module_path, RTLD_NOW | RTLD_LOCAL);
	if (ctx->dl == NULL) {
		rc = ut_err(OFFCA_E_MODULE, "PKCS#11 module %s cannot be loaded (%s)", module_path, dlerror());
		goto out;
	}
	*(void **)&getfl = dlsym(ctx->dl, "C_GetFunctionList");
	if (getfl == NULL) {
		rc = ut_err(OFFCA_E_MODULE, "%s is not a PKCS#11 module (no C_GetFunctionList)", module_path);
		goto out;
	}
	rv = getfl(&ctx->fl);
	if (rv != CKR_OK || ctx->fl == NULL) {
		rc = ut_err(OFFCA_E_MODULE, "PKCS#11 module %s: C_GetFunctionList failed (%s)", module_path,
			    tok_rv_name(rv));
		goto out;
	}
	ctx->p11 = PKCS11_CTX_new();
	if (ctx->p11 == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if (PKCS11_CTX_load(ctx->p11, module_path) != 0) {
		rc = ut_err_ssl(OFFCA_E_MODULE, "PKCS#11 module %s failed to initialise", module_path);
		PKCS11_CTX_free(ctx->p11);
		ctx->p11 = NULL;
		goto out;
	}
	rc = enum_slots(ctx);
	if (rc != OFFCA_OK)
		goto out;
	*out = ctx;
	ctx = NULL;
out:
	ctx_release(ctx);
	return rc;
}

offca_rc tok_ctx_open(const char *module_path, tok_ctx **out)
{
	char real[PATH_MAX];
	tok_ctx *ctx = NULL;
	offca_rc rc = OFFCA_OK;

	if (out != NULL)
		*out = NULL;
	if (module_path == NULL || out == NULL)
		return ut_err(OFFCA_E_USAGE, "tok_ctx_open: NULL argument");
	if (realpath(module_path, real) == NULL)
		return ut_err(OFFCA_E_MODULE, "PKCS#11 module %s: not found or not readable", module_path);
	pthread_mutex_lock(&loaded_lock);
	ctx = loaded_find(real);
	if (ctx == NULL) {
		rc = ctx_load(module_path, real, &ctx);
		if (rc == OFFCA_OK && loaded_add(ctx) != 0) {
			ctx_release(ctx);
			ctx = NULL;
			rc = ut_err(OFFCA_E_MODULE, "more than %d PKCS#11 modules open at once", MAX_LOADED);
		}
	}
	pthread_mutex_unlock(&loaded_lock);
	if (rc == OFFCA_OK)
		*out = ctx;
	return rc;
}

offca_rc tok_ctx_enum(tok_ctx *ctx)
{
	offca_rc rc;

	pthread_mutex_lock(&loaded_lock);
	rc = enum_slots(ctx);
	pthread_mutex_unlock(&loaded_lock);
	return rc;
}

/* (Re-)read the slot list unless the context is shared. Call with loaded_lock held. */
static offca_rc enum_slots(tok_ctx *ctx)
{
	if (ctx->users > 1)
		return OFFCA_OK; /* others hold keys that point into these slots: keep them */
	if (ctx->slots != NULL) {
		PKCS11_release_all_slots(ctx->p11, ctx->slots, ctx->nslots);
		ctx->slots = NULL;
		ctx->nslots = 0;
	}
	if (PKCS11_enumerate_slots(ctx->p11, &ctx->slots, &ctx->nslots) != 0) {
		CK_ULONG n = 0;
		CK_RV rv = ctx->fl->C_GetSlotList(CK_FALSE, NULL, &n);

		ctx->slots = NULL;
		ctx->nslots = 0;
		ERR_clear_error();
		if (rv == CKR_OK && n == 0)
			return OFFCA_OK; /* libp11 0.4.12 fails on an empty slot list: it is just empty */
		return ut_err(OFFCA_E_TOKEN, "PKCS#11 module %s cannot list its slots (%s)%s", ctx->module,
			      rv != CKR_OK ? tok_rv_name(rv) : "libp11 gave no reason",
			      strstr(ctx->module, "opensc") != NULL ? ": is pcscd running?" : "");
	}
	return OFFCA_OK;
}

static void ctx_release(tok_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->p11 != NULL) {
		if (ctx->slots != NULL)
			PKCS11_release_all_slots(ctx->p11, ctx->slots, ctx->nslots);
		PKCS11_CTX_unload(ctx->p11);
		PKCS11_CTX_free(ctx->p11);
	}
	if (ctx->dl != NULL)
		dlclose(ctx->dl);
	free(ctx);
}

void tok_ctx_free(tok_ctx *ctx)
{
	unsigned left;

	if (ctx == NULL)
		return;
	pthread_mutex_lock(&loaded_lock);
	left = --ctx->users;
	if (left == 0)
		loaded_remove(ctx);
	pthread_mutex_unlock(&loaded_lock);
	if (left == 0)
		ctx_release(ctx);
}

const char *tok_ctx_module(const tok_ctx *ctx)
{
	return ctx != NULL ? ctx->module : NULL;
}

CK_FUNCTION_LIST *tok_ctx_fl(tok_ctx *ctx)
{
	return ctx->fl;
}
