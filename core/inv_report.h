/* inv_report.h - what the HTML report's walk (inv_report.c) collects for its renderer
 * (inv_report_html.c). Internal to core. */
#ifndef OFFCA_INV_REPORT_H
#define OFFCA_INV_REPORT_H

#include "inv_int.h"

#define REP_DAYS      (40 * 366)  /* timeline resolution: one counter per day ahead */
#define REP_SOONEST   25          /* valid certificates expiring first, listed one by one */
#define REP_REVOKED   100         /* most recent revocations listed */
#define REP_CEREMONY  10          /* most recent certificates issued by a ceremony */
#define REP_CHECKS    10          /* most recent signed audit checkpoints */
#define REP_PENDING   100         /* pending CSRs listed */

typedef struct rep_row {
	char serial[2 * CA_SERIAL_LEN + 1];
	char name[256];   /* subject CN, else the first SAN */
	char issuer[64];
	char extra[128];  /* reason, source, profile... */
	int64_t t;        /* the time the list is ordered by */
} rep_row;

/* Keep the n best rows in rows[0..*len) ordered by t (ascending when asc, else descending). */
typedef struct rep_top {
	rep_row *rows;
	size_t len, cap;
	int asc;
} rep_top;

typedef struct rep {
	FILE *f;
	inv_issuers is;
	int64_t now;
	ca_inv_counts c;
	size_t *days;        /* valid end-entity certificates by whole days left (REP_DAYS counters) */
	size_t n_leaves;     /* valid end-entity certificates (the timeline's) */
	int64_t last_expiry; /* latest notAfter of one of them */
	rep_top soonest, revoked, ceremony;
	rep_row soonest_v[REP_SOONEST], revoked_v[REP_REVOKED], ceremony_v[REP_CEREMONY];
	struct { uint64_t seq; int64_t time; char sha256[65]; char issuer[64]; char what[192]; } checks[REP_CHECKS];
	size_t n_checks;     /* checkpoints seen (the ring holds the last REP_CHECKS) */
	size_t cur_signs, cur_crls; /* since the last checkpoint: what the next one closes */
	char cur_ceremony[128];     /* the first "ceremony ..." source signed since then */
	uint64_t head_seq;
	char head_hash[65];
	ca_pending *pending;
	size_t n_pending;
} rep;

/* Render the collected report as one HTML page on r->f. */
void rep_render(rep *r);
/* s, HTML-escaped (& < > " '), on f. */
void rep_esc(FILE *f, const char *s);

#endif
