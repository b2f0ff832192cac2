/* prompt.c - the operator's side of a ceremony: messages, questions, confirmations, Ctrl-C. */
#include "ceremony_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "offca/transcript.h"
#include "offca/util.h"

void cer_say(cer_run_t *r, const char *fmt, ...)
{
	va_list ap;

	if (r->opts->out == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(r->opts->out, fmt, ap);
	va_end(ap);
	fflush(r->opts->out);
}

int cer_interrupted(const cer_run_t *r)
{
	return r->opts->interrupted != NULL && *r->opts->interrupted != 0;
}

offca_rc cer_check_intr(cer_run_t *r)
{
	if (cer_interrupted(r))
		return ut_err(OFFCA_E_ABORTED, "interrupted (Ctrl-C) at %s", r->where);
	return OFFCA_OK;
}

offca_rc cer_log(cer_run_t *r, const char *event, json_t *data)
{
	offca_rc rc;

	if (r->t == NULL) {
		json_decref(data);
		return OFFCA_OK;
	}
	rc = cer_transcript_append(r->t, r->step_id, event, data);
	json_decref(data);
	return rc;
}

offca_rc cer_ask(cer_run_t *r, const char *id, const char *question, char *buf, size_t cap)
{
	const char *a;
	size_t len;

	buf[0] = '\0';
	if (cer_interrupted(r))
		return cer_check_intr(r);
	cer_say(r, "%s [%s]: ", question, id);
	if (r->opts->answers != NULL) {
		a = cer_answers_next(r->opts->answers, id);
		if (a == NULL) {
			cer_say(r, "\n");
			return ut_err(OFFCA_E_ABORTED, "the answers file has no answer for [%s]", id);
		}
		if (strlen(a) >= cap)
			return ut_err(OFFCA_E_TOO_BIG, "answer for [%s] too long", id);
		memcpy(buf, a, strlen(a) + 1);
		cer_say(r, "%s   (answers file)\n", buf);
		return OFFCA_OK;
	}
	if (r->opts->in == NULL)
		return ut_err(OFFCA_E_ABORTED, "no terminal to answer [%s] (use --answers FILE)", id);
	errno = 0;
	if (fgets(buf, (int)cap, r->opts->in) == NULL) {
		clearerr(r->opts->in);
		buf[0] = '\0';
		if (cer_interrupted(r))
			return cer_check_intr(r);
		return ut_err(OFFCA_E_ABORTED, "end of input at [%s]", id);
	}
	len = strcspn(buf, "\r\n");
	if (buf[len] == '\0' && len + 1 == cap)
		return ut_err(OFFCA_E_TOO_BIG, "answer for [%s] too long", id);
	buf[len] = '\0';
	/* trim surrounding blanks */
	while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		buf[--len] = '\0';
	len = strspn(buf, " \t");
	memmove(buf, buf + len, strlen(buf + len) + 1);
	return cer_check_intr(r);
}

offca_rc cer_confirm(cer_run_t *r, const char *id, const char *question)
{
	offca_rc rc;
	char ans[64];

	rc = cer_ask(r, id, question, ans, sizeof(ans));
	if (rc != OFFCA_OK)
		return rc;
	if (strcmp(ans, "yes") != 0) {
		cer_log(r, "confirm", json_pack("{s:s, s:s, s:b}", "prompt", id, "answer", ans, "accepted", 0));
		return ut_err(OFFCA_E_ABORTED, "declined at [%s] (answer '%s', not 'yes')", id, ans);
	}
	return cer_log(r, "confirm", json_pack("{s:s, s:s, s:b}", "prompt", id, "answer", ans, "accepted", 1));
}
