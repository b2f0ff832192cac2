/*
 * offca/ur.h - Uniform Resources (Blockchain Commons BCR-2020-005), prefix xfr_.
 *
 * A UR carries a CBOR message as text: "ur:TYPE/BODY" in one part, or "ur:TYPE/SEQ-LEN/FRAGMENT"
 * in many. BODY/FRAGMENT are minimal Bytewords (two letters per byte, CRC32 appended). A multi-part
 * message is cut into seqLen fragments of equal length (zero padded); part n <= seqLen carries
 * fragment n-1, parts after that carry the XOR of fragments chosen by the reference fountain
 * code (Xoshiro256** seeded with SHA-256(seqNum || crc32), degree from a 1/i alias sampler, then a
 * shuffle), so any large enough set of parts rebuilds the message. Each part is the CBOR array
 * [seqNum, seqLen, messageLen, crc32(message), fragment]. Compatible bit for bit with the
 * reference ports (bc-ur C++, URKit, @ngraveio/bc-ur); see docs/formats.md.
 *
 * The building blocks (CRC32, Bytewords, Xoshiro, fountain code) are public for the unit tests
 * against the reference vectors; applications use the xfr_ur_encoder / xfr_ur_decoder handles.
 * Every length read from a frame is checked against the XFR_UR_MAX_* maxima below.
 */
#ifndef OFFCA_UR_H
#define OFFCA_UR_H

#include <stddef.h>
#include <stdint.h>

#include "offca/err.h"

/* ---- named maxima for everything read from a frame ---- */
#define XFR_UR_MAX_TYPE     63u                 /* UR type name length */
#define XFR_UR_MAX_TEXT     (8u * 1024u)        /* one UR string (a QR code holds < 4,300) */
#define XFR_UR_MAX_MESSAGE  (4u * 1024u * 1024u) /* reassembled CBOR message */
#define XFR_UR_MAX_SEQ_LEN  20000u              /* fragments per message */
#define XFR_UR_MIN_FRAGMENT 10u                 /* smallest fragment the encoder makes */
#define XFR_UR_MAX_FRAGMENT 2000u               /* largest fragment we make or accept */

/* ---- CRC32 (crc32.c): the ISO-HDLC / zlib CRC32 the UR spec uses. Cannot fail. ---- */
uint32_t xfr_crc32(const unsigned char *p, size_t len);

/* ---- Bytewords (bytewords.c) ---- */
typedef enum xfr_bw_style {
	XFR_BW_STANDARD = 0, /* "able acid also" */
	XFR_BW_URI,          /* "able-acid-also" */
	XFR_BW_MINIMAL       /* "aeadao" (first and last letter), used in URs */
} xfr_bw_style;

/*
 * Encode len bytes (plus their big-endian CRC32, appended as the spec says) as Bytewords.
 * *out is a new lower-case NUL-terminated string (caller frees). Errors: OFFCA_E_NOMEM,
 * OFFCA_E_TOO_BIG (len > XFR_UR_MAX_MESSAGE).
 */
offca_rc xfr_bytewords_encode(xfr_bw_style style, const unsigned char *p, size_t len, char **out);

/*
 * Decode Bytewords text of slen characters (either case). The trailing 4-byte CRC32 is checked and
 * removed. *out (caller frees) and *outlen are set on success. Errors: OFFCA_E_PARSE (bad word,
 * odd length, too short, CRC mismatch), OFFCA_E_TOO_BIG, OFFCA_E_NOMEM.
 */
offca_rc xfr_bytewords_decode(xfr_bw_style style, const char *s, size_t slen, unsigned char **out,
			      size_t *outlen);

/* ---- Xoshiro256** (xoshiro.c), a plain value type: no allocation, cannot fail ---- */
typedef struct xfr_xoshiro {
	uint64_t s[4];
} xfr_xoshiro;

/* Seed with SHA-256(seed): the digest read as four big-endian 64-bit words. */
void xfr_xoshiro_seed(xfr_xoshiro *x, const unsigned char *seed, size_t len);
uint64_t xfr_xoshiro_next(xfr_xoshiro *x);
/* next() / 2^64, in [0, 1). */
double xfr_xoshiro_next_double(xfr_xoshiro *x);
/* low + floor(next_double() * (high - low + 1)). */
uint64_t xfr_xoshiro_next_int(xfr_xoshiro *x, uint64_t low, uint64_t high);

/* ---- fountain code (fountain.c, fountain_dec.c) ---- */

/*
 * Fragment length for a message of msg_len bytes: ceil(msg_len / c) for the smallest count c
 * whose fragments are at most max_len (never below min_len unless the message is). Errors:
 * OFFCA_E_USAGE (zero length, max_len < min_len).
 */
offca_rc xfr_fountain_fragment_len(size_t msg_len, size_t min_len, size_t max_len, size_t *out);

/*
 * Degree of a mixed part: a sample of the alias sampler over weights 1/1 .. 1/seq_len, plus one.
 * Consumes two doubles from rng. Errors: OFFCA_E_USAGE (seq_len 0 or too large), OFFCA_E_NOMEM.
 */
offca_rc xfr_fountain_degree(size_t seq_len, xfr_xoshiro *rng, size_t *degree);

/* The reference shuffle of items[0..n) in place (remove at next_int(0, remaining-1)). */
void xfr_fountain_shuffle(size_t *items, size_t n, xfr_xoshiro *rng);

/*
 * The fragment indexes (0-based, in the order the reference picks them) XORed into part
 * seq_num of a message of seq_len fragments with checksum crc. idx must hold seq_len entries;
 * *n receives the count. Errors: OFFCA_E_USAGE (seq_num 0, seq_len 0 or too large),
 * OFFCA_E_NOMEM.
 */
offca_rc xfr_fountain_choose(uint32_t seq_num, size_t seq_len, uint32_t crc, size_t *idx, size_t *n);

/* One part of a multi-part message (a value type; data is owned, release with xfr_part_clear). */
typedef struct xfr_part {
	uint32_t seq_num;   /* from 1 */
	uint32_t seq_len;   /* number of pure fragments */
	uint32_t msg_len;   /* message length in bytes */
	uint32_t checksum;  /* crc32 of the whole message */
	unsigned char *data;
	size_t data_len;    /* the fragment length */
} xfr_part;

/* Wipe and free p->data, zero *p. p may be NULL. */
void xfr_part_clear(xfr_part *p);

/*
 * CBOR [seqNum, seqLen, messageLen, checksum, fragment] with shortest-form heads (libcbor).
 * *out (caller frees). Errors: OFFCA_E_NOMEM, OFFCA_E_USAGE.
 */
offca_rc xfr_part_to_cbor(const xfr_part *p, unsigned char **out, size_t *outlen);

/*
 * Parse a part (libcbor). Checks types, ranges and consistency (seqLen fragments of data_len
 * bytes hold exactly msg_len bytes with less than one fragment of padding). *out is cleared on
 * entry and set on success. Errors: OFFCA_E_PARSE, OFFCA_E_TOO_BIG, OFFCA_E_NOMEM.
 */
offca_rc xfr_part_from_cbor(const unsigned char *p, size_t len, xfr_part *out);

typedef struct xfr_fountain_enc xfr_fountain_enc;

/*
 * Fountain encoder over a copy of msg (1..XFR_UR_MAX_MESSAGE bytes), fragments of at most
 * max_fragment bytes (and at least min_fragment, see xfr_fountain_fragment_len). Errors:
 * OFFCA_E_USAGE, OFFCA_E_TOO_BIG, OFFCA_E_NOMEM.
 */
offca_rc xfr_fountain_enc_new(const unsigned char *msg, size_t len, size_t min_fragment,
			      size_t max_fragment, xfr_fountain_enc **out);
void xfr_fountain_enc_free(xfr_fountain_enc *e);
/* Number of pure fragments (seqLen). */
size_t xfr_fountain_enc_seq_len(const xfr_fountain_enc *e);
/* Part seq_num (>= 1; parts are a pure function of seq_num). *out cleared, set on success. */
offca_rc xfr_fountain_enc_part(const xfr_fountain_enc *e, uint32_t seq_num, xfr_part *out);

typedef struct xfr_fountain_dec xfr_fountain_dec;

/* What happened to a part given to a decoder. */
typedef enum xfr_part_status {
	XFR_PART_NEW = 0,   /* accepted: it told the decoder something new */
	XFR_PART_DUPLICATE, /* accepted but already known (repeat, or a mix of known fragments) */
	XFR_PART_FOREIGN,   /* rejected: belongs to another message (length, checksum, type) */
	XFR_PART_LATE       /* ignored: the message is already complete */
} xfr_part_status;

offca_rc xfr_fountain_dec_new(xfr_fountain_dec **out);
void xfr_fountain_dec_free(xfr_fountain_dec *d);
/*
 * Give the decoder a part. The first part pins the message (seqLen, messageLen, checksum,
 * fragment length); parts of other messages are reported XFR_PART_FOREIGN and never merged.
 * When all fragments are known the message is joined and its CRC32 checked. Errors:
 * OFFCA_E_VERIFY (the joined message fails its checksum), OFFCA_E_NOMEM, OFFCA_E_PARSE.
 */
offca_rc xfr_fountain_dec_add(xfr_fountain_dec *d, const xfr_part *p, xfr_part_status *status);
/* Progress: pure fragments recovered so far, and how many there are (0 before the first part). */
void xfr_fountain_dec_progress(const xfr_fountain_dec *d, size_t *have, size_t *total);
/* Non-zero once the message is joined and verified. */
int xfr_fountain_dec_done(const xfr_fountain_dec *d);
/* The message (owned by d) once done. Errors: OFFCA_E_STATE when not done. */
offca_rc xfr_fountain_dec_result(const xfr_fountain_dec *d, const unsigned char **msg, size_t *len);

/* ---- UR strings (ur.c, ur_dec.c) ---- */

/* Non-zero when t is a valid UR type: 1..XFR_UR_MAX_TYPE of a-z 0-9 '-'. */
int xfr_ur_type_valid(const char *t);

/*
 * Wrap payload bytes as the UR message: a CBOR byte string with the shortest head. *out (caller
 * frees). Errors: OFFCA_E_TOO_BIG, OFFCA_E_NOMEM.
 */
offca_rc xfr_ur_wrap(const unsigned char *payload, size_t len, unsigned char **out, size_t *outlen);
/*
 * The payload inside a UR message: the message must be exactly one definite CBOR byte string.
 * *payload points into msg. Errors: OFFCA_E_PARSE.
 */
offca_rc xfr_ur_unwrap(const unsigned char *msg, size_t len, const unsigned char **payload,
		       size_t *plen);

typedef struct xfr_ur_encoder xfr_ur_encoder;

/*
 * Encoder for payload (wrapped with xfr_ur_wrap) under UR type `type`, fragments of at most
 * max_fragment bytes (XFR_UR_MIN_FRAGMENT..XFR_UR_MAX_FRAGMENT). When the whole message fits in
 * one fragment the UR is single-part. Errors: OFFCA_E_USAGE (bad type or size), OFFCA_E_TOO_BIG,
 * OFFCA_E_NOMEM.
 */
offca_rc xfr_ur_encoder_new(const char *type, const unsigned char *payload, size_t len,
			    size_t max_fragment, xfr_ur_encoder **out);
void xfr_ur_encoder_free(xfr_ur_encoder *e);
/* seqLen (1 for a single-part UR). */
size_t xfr_ur_encoder_seq_len(const xfr_ur_encoder *e);
/* Fragment length in bytes (the message length for a single-part UR). */
size_t xfr_ur_encoder_fragment_len(const xfr_ur_encoder *e);
/*
 * UR string of part seq_num (>= 1), lower case, e.g. "ur:offca-csr/3-9/lpax...". A single-part
 * encoder returns "ur:TYPE/BODY" for every seq_num. *out (caller frees). Errors: OFFCA_E_USAGE,
 * OFFCA_E_NOMEM.
 */
offca_rc xfr_ur_encoder_part(const xfr_ur_encoder *e, uint32_t seq_num, char **out);

/* The identity of a frame's message, to tell messages apart before decoding them. */
typedef struct xfr_ur_id {
	char type[XFR_UR_MAX_TYPE + 1];
	uint32_t seq_len;   /* 1 for a single-part UR */
	uint32_t msg_len;
	uint32_t checksum;  /* crc32 of the message */
	uint32_t seq_num;   /* this frame's sequence number (1 for a single-part UR) */
} xfr_ur_id;

/*
 * Parse one UR string (either case, surrounding whitespace ignored): scheme, type, sequence,
 * Bytewords and CBOR. On success *id describes it and, when part is non-NULL, *part receives the
 * part (a single-part UR becomes part 1 of 1 whose fragment is the whole message). Errors:
 * OFFCA_E_PARSE (one-line reason), OFFCA_E_TOO_BIG, OFFCA_E_NOMEM.
 */
offca_rc xfr_ur_parse(const char *text, size_t len, xfr_ur_id *id, xfr_part *part);

typedef struct xfr_ur_decoder xfr_ur_decoder;

/*
 * Multi-part decoder. expect_type (copied; NULL = any valid type) restricts the UR type. The first
 * accepted frame pins the message; frames of other messages are XFR_PART_FOREIGN.
 * Errors: OFFCA_E_USAGE (bad type), OFFCA_E_NOMEM.
 */
offca_rc xfr_ur_decoder_new(const char *expect_type, xfr_ur_decoder **out);
void xfr_ur_decoder_free(xfr_ur_decoder *d);
/*
 * Give the decoder one UR string. *status says whether it was new, a duplicate, foreign or late.
 * Errors: those of xfr_ur_parse (the frame is not a UR), OFFCA_E_VERIFY (message checksum),
 * OFFCA_E_NOMEM. A parse error leaves the decoder usable.
 */
offca_rc xfr_ur_decoder_add(xfr_ur_decoder *d, const char *text, size_t len, xfr_part_status *status);
/* Pure fragments recovered and their count (0/0 before the first frame). */
void xfr_ur_decoder_progress(const xfr_ur_decoder *d, size_t *have, size_t *total);
int xfr_ur_decoder_done(const xfr_ur_decoder *d);
/* The pinned message's identity (OFFCA_E_STATE before the first frame). */
offca_rc xfr_ur_decoder_id(const xfr_ur_decoder *d, xfr_ur_id *id);
/*
 * Once done: the UR type (owned by d) and the payload, unwrapped from its CBOR byte string
 * (owned by d). Errors: OFFCA_E_STATE (not done), OFFCA_E_PARSE (not a CBOR byte string).
 */
offca_rc xfr_ur_decoder_result(const xfr_ur_decoder *d, const char **type, const unsigned char **payload,
			       size_t *len);

/*
 * Several messages at once, for a camera that may see frames of an older transfer first: one
 * decoder per message (at most XFR_UR_MAX_PARALLEL), the first message to complete wins.
 */
#define XFR_UR_MAX_PARALLEL 4u

typedef struct xfr_ur_multi xfr_ur_multi;

/* expect_type as for xfr_ur_decoder_new(). Errors: OFFCA_E_USAGE, OFFCA_E_NOMEM. */
offca_rc xfr_ur_multi_new(const char *expect_type, xfr_ur_multi **out);
void xfr_ur_multi_free(xfr_ur_multi *m);
/*
 * Give one UR string to the decoder of its message (a new one for a new message while there is
 * room; XFR_PART_FOREIGN when the type is not the expected one or there is no room). *which
 * (may be NULL) receives the decoder the frame went to, for progress, or NULL. Errors: those
 * of xfr_ur_decoder_add().
 */
offca_rc xfr_ur_multi_add(xfr_ur_multi *m, const char *text, size_t len, xfr_part_status *status,
			  const xfr_ur_decoder **which);
/* The decoder of the first completed message (owned by m), or NULL while none is complete. */
const xfr_ur_decoder *xfr_ur_multi_done(const xfr_ur_multi *m);

#endif
