/* ur_dec.c - the multi-part UR decoder: frames in any order, repeated, mixed; one message only. */
#include "offca/ur.h"
#include "offca/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct xfr_ur_decoder {
	char expect[XFR_UR_MAX_TYPE + 1]; /* "" = any type */
	int pinned;
	xfr_ur_id id;                     /* the pinned message (seq_num of its first frame) */
	xfr_fountain_dec *fountain;
	const unsigned char *payload;     /* into the fountain's message, once done */
	size_t payload_len;
};

offca_rc xfr_ur_decoder_new(const char *expect_type, xfr_ur_decoder **out)
{
	offca_rc rc;
	xfr_ur_decoder *d;

	*out = NULL;
	if (expect_type != NULL && !xfr_ur_type_valid(expect_type))
		return ut_err(OFFCA_E_USAGE, "'%s' is not a valid UR type", expect_type);
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	if (expect_type != NULL)
		snprintf(d->expect, sizeof(d->expect), "%s", expect_type);
	rc = xfr_fountain_dec_new(&d->fountain);
	if (rc != OFFCA_OK) {
		free(d);
		return rc;
	}
	*out = d;
	return OFFCA_OK;
}

void xfr_ur_decoder_free(xfr_ur_decoder *d)
{
	if (d == NULL)
		return;
	xfr_fountain_dec_free(d->fountain);
	free(d);
}

static int same_message(const xfr_ur_id *a, const xfr_ur_id *b)
{
	return strcmp(a->type, b->type) == 0 && a->seq_len == b->seq_len && a->msg_len == b->msg_len &&
	       a->checksum == b->checksum;
}

offca_rc xfr_ur_decoder_add(xfr_ur_decoder *d, const char *text, size_t len, xfr_part_status *status)
{
	offca_rc rc;
	xfr_ur_id id;
	xfr_part p = {0};
	const unsigned char *msg;
	size_t mlen;

	*status = XFR_PART_FOREIGN;
	if (xfr_fountain_dec_done(d->fountain)) {
		*status = XFR_PART_LATE;
		return OFFCA_OK;
	}
	rc = xfr_ur_parse(text, len, &id, &p);
	if (rc != OFFCA_OK)
		return rc;
	if ((d->expect[0] != '\0' && strcmp(id.type, d->expect) != 0) || (d->pinned && !same_message(&d->id, &id))) {
		rc = OFFCA_OK;
		goto out;
	}
	rc = xfr_fountain_dec_add(d->fountain, &p, status);
	if (rc != OFFCA_OK)
		goto out;
	if (!d->pinned && *status != XFR_PART_FOREIGN) {
		d->id = id;
		d->pinned = 1;
	}
	if (xfr_fountain_dec_done(d->fountain)) {
		rc = xfr_fountain_dec_result(d->fountain, &msg, &mlen);
		if (rc == OFFCA_OK)
			rc = xfr_ur_unwrap(msg, mlen, &d->payload, &d->payload_len);
	}
out:
	xfr_part_clear(&p);
	return rc;
}

void xfr_ur_decoder_progress(const xfr_ur_decoder *d, size_t *have, size_t *total)
{
	xfr_fountain_dec_progress(d->fountain, have, total);
}

int xfr_ur_decoder_done(const xfr_ur_decoder *d)
{
	return d->payload != NULL;
}

offca_rc xfr_ur_decoder_id(const xfr_ur_decoder *d, xfr_ur_id *id)
{
	memset(id, 0, sizeof(*id));
	if (!d->pinned)
		return ut_err(OFFCA_E_STATE, "no frame received yet");
	*id = d->id;
	return OFFCA_OK;
}

offca_rc xfr_ur_decoder_result(const xfr_ur_decoder *d, const char **type, const unsigned char **payload,
			       size_t *len)
{
	*type = NULL;
	*payload = NULL;
	*len = 0;
	if (d->payload == NULL)
		return ut_err(OFFCA_E_STATE, "the message is not complete yet");
	*type = d->id.type;
	*payload = d->payload;
	*len = d->payload_len;
	return OFFCA_OK;
}

struct xfr_ur_multi {
	char expect[XFR_UR_MAX_TYPE + 1];
	xfr_ur_decoder *d[XFR_UR_MAX_PARALLEL];
	size_t n;
	const xfr_ur_decoder *done;
};

offca_rc xfr_ur_multi_new(const char *expect_type, xfr_ur_multi **out)
{
	xfr_ur_multi *m;

	*out = NULL;
	if (expect_type != NULL && !xfr_ur_type_valid(expect_type))
		return ut_err(OFFCA_E_USAGE, "'%s' is not a valid UR type", expect_type);
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	if (expect_type != NULL)
		snprintf(m->expect, sizeof(m->expect), "%s", expect_type);
	*out = m;
	return OFFCA_OK;
}

void xfr_ur_multi_free(xfr_ur_multi *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		xfr_ur_decoder_free(m->d[i]);
	free(m);
}

offca_rc xfr_ur_multi_add(xfr_ur_multi *m, const char *text, size_t len, xfr_part_status *status,
			  const xfr_ur_decoder **which)
{
	offca_rc rc;
	xfr_ur_id id;
	size_t i;

	*status = XFR_PART_FOREIGN;
	if (which != NULL)
		*which = NULL;
	if (m->done != NULL) {
		*status = XFR_PART_LATE;
		return OFFCA_OK;
	}
	rc = xfr_ur_parse(text, len, &id, NULL);
	if (rc != OFFCA_OK)
		return rc;
	if (m->expect[0] != '\0' && strcmp(id.type, m->expect) != 0)
		return OFFCA_OK;
	for (i = 0; i < m->n && !same_message(&m->d[i]->id, &id); i++)
		;
	if (i == m->n) {
		if (m->n == XFR_UR_MAX_PARALLEL)
			return OFFCA_OK;
		rc = xfr_ur_decoder_new(id.type, &m->d[m->n]);
		if (rc != OFFCA_OK)
			return rc;
		m->n++;
	}
	rc = xfr_ur_decoder_add(m->d[i], text, len, status);
	if (which != NULL)
		*which = m->d[i];
	if (rc == OFFCA_OK && xfr_ur_decoder_done(m->d[i]))
		m->done = m->d[i];
	return rc;
}

const xfr_ur_decoder *xfr_ur_multi_done(const xfr_ur_multi *m)
{
	return m->done;
}
