/*
 * fountain.c - the UR fountain code, encoder side, and the CBOR form of a part.
 * The fragment choice (alias sampler, degree, shuffle) follows the reference ports step for step,
 * since a decoder must pick the very same fragments from (seqNum, checksum) alone.
 */
#include "offca/ur.h"
#include "offca/util.h"
#include "cbor_int.h"

#include <cbor.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct xfr_fountain_enc {
	unsigned char *frags; /* seq_len * frag_len bytes, the message zero padded */
	size_t msg_len;
	size_t frag_len;
	size_t seq_len;
	uint32_t checksum;
};

offca_rc xfr_fountain_fragment_len(size_t msg_len, size_t min_len, size_t max_len, size_t *out)
{
	size_t max_count, len = 0;

	*out = 0;
	if (msg_len == 0 || min_len == 0 || max_len < min_len)
		return ut_err(OFFCA_E_USAGE, "fountain: bad fragment length bounds (%zu, %zu..%zu)", msg_len,
			      min_len, max_len);
	max_count = (msg_len + min_len - 1) / min_len;
	for (size_t count = 1; count <= max_count; count++) {
		len = (msg_len + count - 1) / count;
		if (len <= max_len)
			break;
	}
	*out = len;
	return OFFCA_OK;
}

/*
 * Walker-Vose alias tables for weights w[0..n) (Schwarz's formulation with the index lists
 * reversed, as the reference does).
 */
static offca_rc alias_build(const double *w, size_t n, double *probs, size_t *aliases)
{
	offca_rc rc = OFFCA_E_NOMEM;
	double sum = 0, *p = NULL;
	size_t *small = NULL, *large = NULL, ns = 0, nl = 0;

	p = malloc(n * sizeof(*p));
	small = malloc(n * sizeof(*small));
	large = malloc(n * sizeof(*large));
	if (p == NULL || small == NULL || large == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "fountain: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		sum += w[i];
	for (size_t i = 0; i < n; i++) {
		p[i] = w[i] * (double)n / sum;
		probs[i] = 0;
		aliases[i] = 0;
	}
	for (size_t i = n; i-- > 0;) {
		if (p[i] < 1)
			small[ns++] = i;
		else
			large[nl++] = i;
	}
	while (ns > 0 && nl > 0) {
		size_t a = small[--ns], g = large[--nl];

		probs[a] = p[a];
		aliases[a] = g;
		p[g] += p[a] - 1;
		if (p[g] < 1)
			small[ns++] = g;
		else
			large[nl++] = g;
	}
	while (nl > 0)
		probs[large[--nl]] = 1;
	while (ns > 0)
		probs[small[--ns]] = 1;
	rc = OFFCA_OK;
out:
	free(p);
	free(small);
	free(large);
	return rc;
}

offca_rc xfr_fountain_degree(size_t seq_len, xfr_xoshiro *rng, size_t *degree)
{
	offca_rc rc = OFFCA_E_NOMEM;
	double *w = NULL, *probs = NULL, r1, r2;
	size_t *aliases = NULL, i;

	*degree = 0;
	if (seq_len == 0 || seq_len > XFR_UR_MAX_SEQ_LEN)
		return ut_err(OFFCA_E_USAGE, "fountain: sequence length %zu out of range", seq_len);
	w = malloc(seq_len * sizeof(*w));
	probs = malloc(seq_len * sizeof(*probs));
	aliases = malloc(seq_len * sizeof(*aliases));
	if (w == NULL || probs == NULL || aliases == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "fountain: out of memory");
		goto out;
	}
	for (i = 0; i < seq_len; i++)
		w[i] = 1.0 / (double)(i + 1);
	rc = alias_build(w, seq_len, probs, aliases);
	if (rc != OFFCA_OK)
		goto out;
	r1 = xfr_xoshiro_next_double(rng);
	r2 = xfr_xoshiro_next_double(rng);
	i = (size_t)((double)seq_len * r1);
	*degree = (r2 < probs[i] ? i : aliases[i]) + 1;
	rc = OFFCA_OK;
out:
	free(w);
	free(probs);
	free(aliases);
	return rc;
}

/*
 * The reference shuffle, stopped after the first k picks: take remaining[next_int(0, left-1)] out
 * and append it to the result (built in place). Later picks never change the first k, so a
 * fragment choice needs only `degree` picks instead of seqLen.
 */
static void shuffle_prefix(size_t *items, size_t n, size_t k, xfr_xoshiro *rng)
{
	for (size_t done = 0; done < k && done < n; done++) {
		size_t left = n - done;
		size_t pick = (size_t)xfr_xoshiro_next_int(rng, 0, left - 1);
		size_t item = items[done + pick];

		memmove(items + done + 1, items + done, pick * sizeof(*items));
		items[done] = item;
	}
}

void xfr_fountain_shuffle(size_t *items, size_t n, xfr_xoshiro *rng)
{
	shuffle_prefix(items, n, n, rng);
}

offca_rc xfr_fountain_choose(uint32_t seq_num, size_t seq_len, uint32_t crc, size_t *idx, size_t *n)
{
	unsigned char seed[8];
	xfr_xoshiro rng;
	size_t degree;
	offca_rc rc;

	*n = 0;
	if (seq_num == 0 || seq_len == 0 || seq_len > XFR_UR_MAX_SEQ_LEN)
		return ut_err(OFFCA_E_USAGE, "fountain: bad part %u of %zu", seq_num, seq_len);
	if (seq_num <= seq_len) {
		idx[0] = seq_num - 1;
		*n = 1;
		return OFFCA_OK;
	}
	for (int i = 0; i < 4; i++) {
		seed[i] = (unsigned char)(seq_num >> (24 - 8 * i));
		seed[4 + i] = (unsigned char)(crc >> (24 - 8 * i));
	}
	xfr_xoshiro_seed(&rng, seed, sizeof(seed));
	rc = xfr_fountain_degree(seq_len, &rng, &degree);
	if (rc != OFFCA_OK)
		return rc;
	for (size_t i = 0; i < seq_len; i++)
		idx[i] = i;
	shuffle_prefix(idx, seq_len, degree, &rng);
	*n = degree;
	return OFFCA_OK;
}

void xfr_part_clear(xfr_part *p)
{
	if (p == NULL)
		return;
	free(p->data);
	memset(p, 0, sizeof(*p));
}

offca_rc xfr_part_to_cbor(const xfr_part *p, unsigned char **out, size_t *outlen)
{
	size_t cap = 64 + p->data_len, pos = 0, w;
	unsigned char *b;
	uint64_t v[4] = {p->seq_num, p->seq_len, p->msg_len, p->checksum};

	*out = NULL;
	*outlen = 0;
	if (p->data_len == 0 || p->data == NULL)
		return ut_err(OFFCA_E_USAGE, "fountain: empty part");
	b = malloc(cap);
	if (b == NULL)
		return ut_err(OFFCA_E_NOMEM, "fountain: out of memory");
	pos += cbor_encode_array_start(5, b + pos, cap - pos);
	for (int i = 0; i < 4; i++)
		pos += cbor_encode_uint(v[i], b + pos, cap - pos);
	w = cbor_encode_bytestring_start(p->data_len, b + pos, cap - pos);
	if (w == 0 || pos + w + p->data_len > cap) {
		free(b);
		return ut_err(OFFCA_E_INTERNAL, "fountain: CBOR encoding overflow");
	}
	pos += w;
	memcpy(b + pos, p->data, p->data_len);
	*out = b;
	*outlen = pos + p->data_len;
	return OFFCA_OK;
}

static offca_rc get_u32(cbor_item_t *it, const char *what, uint32_t *v)
{
	uint64_t x;

	if (!cbor_isa_uint(it))
		return ut_err(OFFCA_E_PARSE, "frame: %s is not an unsigned integer", what);
	x = cbor_get_int(it);
	if (x > UINT32_MAX)
		return ut_err(OFFCA_E_PARSE, "frame: %s out of range", what);
	*v = (uint32_t)x;
	return OFFCA_OK;
}

static offca_rc part_check(const xfr_part *p)
{
	uint64_t cap = (uint64_t)p->data_len * p->seq_len;

	if (p->seq_num == 0 || p->seq_len == 0 || p->msg_len == 0)
		return ut_err(OFFCA_E_PARSE, "frame: zero sequence number, count or length");
	if (p->seq_len > XFR_UR_MAX_SEQ_LEN || p->msg_len > XFR_UR_MAX_MESSAGE)
		return ut_err(OFFCA_E_TOO_BIG, "frame: message of %u bytes in %u parts exceeds the maximum",
			      p->msg_len, p->seq_len);
	if (cap < p->msg_len || cap - p->data_len >= p->msg_len)
		return ut_err(OFFCA_E_PARSE, "frame: %u fragments of %zu bytes cannot hold %u bytes",
			      p->seq_len, p->data_len, p->msg_len);
	return OFFCA_OK;
}

offca_rc xfr_part_from_cbor(const unsigned char *p, size_t len, xfr_part *out)
{
	offca_rc rc = OFFCA_E_PARSE;
	struct cbor_load_result res;
	cbor_item_t *item = NULL, **a;
	xfr_part part = {0};

	memset(out, 0, sizeof(*out));
	if (!xfr_cbor_shape(p, len, "auuuub", 5)) {
		rc = ut_err(OFFCA_E_PARSE, "frame: not a CBOR array of 4 unsigned integers and a byte string");
		goto out;
	}
	item = cbor_load(p, len, &res);
	if (item == NULL || res.error.code != CBOR_ERR_NONE || res.read != len) {
		rc = ut_err(OFFCA_E_PARSE, "frame: not a single CBOR item");
		goto out;
	}
	if (!cbor_isa_array(item) || !cbor_array_is_definite(item) || cbor_array_size(item) != 5) {
		rc = ut_err(OFFCA_E_PARSE, "frame: not a 5-element CBOR array");
		goto out;
	}
	a = cbor_array_handle(item);
	rc = get_u32(a[0], "seqNum", &part.seq_num);
	if (rc == OFFCA_OK)
		rc = get_u32(a[1], "seqLen", &part.seq_len);
	if (rc == OFFCA_OK)
		rc = get_u32(a[2], "messageLen", &part.msg_len);
	if (rc == OFFCA_OK)
		rc = get_u32(a[3], "checksum", &part.checksum);
	if (rc != OFFCA_OK)
		goto out;
	if (!cbor_isa_bytestring(a[4]) || !cbor_bytestring_is_definite(a[4]) ||
	    cbor_bytestring_length(a[4]) == 0 || cbor_bytestring_length(a[4]) > XFR_UR_MAX_FRAGMENT) {
		rc = ut_err(OFFCA_E_PARSE, "frame: fragment is not a byte string of 1..%u bytes",
			    XFR_UR_MAX_FRAGMENT);
		goto out;
	}
	part.data_len = cbor_bytestring_length(a[4]);
	rc = part_check(&part);
	if (rc != OFFCA_OK)
		goto out;
	part.data = malloc(part.data_len);
	if (part.data == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "frame: out of memory");
		goto out;
	}
	memcpy(part.data, cbor_bytestring_handle(a[4]), part.data_len);
	*out = part;
	part.data = NULL;
	rc = OFFCA_OK;
out:
	if (item != NULL)
		cbor_decref(&item);
	xfr_part_clear(&part);
	return rc;
}

offca_rc xfr_fountain_enc_new(const unsigned char *msg, size_t len, size_t min_fragment,
			      size_t max_fragment, xfr_fountain_enc **out)
{
	offca_rc rc;
	xfr_fountain_enc *e = NULL;

	*out = NULL;
	if (len > XFR_UR_MAX_MESSAGE)
		return ut_err(OFFCA_E_TOO_BIG, "fountain: message of %zu bytes exceeds the maximum of %u", len,
			      XFR_UR_MAX_MESSAGE);
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return ut_err(OFFCA_E_NOMEM, "fountain: out of memory");
	rc = xfr_fountain_fragment_len(len, min_fragment, max_fragment, &e->frag_len);
	if (rc != OFFCA_OK)
		goto out;
	e->seq_len = (len + e->frag_len - 1) / e->frag_len;
	if (e->seq_len > XFR_UR_MAX_SEQ_LEN) {
		rc = ut_err(OFFCA_E_TOO_BIG, "fountain: %zu fragments exceed the maximum of %u", e->seq_len,
			    XFR_UR_MAX_SEQ_LEN);
		goto out;
	}
	e->frags = calloc(e->seq_len, e->frag_len);
	if (e->frags == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "fountain: out of memory");
		goto out;
	}
	memcpy(e->frags, msg, len);
	e->msg_len = len;
	e->checksum = xfr_crc32(msg, len);
	*out = e;
	e = NULL;
	rc = OFFCA_OK;
out:
	xfr_fountain_enc_free(e);
	return rc;
}

void xfr_fountain_enc_free(xfr_fountain_enc *e)
{
	if (e == NULL)
		return;
	free(e->frags);
	free(e);
}

size_t xfr_fountain_enc_seq_len(const xfr_fountain_enc *e)
{
	return e->seq_len;
}

offca_rc xfr_fountain_enc_part(const xfr_fountain_enc *e, uint32_t seq_num, xfr_part *out)
{
	offca_rc rc;
	size_t *idx = NULL, n;
	xfr_part p = {0};

	memset(out, 0, sizeof(*out));
	idx = malloc(e->seq_len * sizeof(*idx));
	p.data = calloc(1, e->frag_len);
	if (idx == NULL || p.data == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "fountain: out of memory");
		goto out;
	}
	rc = xfr_fountain_choose(seq_num, e->seq_len, e->checksum, idx, &n);
	if (rc != OFFCA_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const unsigned char *f = e->frags + idx[i] * e->frag_len;

		for (size_t j = 0; j < e->frag_len; j++)
			p.data[j] ^= f[j];
	}
	p.seq_num = seq_num;
	p.seq_len = (uint32_t)e->seq_len;
	p.msg_len = (uint32_t)e->msg_len;
	p.checksum = e->checksum;
	p.data_len = e->frag_len;
	*out = p;
	p.data = NULL;
	rc = OFFCA_OK;
out:
	free(idx);
	xfr_part_clear(&p);
	return rc;
}
