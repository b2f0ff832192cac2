/*
 * fountain_dec.c - the UR fountain decoder: a peeling decoder over XOR-mixed fragments.
 * Known fragments are XORed out of mixed parts; a mixed part left with one fragment reveals it;
 * a mixed part that is a strict subset of another is XORed out of it. The first part pins the
 * message; parts that disagree with it are foreign and never touch the state.
 */
#include "offca/ur.h"
#include "offca/util.h"

#include <stdlib.h>
#include <string.h>

/* Bounds on what mixed parts may hold (frames come from outside). */
#define MAX_MIXED_PARTS 4096u
#define MAX_MIXED_BYTES (32u * 1024u * 1024u)

typedef struct mixed {
	size_t *idx; /* sorted fragment indexes */
	size_t n;
	unsigned char *data;
	size_t bytes; /* accounted against MAX_MIXED_BYTES while stored in mix[] */
} mixed;

struct xfr_fountain_dec {
	int pinned, done;
	uint32_t seq_len, msg_len, checksum;
	size_t frag_len;
	unsigned char *frags; /* seq_len * frag_len */
	unsigned char *have;  /* seq_len flags */
	size_t n_have;
	mixed *mix;
	size_t n_mix, cap_mix, mix_bytes;
	mixed *queue;
	size_t n_queue, cap_queue;
};

static void mixed_free(mixed *m)
{
	free(m->idx);
	free(m->data);
	memset(m, 0, sizeof(*m));
}

offca_rc xfr_fountain_dec_new(xfr_fountain_dec **out)
{
	*out = calloc(1, sizeof(**out));
	if (*out == NULL)
		return ut_err(OFFCA_E_NOMEM, "fountain: out of memory");
	return OFFCA_OK;
}

void xfr_fountain_dec_free(xfr_fountain_dec *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n_mix; i++)
		mixed_free(&d->mix[i]);
	for (size_t i = 0; i < d->n_queue; i++)
		mixed_free(&d->queue[i]);
	free(d->mix);
	free(d->queue);
	free(d->frags);
	free(d->have);
	free(d);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static void xor_into(unsigned char *dst, const unsigned char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] ^= src[i];
}

/* a strictly inside b (both sorted) */
static int strict_subset(const mixed *a, const mixed *b)
{
	size_t j = 0;

	if (a->n >= b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		while (j < b->n && b->idx[j] < a->idx[i])
			j++;
		if (j == b->n || b->idx[j] != a->idx[i])
			return 0;
	}
	return 1;
}

static int same_set(const mixed *a, const mixed *b)
{
	return a->n == b->n && memcmp(a->idx, b->idx, a->n * sizeof(size_t)) == 0;
}

/* b -= a (a strict subset of b): XOR the data, drop a's indexes */
static void subtract(mixed *b, const mixed *a, size_t frag_len)
{
	size_t k = 0, j = 0;

	xor_into(b->data, a->data, frag_len);
	for (size_t i = 0; i < b->n; i++) {
		if (j < a->n && a->idx[j] == b->idx[i]) {
			j++;
			continue;
		}
		b->idx[k++] = b->idx[i];
	}
	b->n = k;
}

/* XOR every known fragment out of m */
static void reduce_by_known(const xfr_fountain_dec *d, mixed *m)
{
	size_t k = 0;

	for (size_t i = 0; i < m->n; i++) {
		if (d->have[m->idx[i]]) {
			xor_into(m->data, d->frags + m->idx[i] * d->frag_len, d->frag_len);
			continue;
		}
		m->idx[k++] = m->idx[i];
	}
	m->n = k;
}

static offca_rc push(mixed **arr, size_t *n, size_t *cap, mixed *m)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		mixed *na = realloc(*arr, nc * sizeof(*na));

		if (na == NULL)
			return ut_err(OFFCA_E_NOMEM, "fountain: out of memory");
		*arr = na;
		*cap = nc;
	}
	(*arr)[(*n)++] = *m;
	memset(m, 0, sizeof(*m));
	return OFFCA_OK;
}

/* A fragment became known: store it and peel it out of the mixed parts. */
static offca_rc learn(xfr_fountain_dec *d, size_t i, const unsigned char *data)
{
	offca_rc rc;

	memcpy(d->frags + i * d->frag_len, data, d->frag_len);
	d->have[i] = 1;
	d->n_have++;
	for (size_t k = 0; k < d->n_mix;) {
		mixed *x = &d->mix[k];

		reduce_by_known(d, x);
		if (x->n >= 2) {
			k++;
			continue;
		}
		d->mix_bytes -= x->bytes;
		if (x->n == 1) {
			rc = push(&d->queue, &d->n_queue, &d->cap_queue, x);
			if (rc != OFFCA_OK)
				return rc;
		} else {
			mixed_free(x);
		}
		d->mix[k] = d->mix[--d->n_mix];
	}
	return OFFCA_OK;
}

/* Process one reduced-or-not part; *news set when it told us something. Takes ownership of m. */
static offca_rc process(xfr_fountain_dec *d, mixed *m, int *news)
{
	offca_rc rc = OFFCA_OK;

	reduce_by_known(d, m);
	for (size_t k = 0; k < d->n_mix && m->n >= 2; k++) {
		if (same_set(&d->mix[k], m))
			goto out; /* nothing new */
		if (strict_subset(&d->mix[k], m))
			subtract(m, &d->mix[k], d->frag_len);
	}
	if (m->n == 0)
		goto out;
	if (m->n == 1) {
		*news = 1;
		rc = learn(d, m->idx[0], m->data);
		goto out;
	}
	m->bytes = m->n * sizeof(size_t) + d->frag_len;
	if (d->n_mix >= 4u * d->seq_len + 64u || d->n_mix >= MAX_MIXED_PARTS ||
	    d->mix_bytes + m->bytes > MAX_MIXED_BYTES)
		goto out; /* bounded: enough mixed parts kept already */
	{
		size_t *small = realloc(m->idx, m->n * sizeof(size_t));

		if (small != NULL)
			m->idx = small;
	}
	for (size_t k = 0; k < d->n_mix;) {
		mixed *x = &d->mix[k];

		if (!strict_subset(m, x)) {
			k++;
			continue;
		}
		subtract(x, m, d->frag_len);
		if (x->n >= 2) {
			k++;
			continue;
		}
		d->mix_bytes -= x->bytes;
		rc = push(&d->queue, &d->n_queue, &d->cap_queue, x);
		if (rc != OFFCA_OK)
			goto out;
		d->mix[k] = d->mix[--d->n_mix];
	}
	*news = 1;
	d->mix_bytes += m->bytes;
	rc = push(&d->mix, &d->n_mix, &d->cap_mix, m);
	if (rc != OFFCA_OK)
		d->mix_bytes -= m->bytes;
out:
	mixed_free(m);
	return rc;
}

static offca_rc pin(xfr_fountain_dec *d, const xfr_part *p)
{
	d->seq_len = p->seq_len;
	d->msg_len = p->msg_len;
	d->checksum = p->checksum;
	d->frag_len = p->data_len;
	d->frags = calloc(d->seq_len, d->frag_len);
	d->have = calloc(d->seq_len, 1);
	if (d->frags == NULL || d->have == NULL)
		return ut_err(OFFCA_E_NOMEM, "fountain: out of memory");
	d->pinned = 1;
	return OFFCA_OK;
}

static offca_rc finish(xfr_fountain_dec *d)
{
	size_t total = (size_t)d->seq_len * d->frag_len;

	for (size_t i = d->msg_len; i < total; i++)
		if (d->frags[i] != 0)
			return ut_err(OFFCA_E_VERIFY, "reassembled message has non-zero padding (damaged frames)");
	if (xfr_crc32(d->frags, d->msg_len) != d->checksum)
		return ut_err(OFFCA_E_VERIFY, "reassembled message fails its CRC32 check (damaged frames)");
	d->done = 1;
	return OFFCA_OK;
}

offca_rc xfr_fountain_dec_add(xfr_fountain_dec *d, const xfr_part *p, xfr_part_status *status)
{
	offca_rc rc;
	mixed m = {0};
	int news = 0;
	size_t before;

	*status = XFR_PART_FOREIGN;
	if (d->done) {
		*status = XFR_PART_LATE;
		return OFFCA_OK;
	}
	if (d->pinned && (p->seq_len != d->seq_len || p->msg_len != d->msg_len ||
			  p->checksum != d->checksum || p->data_len != d->frag_len))
		return OFFCA_OK;
	if (!d->pinned) {
		rc = pin(d, p);
		if (rc != OFFCA_OK)
			return rc;
	}
	m.idx = malloc(d->seq_len * sizeof(size_t));
	m.data = malloc(d->frag_len);
	if (m.idx == NULL || m.data == NULL) {
		mixed_free(&m);
		return ut_err(OFFCA_E_NOMEM, "fountain: out of memory");
	}
	rc = xfr_fountain_choose(p->seq_num, d->seq_len, d->checksum, m.idx, &m.n);
	if (rc != OFFCA_OK) {
		mixed_free(&m);
		return rc;
	}
	qsort(m.idx, m.n, sizeof(size_t), cmp_size);
	memcpy(m.data, p->data, d->frag_len);
	before = d->n_have;
	rc = process(d, &m, &news);
	while (rc == OFFCA_OK && d->n_queue > 0) {
		mixed q = d->queue[--d->n_queue];

		rc = process(d, &q, &news);
	}
	if (rc != OFFCA_OK)
		return rc;
	*status = news || d->n_have > before ? XFR_PART_NEW : XFR_PART_DUPLICATE;
	if (d->n_have == d->seq_len)
		return finish(d);
	return OFFCA_OK;
}

void xfr_fountain_dec_progress(const xfr_fountain_dec *d, size_t *have, size_t *total)
{
	*have = d->n_have;
	*total = d->pinned ? d->seq_len : 0;
}

int xfr_fountain_dec_done(const xfr_fountain_dec *d)
{
	return d->done;
}

offca_rc xfr_fountain_dec_result(const xfr_fountain_dec *d, const unsigned char **msg, size_t *len)
{
	*msg = NULL;
	*len = 0;
	if (!d->done)
		return ut_err(OFFCA_E_STATE, "the message is not complete yet");
	*msg = d->frags;
	*len = d->msg_len;
	return OFFCA_OK;
}
