/* cfile_diag.c - the list of validation problems (one message per problem). */
#include "ceremony_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "offca/util.h"

#define DIAG_MAX 512

struct cer_diag {
	char **msgs;
	size_t n, cap;
	size_t dropped;
};

offca_rc cer_diag_new(cer_diag **out)
{
	*out = calloc(1, sizeof(**out));
	if (*out == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	return OFFCA_OK;
}

void cer_diag_free(cer_diag *d)
{
	if (d == NULL)
		return;
	cer_strv_free(d->msgs, d->n);
	free(d);
}

size_t cer_diag_count(const cer_diag *d)
{
	return d == NULL ? 0 : d->n + d->dropped;
}

const char *cer_diag_msg(const cer_diag *d, size_t i)
{
	if (d == NULL || i >= d->n)
		return NULL;
	return d->msgs[i];
}

void cer_diag_add(cer_diag *d, const char *fmt, ...)
{
	char buf[2048];
	char **nm;
	va_list ap;

	if (d == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (d->n >= DIAG_MAX) {
		d->dropped++;
		return;
	}
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->msgs[i], buf) == 0)
			return; /* the same problem once */
	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 16;
		nm = realloc(d->msgs, nc * sizeof(*nm));
		if (nm == NULL) {
			d->dropped++;
			return;
		}
		d->msgs = nm;
		d->cap = nc;
	}
	d->msgs[d->n] = strdup(buf);
	if (d->msgs[d->n] == NULL) {
		d->dropped++;
		return;
	}
	d->n++;
}
