/* inv_report.c - offca report --html: one walk over the store and the audit log collects what the
 * page shows (bounded lists and counters, never every record), then inv_report_html.c renders it. */
#include "inv_report.h"
#include "offca/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void top_add(rep_top *t, const rep_row *row)
{
	size_t i;

	if (t->len == t->cap) {
		const rep_row *last = &t->rows[t->len - 1];
		if (t->asc ? row->t >= last->t : row->t <= last->t)
			return;
		t->len--;
	}
	for (i = t->len; i > 0 && (t->asc ? t->rows[i - 1].t > row->t : t->rows[i - 1].t < row->t); i--)
		t->rows[i] = t->rows[i - 1];
	t->rows[i] = *row;
	t->len++;
}

static void row_of(const ca_cert_record *r, int64_t t, const char *extra, rep_row *row)
{
	memset(row, 0, sizeof(*row));
	ca_serial_hex(&r->serial, row->serial, sizeof(row->serial));
	inv_cn_of(r->subject, row->name, sizeof(row->name));
	if (row->name[0] == '\0' && r->n_sans > 0)
		snprintf(row->name, sizeof(row->name), "%s", r->sans[0]);
	snprintf(row->issuer, sizeof(row->issuer), "%s", r->issuer);
	snprintf(row->extra, sizeof(row->extra), "%s", extra);
	row->t = t;
}

/* Is r the certificate of one of the issuers? */
static int is_ca(const inv_issuers *is, const ca_cert_record *r)
{
	for (size_t i = 0; i < is->n; i++)
		if (memcmp(is->v[i].sha256, r->sha256, 32) == 0)
			return 1;
	return 0;
}

static int on_cert(void *arg, const ca_cert_record *r)
{
	rep *p = arg;
	rep_row row;
	int64_t d;

	inv_count(&p->is, r, p->now, &p->c);
	if (r->status == CA_CERT_REVOKED) {
		row_of(r, r->revoked_at, ca_reason_name(r->reason) ? ca_reason_name(r->reason) : "?", &row);
		top_add(&p->revoked, &row);
	} else if (r->not_after >= p->now && !is_ca(&p->is, r)) { /* CA certificates: in the hierarchy */
		d = (r->not_after - p->now) / 86400;
		p->days[d < REP_DAYS ? d : REP_DAYS - 1]++;
		p->n_leaves++;
		if (r->not_after > p->last_expiry)
			p->last_expiry = r->not_after;
		row_of(r, r->not_after, r->profile, &row);
		top_add(&p->soonest, &row);
	}
	if (strncmp(r->source, "ceremony", 8) == 0) {
		row_of(r, r->issued_at, r->source, &row);
		top_add(&p->ceremony, &row);
	}
	return 0;
}

/* A "sign" entry: count it; remember the first ceremony source (read from the detail's text: a
   million entries are not worth a JSON parse each). */
static void session_sign(rep *p, const char *detail)
{
	const char *q = strstr(detail, "\"source\":\"ceremony");
	size_t n;

	p->cur_signs++;
	if (q == NULL || p->cur_ceremony[0] != '\0')
		return;
	q += strlen("\"source\":\"");
	n = strcspn(q, "\"");
	if (n >= sizeof(p->cur_ceremony))
		n = sizeof(p->cur_ceremony) - 1;
	memcpy(p->cur_ceremony, q, n);
	p->cur_ceremony[n] = '\0';
	q = strstr(p->cur_ceremony, " step "); /* "ceremony NAME step 3": the ceremony, not its step */
	if (q != NULL && strspn(q + 6, "0123456789") == strlen(q + 6))
		p->cur_ceremony[q - p->cur_ceremony] = '\0';
}

/* What the checkpoint at ring slot k closes: a ceremony, a signing session, a CRL. */
static void session_close(rep *p, size_t k)
{
	char *w = p->checks[k].what;
	size_t cap = sizeof(p->checks[k].what);

	if (p->cur_ceremony[0] != '\0')
		snprintf(w, cap, "%s: %zu certificate%s", p->cur_ceremony, p->cur_signs, p->cur_signs == 1 ? "" : "s");
	else if (p->cur_signs > 0)
		snprintf(w, cap, "signing: %zu certificate%s%s", p->cur_signs, p->cur_signs == 1 ? "" : "s",
			 p->cur_crls ? ", a CRL" : "");
	else
		snprintf(w, cap, "%s", p->cur_crls ? "a CRL" : "-");
	p->cur_signs = p->cur_crls = 0;
	p->cur_ceremony[0] = '\0';
}

static int on_audit(void *arg, const ca_audit_entry *e)
{
	rep *p = arg;
	json_t *j;
	size_t k;
	char *hex;

	p->head_seq = e->seq;
	hex = ut_hex(e->hash, 32);
	snprintf(p->head_hash, sizeof(p->head_hash), "%s", hex != NULL ? hex : "?");
	free(hex);
	if (strcmp(e->action, "sign") == 0)
		session_sign(p, e->detail);
	if (strcmp(e->action, "crl") == 0)
		p->cur_crls++;
	if (strcmp(e->action, "checkpoint") != 0)
		return 0;
	k = p->n_checks++ % REP_CHECKS;
	memset(&p->checks[k], 0, sizeof(p->checks[k]));
	session_close(p, k);
	j = json_loads(e->detail, 0, NULL);
	p->checks[k].seq = (uint64_t)json_integer_value(json_object_get(j, "seq"));
	p->checks[k].time = e->time;
	snprintf(p->checks[k].sha256, sizeof(p->checks[k].sha256), "%s",
		 json_string_value(json_object_get(j, "sha256")) ? json_string_value(json_object_get(j, "sha256")) : "?");
	snprintf(p->checks[k].issuer, sizeof(p->checks[k].issuer), "%s",
		 json_string_value(json_object_get(j, "issuer")) ? json_string_value(json_object_get(j, "issuer")) : "?");
	json_decref(j);
	return 0;
}

static offca_rc collect(ca_store *st, rep *p)
{
	offca_rc rc;

	p->soonest = (rep_top){p->soonest_v, 0, REP_SOONEST, 1};
	p->revoked = (rep_top){p->revoked_v, 0, REP_REVOKED, 0};
	p->ceremony = (rep_top){p->ceremony_v, 0, REP_CEREMONY, 0};
	p->days = calloc(REP_DAYS, sizeof(*p->days));
	if (p->days == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	rc = ca_store_cert_each(st, NULL, 0, 0, on_cert, p);
	if (rc == OFFCA_OK)
		rc = ca_store_audit_each(st, 0, on_audit, p);
	if (rc == OFFCA_OK)
		rc = ca_store_pending_list(st, &p->pending, &p->n_pending);
	p->c.pending = p->n_pending;
	for (size_t i = 0; i < p->is.n; i++)
		p->c.crls += p->is.v[i].has_crl;
	return rc;
}

offca_rc ca_inv_report_write(ca_store *st, const char *path, int64_t now, ca_inv_counts *c)
{
	rep *p = calloc(1, sizeof(*p));
	inv_out out;
	offca_rc rc;

	memset(&out, 0, sizeof(out));
	if (p == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	p->now = now;
	rc = inv_issuers_load(st, &p->is);
	if (rc != OFFCA_OK) {
		free(p);
		return rc;
	}
	rc = inv_out_open(&out, path, 1);
	if (rc == OFFCA_OK)
		rc = collect(st, p);
	if (rc == OFFCA_OK) {
		p->f = out.f;
		rep_render(p);
		rc = inv_out_check(&out);
	}
	if (rc == OFFCA_OK)
		rc = inv_out_commit(&out);
	inv_out_abort(&out);
	if (rc == OFFCA_OK && c != NULL)
		*c = p->c;
	ca_pending_list_free(p->pending, p->n_pending);
	inv_issuers_free(&p->is);
	free(p->days);
	free(p);
	return rc;
}
