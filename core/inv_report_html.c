/* inv_report_html.c - the HTML report's page: inline CSS and SVG, no script, nothing fetched;
 * every text that comes from a certificate, a CSR or the audit log goes through rep_esc(). */
#include "inv_report.h"
#include "offca/util.h"
#include "offca/x509.h"

#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#define TL_WIDTH  900
#define TL_HEIGHT 180

static const char css[] =
	"body{font:14px/1.4 sans-serif;margin:24px;color:#222}h1{font-size:22px}h2{font-size:17px;margin-top:28px;"
	"border-bottom:1px solid #ccc}table{border-collapse:collapse}td,th{padding:2px 10px;text-align:left;"
	"border-bottom:1px solid #eee;vertical-align:top}th{background:#f4f4f4}.mono{font-family:monospace;font-size:12px}"
	"ul.tree,ul.tree ul{list-style:none;padding-left:22px}ul.tree li{margin:6px 0}.warn{color:#b35c00}"
	".bad{color:#b00020;font-weight:bold}.ok{color:#1b7f3b}.bar{fill:#3b6ea5}.axis{font:10px sans-serif;fill:#555}"
	".note{color:#666}";

void rep_esc(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void put_time(FILE *f, int64_t t)
{
	char b[32];

	inv_time(t, b, sizeof(b));
	fputs(b, f);
}

static void put_day(FILE *f, int64_t t)
{
	char b[32];

	inv_time(t, b, sizeof(b));
	b[10] = '\0';
	fputs(b, f);
}

static void put_summary(rep *r)
{
	FILE *f = r->f;

	fprintf(f, "<h2 id=\"summary\">Summary</h2><table><tr><th>certificates</th><th>valid</th><th>revoked</th>"
		   "<th>expired</th><th>pending CSRs</th><th>issuers</th><th>audit entries</th></tr>\n"
		   "<tr class=\"summary\"><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%llu</td>"
		   "</tr></table>\n", r->c.certs, r->c.valid, r->c.revoked, r->c.expired, r->c.pending, r->is.n,
		(unsigned long long)r->head_seq);
}

/* ---- hierarchy ---- */

static void put_issuer(rep *r, const inv_issuer *x)
{
	FILE *f = r->f;
	char uri[4096], *fp = ut_hex_colon(x->sha256, 32);

	inv_uri_redact(x->iss.key_uri, uri, sizeof(uri));
	fputs("<li class=\"issuer\"><b>", f);
	rep_esc(f, x->iss.name);
	fputs("</b> ", f);
	rep_esc(f, x->subject);
	fprintf(f, " <span class=\"note\">(%s)</span><br><span class=\"mono\">SHA-256 %s</span><br>valid ",
		x->iss.is_root ? "root" : "intermediate", fp != NULL ? fp : "?");
	free(fp);
	put_day(f, x->not_before);
	fputs(" to ", f);
	put_day(f, x->not_after);
	fputs(x->not_after < r->now ? " <span class=\"bad\">EXPIRED</span>" : "", f);
	fputs("; key ", f);
	rep_esc(f, uri[0] ? uri : "(elsewhere)");
	fprintf(f, "<br>issued: <span class=\"ok\">%zu valid</span>, %zu revoked, %zu expired", x->n_valid, x->n_revoked,
		x->n_expired);
}

static void put_tree(rep *r, const char *parent, int depth)
{
	int any = 0;

	for (size_t i = 0; i < r->is.n && depth < 16; i++) {
		const inv_issuer *x = &r->is.v[i];
		int top = parent == NULL && (x->iss.parent[0] == '\0' || inv_issuers_find(&r->is, x->iss.parent) == NULL);
		if (!(top || (parent != NULL && strcmp(x->iss.parent, parent) == 0 && strcmp(x->iss.name, parent) != 0)))
			continue;
		fputs(any++ ? "" : depth ? "<ul>" : "<ul class=\"tree\">", r->f);
		put_issuer(r, x);
		put_tree(r, x->iss.name, depth + 1);
		fputs("</li>\n", r->f);
	}
	if (any)
		fputs("</ul>\n", r->f);
}

/* ---- expiry timeline: valid certificates in bars of a week (a month past a year, a year past
   ten), so a hundred thousand certificates draw at most a few hundred bars ---- */

static void put_timeline(rep *r)
{
	FILE *f = r->f;
	long span = r->n_leaves ? (long)((r->last_expiry - r->now) / 86400) + 1 : 0;
	long step = span <= 366 ? 7 : span <= 3660 ? 30 : 365, nb = (span + step - 1) / step;
	size_t *b, max = 1;
	double w;

	fprintf(f, "<h2 id=\"timeline\">Expiry timeline</h2>\n<p>%zu valid end-entity certificates by notAfter, one bar "
		   "per %s (CA certificates: see the hierarchy).</p>\n", r->n_leaves,
		step == 7 ? "week" : step == 30 ? "30 days" : "365 days");
	if (nb == 0)
		return;
	b = calloc((size_t)nb, sizeof(*b));
	if (b == NULL)
		return;
	for (long d = 0; d < REP_DAYS; d++)
		b[d / step < nb ? d / step : nb - 1] += r->days[d];
	for (long i = 0; i < nb; i++)
		max = b[i] > max ? b[i] : max;
	w = (double)(TL_WIDTH - 40) / (double)nb;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\">\n", TL_WIDTH,
		TL_HEIGHT + 30);
	fprintf(f, "<line x1=\"30\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n", TL_HEIGHT, TL_WIDTH - 10, TL_HEIGHT);
	fprintf(f, "<text class=\"axis\" x=\"0\" y=\"12\">%zu</text>\n", max);
	for (long i = 0; i < nb; i++) {
		double h = (double)b[i] * (TL_HEIGHT - 20) / (double)max;
		fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>", 30 + i * w,
			TL_HEIGHT - h, w > 2 ? w - 1 : w, h);
		put_day(f, r->now + (int64_t)i * step * 86400);
		fprintf(f, ": %zu</title></rect>\n", b[i]);
		if (i % (nb / 8 + 1) == 0) {
			fprintf(f, "<text class=\"axis\" x=\"%.1f\" y=\"%d\">", 30 + i * w, TL_HEIGHT + 14);
			put_day(f, r->now + (int64_t)i * step * 86400);
			fputs("</text>\n", f);
		}
	}
	fputs("</svg>\n<table><tr><th>from</th><th>before</th><th>certificates</th></tr>\n", f);
	for (long i = 0; i < nb; i++) {
		if (b[i] == 0)
			continue;
		fputs("<tr class=\"bucket\"><td>", f);
		put_day(f, r->now + (int64_t)i * step * 86400);
		fputs("</td><td>", f);
		put_day(f, r->now + (int64_t)(i + 1) * step * 86400);
		fprintf(f, "</td><td>%zu</td></tr>\n", b[i]);
	}
	fputs("</table>\n", f);
	free(b);
}

static void put_rows(rep *r, const char *id, const char *title, const char *tcol, const char *xcol, const rep_top *t,
		     size_t total)
{
	FILE *f = r->f;

	fprintf(f, "<h2 id=\"%s\">%s</h2>\n", id, title);
	if (t->len < total)
		fprintf(f, "<p class=\"note\">%zu of %zu shown.</p>\n", t->len, total);
	if (t->len == 0) {
		fputs("<p>none</p>\n", f);
		return;
	}
	fprintf(f, "<table><tr><th>serial</th><th>name</th><th>issuer</th><th>%s</th><th>%s</th></tr>\n", tcol, xcol);
	for (size_t i = 0; i < t->len; i++) {
		const rep_row *w = &t->rows[i];
		fprintf(f, "<tr class=\"%s\"><td class=\"mono\">%s</td><td>", id, w->serial);
		rep_esc(f, w->name);
		fputs("</td><td>", f);
		rep_esc(f, w->issuer);
		fputs("</td><td>", f);
		put_time(f, w->t);
		fputs("</td><td>", f);
		rep_esc(f, w->extra);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void put_crls(rep *r)
{
	FILE *f = r->f;

	fputs("<h2 id=\"crls\">CRLs</h2>\n<table><tr><th>issuer</th><th>number</th><th>thisUpdate</th><th>nextUpdate</th>"
	      "<th>state</th></tr>\n", f);
	for (size_t i = 0; i < r->is.n; i++) {
		const inv_issuer *x = &r->is.v[i];
		int64_t life = x->crl_next - x->crl_this, left = x->crl_next - r->now;
		fputs("<tr class=\"crl\"><td>", f);
		rep_esc(f, x->iss.name);
		if (!x->has_crl) {
			fputs("</td><td colspan=\"3\">no CRL issued yet</td><td class=\"warn\">run offca crl</td></tr>\n", f);
			continue;
		}
		fprintf(f, "</td><td>%llu</td><td>", (unsigned long long)x->crl_number);
		put_time(f, x->crl_this);
		fputs("</td><td>", f);
		put_time(f, x->crl_next);
		fputs(left < 0 ? "</td><td class=\"bad\">EXPIRED" : left * 4 < life ? "</td><td class=\"warn\">renew soon"
										 : "</td><td class=\"ok\">fine",
		      f);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void put_pending(rep *r)
{
	FILE *f = r->f;
	char subj[512];

	fprintf(f, "<h2 id=\"pending\">Pending CSRs</h2>\n<p>%zu waiting to be signed.</p>\n", r->n_pending);
	if (r->n_pending == 0)
		return;
	fputs("<table><tr><th>id</th><th>received</th><th>subject</th><th>source</th></tr>\n", f);
	for (size_t i = 0; i < r->n_pending && i < REP_PENDING; i++) {
		const unsigned char *p = r->pending[i].der;
		X509_REQ *q = d2i_X509_REQ(NULL, &p, (long)r->pending[i].len);
		subj[0] = '\0';
		if (q != NULL)
			(void)ca_x509_name_text(X509_REQ_get_subject_name(q), subj, sizeof(subj)); /* cut to fit is fine */
		X509_REQ_free(q);
		fprintf(f, "<tr class=\"pending\"><td>%llu</td><td>", (unsigned long long)r->pending[i].id);
		put_time(f, r->pending[i].received);
		fputs("</td><td>", f);
		rep_esc(f, subj);
		fputs("</td><td>", f);
		rep_esc(f, r->pending[i].source);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void put_checks(rep *r)
{
	FILE *f = r->f;
	size_t n = r->n_checks < REP_CHECKS ? r->n_checks : REP_CHECKS;

	fprintf(f, "<h2 id=\"checkpoints\">Signed audit checkpoints</h2>\n<p>Every signing session, CRL and ceremony "
		   "ends by signing the audit log's head. Head now: entry %llu, SHA-256 <span class=\"mono\">%s</span>; "
		   "%zu checkpoints in all.</p>\n", (unsigned long long)r->head_seq, r->head_hash, r->n_checks);
	if (n == 0)
		return;
	fputs("<table><tr><th>time</th><th>entry signed</th><th>its SHA-256 (final hash)</th><th>issuer</th>"
	      "<th>closes</th></tr>\n", f);
	for (size_t k = 0; k < n; k++) { /* newest first */
		size_t i = (r->n_checks - 1 - k) % REP_CHECKS;
		fputs("<tr class=\"checkpoint\"><td>", f);
		put_time(f, r->checks[i].time);
		fprintf(f, "</td><td>%llu</td><td class=\"mono\">", (unsigned long long)r->checks[i].seq);
		rep_esc(f, r->checks[i].sha256);
		fputs("</td><td>", f);
		rep_esc(f, r->checks[i].issuer);
		fputs("</td><td>", f);
		rep_esc(f, r->checks[i].what);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

void rep_render(rep *r)
{
	FILE *f = r->f;

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
		   "img-src data:\">\n<title>offca report</title>\n<style>%s</style></head><body>\n<h1>offca report</h1>\n"
		   "<p>CA home inventory at ", css);
	put_time(f, r->now);
	fputs(".</p>\n", f);
	put_summary(r);
	fputs("<h2 id=\"hierarchy\">Hierarchy</h2>\n", f);
	put_tree(r, NULL, 0);
	put_timeline(r);
	put_rows(r, "soonest", "Expiring first", "notAfter", "profile", &r->soonest, r->n_leaves);
	put_rows(r, "revoked", "Revoked", "revoked at", "reason", &r->revoked, r->c.revoked);
	put_crls(r);
	put_pending(r);
	put_checks(r);
	put_rows(r, "ceremonies", "Issued by ceremonies", "issued", "source", &r->ceremony, r->ceremony.len);
	fputs("</body></html>\n", f);
}
