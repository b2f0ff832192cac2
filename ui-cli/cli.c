/* cli.c - error printing and small helpers shared by the command files. */
#include "cli.h"

#include "offca/config.h"
#include "offca/util.h"
#include "offca/x509.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int cli_fail(offca_rc rc)
{
	const char *msg = ut_err_last() == rc ? ut_err_msg() : ut_strerror(rc);

	fprintf(stderr, "offca: %s\n", msg);
	return ut_exit_code(rc);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "offca %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'offca %s --help')\n", cmd);
	return ut_exit_code(OFFCA_E_USAGE);
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

const char *cli_home(const char *opt)
{
	const char *env;

	if (opt != NULL && opt[0] == '\0') {
		ut_err(OFFCA_E_USAGE, "--home needs a directory (an empty --home is not $OFFCA_HOME)");
		return NULL;
	}
	if (opt != NULL)
		return opt;
	env = getenv("OFFCA_HOME");
	if (env != NULL && env[0] != '\0')
		return env;
	ut_err(OFFCA_E_USAGE, "no CA home: pass --home DIR or set OFFCA_HOME");
	return NULL;
}

void cli_fmt_time(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "@%lld", (long long)t);
}

void cli_print_name(FILE *f, const X509_NAME *name)
{
	char buf[1024];

	fputs(ca_x509_name_text(name, buf, sizeof(buf)) == OFFCA_OK ? buf : "(unprintable name)", f);
}

offca_rc cli_require_signed(const char *home, struct ca_store *st, int *out)
{
	ca_config *cfg = NULL;
	offca_rc rc;

	*out = 0;
	rc = ca_config_load_for_store(home, st, NULL, 0, &cfg);
	if (rc == OFFCA_OK)
		*out = ca_config_transfer_require_signed(cfg);
	ca_config_free(cfg);
	return rc;
}

offca_rc cli_out_dir(const char *dir)
{
	struct stat sb;
	offca_rc rc;

	if (stat(dir, &sb) == 0)
		return S_ISDIR(sb.st_mode) ? OFFCA_OK : ut_err(OFFCA_E_EXISTS, "--out-dir %s: exists and is not a directory", dir);
	if ((rc = ut_mkdir_p(dir, 0700)) != OFFCA_OK) {
		char msg[600];

		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		return ut_err(rc, "--out-dir %s: cannot create it (%s)", dir, msg);
	}
	return OFFCA_OK;
}

offca_rc cli_p12_passphrase(const char *file, char *buf, size_t cap)
{
	char again[UT_MAX_SECRET];
	offca_rc rc;

	if (file != NULL)
		return ut_secret_from_file(file, 1, buf, cap);
	if ((rc = ut_secret_prompt("PKCS#12 passphrase: ", buf, cap)) != OFFCA_OK)
		return rc;
	rc = ut_secret_prompt("PKCS#12 passphrase (again): ", again, sizeof(again));
	if (rc == OFFCA_OK && strcmp(buf, again) != 0)
		rc = ut_err(OFFCA_E_USAGE, "the passphrases differ");
	ut_memzero(again, sizeof(again));
	return rc;
}
