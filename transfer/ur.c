/* ur.c - UR strings: the CBOR byte-string message, the encoder and the parser of one frame. */
#include "offca/ur.h"
#include "offca/util.h"
#include "cbor_int.h"

#include <cbor.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct xfr_ur_encoder {
	char type[XFR_UR_MAX_TYPE + 1];
	unsigned char *msg; /* the CBOR message */
	size_t msg_len;
	xfr_fountain_enc *fountain; /* NULL for a single-part UR */
};

int xfr_ur_type_valid(const char *t)
{
	size_t n = t != NULL ? strlen(t) : 0;

	if (n == 0 || n > XFR_UR_MAX_TYPE)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9') || t[i] == '-'))
			return 0;
	return 1;
}

offca_rc xfr_ur_wrap(const unsigned char *payload, size_t len, unsigned char **out, size_t *outlen)
{
	unsigned char head[9], *b;
	size_t hl;

	*out = NULL;
	*outlen = 0;
	if (len > XFR_UR_MAX_MESSAGE - 9)
		return ut_err(OFFCA_E_TOO_BIG, "payload of %zu bytes exceeds the QR maximum of %u bytes", len,
			      XFR_UR_MAX_MESSAGE - 9);
	hl = cbor_encode_bytestring_start(len, head, sizeof(head));
	b = malloc(hl + len + 1);
	if (hl == 0 || b == NULL) {
		free(b);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	memcpy(b, head, hl);
	if (len > 0)
		memcpy(b + hl, payload, len);
	*out = b;
	*outlen = hl + len;
	return OFFCA_OK;
}

offca_rc xfr_ur_unwrap(const unsigned char *msg, size_t len, const unsigned char **payload, size_t *plen)
{
	struct cbor_load_result res;
	cbor_item_t *item;
	size_t n;

	*payload = NULL;
	*plen = 0;
	if (!xfr_cbor_shape(msg, len, "b", 0))
		return ut_err(OFFCA_E_PARSE, "UR message is not one definite CBOR byte string");
	item = cbor_load(msg, len, &res);
	if (item == NULL || res.error.code != CBOR_ERR_NONE || res.read != len || !cbor_isa_bytestring(item) ||
	    !cbor_bytestring_is_definite(item)) {
		if (item != NULL)
			cbor_decref(&item);
		return ut_err(OFFCA_E_PARSE, "UR message is not one definite CBOR byte string");
	}
	n = cbor_bytestring_length(item);
	cbor_decref(&item);
	/* a definite byte string is its head followed by its n bytes: the payload is the tail */
	*payload = msg + (len - n);
	*plen = n;
	return OFFCA_OK;
}

offca_rc xfr_ur_encoder_new(const char *type, const unsigned char *payload, size_t len,
			    size_t max_fragment, xfr_ur_encoder **out)
{
	offca_rc rc;
	xfr_ur_encoder *e = NULL;

	*out = NULL;
	if (!xfr_ur_type_valid(type))
		return ut_err(OFFCA_E_USAGE, "'%s' is not a valid UR type (a-z, 0-9, '-')", type ? type : "");
	if (max_fragment < XFR_UR_MIN_FRAGMENT || max_fragment > XFR_UR_MAX_FRAGMENT)
		return ut_err(OFFCA_E_USAGE, "fragment size %zu is outside %u..%u bytes", max_fragment,
			      XFR_UR_MIN_FRAGMENT, XFR_UR_MAX_FRAGMENT);
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	snprintf(e->type, sizeof(e->type), "%s", type);
	rc = xfr_ur_wrap(payload, len, &e->msg, &e->msg_len);
	if (rc != OFFCA_OK)
		goto out;
	if (e->msg_len > max_fragment) {
		rc = xfr_fountain_enc_new(e->msg, e->msg_len, XFR_UR_MIN_FRAGMENT, max_fragment, &e->fountain);
		if (rc != OFFCA_OK)
			goto out;
	}
	*out = e;
	e = NULL;
	rc = OFFCA_OK;
out:
	xfr_ur_encoder_free(e);
	return rc;
}

void xfr_ur_encoder_free(xfr_ur_encoder *e)
{
	if (e == NULL)
		return;
	xfr_fountain_enc_free(e->fountain);
	free(e->msg);
	free(e);
}

size_t xfr_ur_encoder_seq_len(const xfr_ur_encoder *e)
{
	return e->fountain != NULL ? xfr_fountain_enc_seq_len(e->fountain) : 1;
}

size_t xfr_ur_encoder_fragment_len(const xfr_ur_encoder *e)
{
	size_t n = xfr_ur_encoder_seq_len(e);

	return e->fountain != NULL ? (e->msg_len + n - 1) / n : e->msg_len;
}

/* "ur:" type "/" [seq "/"] bytewords */
static offca_rc assemble(const char *type, const char *seq, const char *body, char **out)
{
	size_t n = 3 + strlen(type) + 1 + (seq ? strlen(seq) + 1 : 0) + strlen(body) + 1;
	char *s = malloc(n);
	int w;

	*out = NULL;
	if (s == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	w = seq ? snprintf(s, n, "ur:%s/%s/%s", type, seq, body) : snprintf(s, n, "ur:%s/%s", type, body);
	if (w < 0 || (size_t)w >= n) {
		free(s);
		return ut_err(OFFCA_E_INTERNAL, "UR string truncated");
	}
	*out = s;
	return OFFCA_OK;
}

offca_rc xfr_ur_encoder_part(const xfr_ur_encoder *e, uint32_t seq_num, char **out)
{
	offca_rc rc;
	xfr_part p = {0};
	unsigned char *cb = NULL;
	size_t cbl;
	char *body = NULL, seq[32];

	*out = NULL;
	if (seq_num == 0)
		return ut_err(OFFCA_E_USAGE, "sequence numbers start at 1");
	if (e->fountain == NULL) {
		rc = xfr_bytewords_encode(XFR_BW_MINIMAL, e->msg, e->msg_len, &body);
		if (rc == OFFCA_OK)
			rc = assemble(e->type, NULL, body, out);
		goto out;
	}
	rc = xfr_fountain_enc_part(e->fountain, seq_num, &p);
	if (rc != OFFCA_OK)
		goto out;
	rc = xfr_part_to_cbor(&p, &cb, &cbl);
	if (rc != OFFCA_OK)
		goto out;
	rc = xfr_bytewords_encode(XFR_BW_MINIMAL, cb, cbl, &body);
	if (rc != OFFCA_OK)
		goto out;
	snprintf(seq, sizeof(seq), "%u-%u", p.seq_num, p.seq_len);
	rc = assemble(e->type, seq, body, out);
out:
	xfr_part_clear(&p);
	free(cb);
	free(body);
	return rc;
}

/* decimal 1..UINT32_MAX, no sign, no leading zero */
static int parse_u32(const char *s, size_t n, uint32_t *v)
{
	uint64_t x = 0;

	if (n == 0 || n > 10 || s[0] == '0')
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (x > UINT32_MAX)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Split "ur:TYPE/[SEQ/]BODY" (already trimmed) into its pieces. */
static offca_rc split_ur(const char *t, size_t len, xfr_ur_id *id, const char **body, size_t *blen,
			 uint32_t *seq_num, uint32_t *seq_len, int *multi)
{
	const char *s1, *s2 = NULL, *end = t + len;
	size_t tl;

	if (len < 4 || lower(t[0]) != 'u' || lower(t[1]) != 'r' || t[2] != ':')
		return ut_err(OFFCA_E_PARSE, "frame is not a UR (no 'ur:' scheme)");
	s1 = memchr(t + 3, '/', len - 3);
	if (s1 == NULL)
		return ut_err(OFFCA_E_PARSE, "UR has no '/' after its type");
	tl = (size_t)(s1 - (t + 3));
	if (tl == 0 || tl > XFR_UR_MAX_TYPE)
		return ut_err(OFFCA_E_PARSE, "UR type is empty or longer than %u characters", XFR_UR_MAX_TYPE);
	for (size_t i = 0; i < tl; i++)
		id->type[i] = (char)lower(t[3 + i]);
	id->type[tl] = '\0';
	if (!xfr_ur_type_valid(id->type))
		return ut_err(OFFCA_E_PARSE, "UR type '%s' has characters outside a-z, 0-9, '-'", id->type);
	s2 = memchr(s1 + 1, '/', (size_t)(end - s1 - 1));
	*seq_num = *seq_len = 1;
	*multi = s2 != NULL;
	if (s2 == NULL) {
		*body = s1 + 1;
		*blen = (size_t)(end - s1 - 1);
		return OFFCA_OK;
	}
	{
		const char *dash = memchr(s1 + 1, '-', (size_t)(s2 - s1 - 1));

		if (dash == NULL || parse_u32(s1 + 1, (size_t)(dash - s1 - 1), seq_num) != 0 ||
		    parse_u32(dash + 1, (size_t)(s2 - dash - 1), seq_len) != 0)
			return ut_err(OFFCA_E_PARSE, "UR sequence '%.*s' is not N-M", (int)(s2 - s1 - 1 > 20 ? 20 : s2 - s1 - 1),
				      s1 + 1);
	}
	if (memchr(s2 + 1, '/', (size_t)(end - s2 - 1)) != NULL)
		return ut_err(OFFCA_E_PARSE, "UR has too many path components");
	*body = s2 + 1;
	*blen = (size_t)(end - s2 - 1);
	return OFFCA_OK;
}

offca_rc xfr_ur_parse(const char *text, size_t len, xfr_ur_id *id, xfr_part *part)
{
	offca_rc rc;
	const char *body = NULL;
	size_t blen = 0, bl = 0;
	uint32_t seq_num = 0, seq_len = 0;
	unsigned char *b = NULL;
	xfr_part p = {0};
	int multi = 0;

	memset(id, 0, sizeof(*id));
	if (part != NULL)
		memset(part, 0, sizeof(*part));
	while (len > 0 && (text[0] == ' ' || text[0] == '\t' || text[0] == '\r' || text[0] == '\n')) {
		text++;
		len--;
	}
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r' ||
			   text[len - 1] == '\n' || text[len - 1] == '\0'))
		len--;
	if (len > XFR_UR_MAX_TEXT)
		return ut_err(OFFCA_E_TOO_BIG, "frame text of %zu characters exceeds the maximum of %u", len,
			      XFR_UR_MAX_TEXT);
	rc = split_ur(text, len, id, &body, &blen, &seq_num, &seq_len, &multi);
	if (rc != OFFCA_OK)
		goto out;
	rc = xfr_bytewords_decode(XFR_BW_MINIMAL, body, blen, &b, &bl);
	if (rc != OFFCA_OK)
		goto out;
	if (!multi) {
		p.seq_num = p.seq_len = 1;
		p.msg_len = (uint32_t)bl;
		p.checksum = xfr_crc32(b, bl);
		p.data = b;
		p.data_len = bl;
		b = NULL;
	} else {
		rc = xfr_part_from_cbor(b, bl, &p);
		if (rc != OFFCA_OK)
			goto out;
		if (p.seq_num != seq_num || p.seq_len != seq_len) {
			rc = ut_err(OFFCA_E_PARSE, "UR sequence %u-%u disagrees with its part (%u-%u)", seq_num,
				    seq_len, p.seq_num, p.seq_len);
			goto out;
		}
	}
	id->seq_num = p.seq_num;
	id->seq_len = p.seq_len;
	id->msg_len = p.msg_len;
	id->checksum = p.checksum;
	if (part != NULL) {
		*part = p;
		p.data = NULL;
	}
	rc = OFFCA_OK;
out:
	free(b);
	xfr_part_clear(&p);
	if (rc != OFFCA_OK)
		memset(id, 0, sizeof(*id));
	return rc;
}
