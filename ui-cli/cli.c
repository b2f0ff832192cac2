/* cli.c - error printing and small helpers shared by the command files. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
