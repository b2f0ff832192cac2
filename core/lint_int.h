/* lint_int.h - internals shared by lint.c and lint_crl.c (not public). */
#ifndef OFFCA_LINT_INT_H
#define OFFCA_LINT_INT_H

#include "offca/lint.h"

typedef struct lint_ctx {
	ca_lint_result *res;
	const ca_lint_opts *opts;
	int oom;
} lint_ctx;

/* Record a finding (level from the name's prefix: e_ error, w_ warning). */
void lint_add(lint_ctx *c, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Check that t is UTCTime for 1950..2049 and GeneralizedTime otherwise, in the DER forms. */
int lint_time_ok(const ASN1_TIME *t);
/* Finish: OFFCA_OK or OFFCA_E_LINT naming the first unaccepted error. */
offca_rc lint_finish(lint_ctx *c);

#endif
