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

/* Read one line from the terminal into buf (trimmed). 1 read, 0 end of input or interrupted. */
static int read_line(cer_run_t *r, char *buf, size_t cap)
{
	size_t len;

	errno = 0;
	if (fgets(buf, (int)cap, r->opts->in) == NULL) {
		clearerr(r->opts->in);
		buf[0] = '\0';
		return 0;
	}
	len = strcspn(buf, "\r\n");
	if (buf[len] == '\0' && len + 1 == cap) { /* too long: drop the rest of the line */
		int c;
		while ((c = fgetc(r->opts->in)) != EOF && c != '\n')
			;
	}
	buf[len] = '\0';
	while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		buf[--len] = '\0';
	len = strspn(buf, " \t");
	memmove(buf, buf + len, strlen(buf + len) + 1);
	return 1;
}

/* Ctrl-C was pressed: on a terminal, a second confirmation ("abort") ends the ceremony; anything
   else clears the interruption and the ceremony goes on. A second Ctrl-C or end of input there
   aborts. With an answers file or no terminal, Ctrl-C aborts at once. */
offca_rc cer_check_intr(cer_run_t *r)
{
	char ans[32];

	if (!cer_interrupted(r))
		return OFFCA_OK;
	if (r->opts->answers != NULL || r->opts->in == NULL)
		return ut_err(OFFCA_E_ABORTED, "interrupted (Ctrl-C) at %s", r->where);
	*r->opts->interrupted = 0;
	cer_say(r, "\n  Ctrl-C: abort the ceremony? type abort (anything else goes on): ");
	if (!read_line(r, ans, sizeof(ans)) || cer_interrupted(r))
		return ut_err(OFFCA_E_ABORTED, "interrupted (Ctrl-C twice) at %s", r->where);
	if (strcmp(ans, "abort") == 0)
		return ut_err(OFFCA_E_ABORTED, "interrupted (Ctrl-C, then abort) at %s", r->where);
	cer_log(r, "interrupt-cancelled", json_pack("{s:s}", "where", r->where));
	cer_say(r, "  Not aborted: going on.\n");
	return OFFCA_OK;
}

/* What now exists, for the abort screen: keys made, certificates and issuers recorded, CRLs. */
static void note(cer_run_t *r, const char *event, json_t *data)
{
	const char *s1, *s2;

	if (r->n_done >= CER_MAX_DONE || data == NULL)
		return;
	s1 = json_string_value(json_object_get(data, "label"));
	if (strcmp(event, "key-generated") == 0) {
		s2 = json_string_value(json_object_get(data, "uri"));
		snprintf(r->done[r->n_done++], sizeof(r->done[0]), "key '%s' on the token: %s", s1 ? s1 : "?", s2 ? s2 : "?");
	} else if (strcmp(event, "issuer-recorded") == 0) {
		s1 = json_string_value(json_object_get(data, "name"));
		snprintf(r->done[r->n_done++], sizeof(r->done[0]), "issuer '%s' recorded in the CA home %s", s1 ? s1 : "?",
			 r->home);
	} else if (strcmp(event, "cert-signed") == 0) {
		s1 = json_string_value(json_object_get(data, "subject"));
		s2 = json_string_value(json_object_get(data, "serial"));
		snprintf(r->done[r->n_done++], sizeof(r->done[0]), "certificate \"%s\" (serial %s) signed and recorded",
			 s1 ? s1 : "?", s2 ? s2 : "?");
	} else if (strcmp(event, "crl-signed") == 0) {
		snprintf(r->done[r->n_done++], sizeof(r->done[0]), "CRL number %lld of '%s' signed and recorded",
			 (long long)json_integer_value(json_object_get(data, "number")),
			 json_string_value(json_object_get(data, "issuer")) ? json_string_value(json_object_get(data, "issuer")) : "?");
	}
}

void cer_note_output(cer_run_t *r, const char *rel)
{
	if (r->n_done < CER_MAX_DONE)
		snprintf(r->done[r->n_done++], sizeof(r->done[0]), "output written: %s/%s", r->out_dir, rel);
}

offca_rc cer_log(cer_run_t *r, const char *event, json_t *data)
{
	offca_rc rc;

	note(r, event, data);
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
	offca_rc rc;

	buf[0] = '\0';
	rc = cer_check_intr(r);
	if (rc != OFFCA_OK)
		return rc;
	if (r->opts->answers != NULL) {
		cer_say(r, "%s [%s]: ", question, id);
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
	for (;;) {
		cer_say(r, "%s [%s]: ", question, id);
		if (read_line(r, buf, cap) && !cer_interrupted(r))
			return OFFCA_OK;
		if (!cer_interrupted(r))
			return ut_err(OFFCA_E_ABORTED, "end of input at [%s]", id);
		rc = cer_check_intr(r); /* Ctrl-C at the prompt: confirm, else ask again */
		if (rc != OFFCA_OK)
			return rc;
	}
}

/* Ask until the answer is one of words ("|"-separated) or "abort". 1..n: which word; 0: abort.
   An answers file's answer is taken as it is: not a word there means abort (no one to ask). */
static offca_rc ask_word(cer_run_t *r, const char *id, const char *question, const char *words, char *ans,
			 size_t cap, int *which)
{
	offca_rc rc;

	for (;;) {
		rc = cer_ask(r, id, question, ans, cap);
		if (rc != OFFCA_OK)
			return rc;
		*which = cer_word_index(words, ans);
		if (*which > 0 || strcmp(ans, "abort") == 0 || r->opts->answers != NULL)
			return OFFCA_OK;
		cer_say(r, "  '%s' is not an answer here: type %s (lower case), or abort to stop the ceremony.\n", ans,
			cer_words_said(words));
		/* the text itself is not recorded: it might be a PIN typed at the wrong prompt */
		cer_log(r, "answer-repeated", json_pack("{s:s, s:i}", "prompt", id, "length", (int)strlen(ans)));
	}
}

int cer_word_index(const char *words, const char *ans)
{
	size_t n = strlen(ans);
	int i = 1;

	for (const char *p = words; *p; i++) {
		size_t l = strcspn(p, "|");
		if (l == n && n > 0 && strncmp(p, ans, n) == 0)
			return i;
		p += l;
		if (*p == '|')
			p++;
	}
	return 0;
}

const char *cer_words_said(const char *words)
{
	if (strcmp(words, "yes") == 0)
		return "yes";
	if (strcmp(words, "yes|no") == 0)
		return "yes or no";
	return words;
}

offca_rc cer_confirm(cer_run_t *r, const char *id, const char *question)
{
	offca_rc rc;
	char ans[64];
	int which = 0;

	rc = ask_word(r, id, question, "yes", ans, sizeof(ans), &which);
	if (rc != OFFCA_OK)
		return rc;
	if (which != 1) {
		cer_log(r, "confirm", json_pack("{s:s, s:s, s:b}", "prompt", id, "answer", ans, "accepted", 0));
		return ut_err(OFFCA_E_ABORTED, "declined at [%s] (answer '%s', not 'yes')", id, ans);
	}
	return cer_log(r, "confirm", json_pack("{s:s, s:s, s:b}", "prompt", id, "answer", ans, "accepted", 1));
}

offca_rc cer_ask_yes_no(cer_run_t *r, const char *id, const char *question, int *yes)
{
	offca_rc rc;
	char ans[64];
	int which = 0;

	*yes = 0;
	rc = ask_word(r, id, question, "yes|no", ans, sizeof(ans), &which);
	if (rc != OFFCA_OK)
		return rc;
	if (which == 0 && r->opts->answers == NULL)
		return ut_err(OFFCA_E_ABORTED, "abort typed at [%s]", id);
	*yes = which == 1;
	return OFFCA_OK;
}
