/* cli_time.c - the time values options take (--since of bundle export and publish). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cli_parse_time(const char *s, int64_t *t)
{
	struct tm tm;
	char *e;
	long long v;
	int n = 0;

	if (s[0] == '@') {
		v = strtoll(s + 1, &e, 10);
		if (e == s + 1 || *e != '\0' || v < 0)
			return -1;
		*t = v;
		return 1;
	}
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec, &n) != 6 || s[n] != '\0') {
		memset(&tm, 0, sizeof(tm));
		n = 0;
		if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 || s[n] != '\0')
			return 0;
	}
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*t = (int64_t)timegm(&tm);
	return 1;
}
