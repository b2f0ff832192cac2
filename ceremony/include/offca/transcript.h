/*
 * offca/transcript.h - the hash-chained, signed ceremony transcript (prefix cer_transcript_).
 *
 * A transcript is a JSON Lines file: one canonical JSON object per line (jansson,
 * JSON_COMPACT | JSON_SORT_KEYS, no trailing spaces, '\n' after every line) with the fields
 *
 *     seq   integer, 1 for the first entry, +1 for every following entry
 *     time  RFC 3339 UTC, seconds precision ("2026-11-25T15:01:06Z")
 *     step  string: the ceremony step ("3"), "" for ceremony-level entries
 *     event string: "start", "confirm", "operators", "output", "signature", "end", ...
 *     data  JSON object (event specific)
 *     prev  lower-case hex SHA-256 of the previous entry ("0" x 64 for the first entry)
 *     hash  lower-case hex SHA-256 of the canonical serialization of this entry without "hash"
 *
 * The head of the chain is the hash of the last entry. Signatures sign the head as it is when
 * they are made; since a signature is itself an entry of the chain, a later signature covers
 * every earlier entry, earlier signatures included. Typical use:
 *
 *     cer_transcript_create() -> append()/add_output() per step -> cer_transcript_finish()
 *       -> cer_transcript_sign() with the ceremony key and each officer -> cer_transcript_free()
 *
 * so that the signatures cover the "end" entry. Signing before finish() is allowed too (a quorum
 * approval in the middle of a ceremony). Every entry is written and fsynced when it is appended:
 * an abort or a crash leaves a readable transcript that ends at the last completed entry.
 *
 * The format is documented in docs/transcript.md. All functions return offca_rc and record a
 * one-line detail with ut_err() (offca/err.h).
 */
#ifndef OFFCA_TRANSCRIPT_H
#define OFFCA_TRANSCRIPT_H

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "offca/err.h"

/* Named maxima. */
#define CER_TRANSCRIPT_MAX_LINE  (1024u * 1024u)        /* one entry, serialized */
#define CER_TRANSCRIPT_MAX_FILE  (64u * 1024u * 1024u)  /* a whole transcript file */
#define CER_TRANSCRIPT_MAX_NAME  256u                   /* step, event and signer names */

typedef struct cer_transcript cer_transcript;

/*
 * Create a new transcript file at path (mode 0644, O_EXCL: never overwrites) and append the first
 * entry: event "start", step "", data {"format":"offca-transcript/1","ceremony":ceremony_name,
 * "ceremony_file":ceremony_file,"ceremony_sha256":hex,"offca_version":OFFCA_VERSION}.
 * ceremony_file is read to hash it (it may be NULL for a ceremony without a file: then
 * "ceremony_file" and "ceremony_sha256" are absent).
 * On success *out is a new handle (free with cer_transcript_free()).
 * Errors: OFFCA_E_USAGE (NULL path/name), OFFCA_E_EXISTS (path exists), OFFCA_E_NOT_FOUND
 * (ceremony file missing), OFFCA_E_IO, OFFCA_E_DISK_FULL, OFFCA_E_PERM, OFFCA_E_NOMEM.
 */
offca_rc cer_transcript_create(const char *path, const char *ceremony_name, const char *ceremony_file,
			       cer_transcript **out);

/*
 * Append a hash-chained entry. step: the step ("3"), "" for ceremony-level entries. event: a
 * non-empty name ("confirm", "time-confirmed", "operators", "token-inserted", "key-generated",
 * "cert-signed", "lint", "abort", ...). data: a JSON object, borrowed (not stolen, not changed);
 * NULL means {}. For "operators" entries use {"administrator":"name","witnesses":["a","b"]}: the
 * PDF prints a blank signature line for each of them.
 * Refused (OFFCA_E_USAGE, nothing written): data that is not an object, a real (floating point)
 * number anywhere in data, and any key anywhere in data that names a secret: after lower-casing
 * and dropping '-', '_' and ' ', a key equal to or ending in "pin" (pin, so-pin, user_pin), or
 * containing "password", "passphrase" or "secret". Also refused: the reserved events "start",
 * "end", "signature" and "output" (they have their own functions), step or event longer than
 * CER_TRANSCRIPT_MAX_NAME, strings that are not UTF-8.
 * Errors: OFFCA_E_USAGE, OFFCA_E_STATE (already finished, or an earlier write failed),
 * OFFCA_E_TOO_BIG (entry over CER_TRANSCRIPT_MAX_LINE), OFFCA_E_IO, OFFCA_E_DISK_FULL (the file is
 * cut back to the last complete entry), OFFCA_E_NOMEM.
 */
offca_rc cer_transcript_append(cer_transcript *t, const char *step, const char *event, json_t *data);

/*
 * Append an "output" entry for a file produced by a step: data {"path":path as given,"size":n,
 * "sha256":hex}. The file is read (streamed) now; a relative path is later resolved against the
 * base_dir given to cer_transcript_verify(). Errors: as cer_transcript_append(), plus
 * OFFCA_E_NOT_FOUND / OFFCA_E_IO / OFFCA_E_PERM reading the file (not a regular file: OFFCA_E_IO).
 */
offca_rc cer_transcript_add_output(cer_transcript *t, const char *step, const char *path);

/*
 * Same as cer_transcript_add_output(), for a file at dir/path: the file read is dir/path (dir may
 * be NULL: the current directory), the path recorded is path as given. Lets a ceremony record
 * outputs relative to its output directory (where the transcript lives) without chdir().
 * Errors: as cer_transcript_add_output(), OFFCA_E_USAGE (dir/path too long).
 */
offca_rc cer_transcript_add_output_in(cer_transcript *t, const char *step, const char *dir, const char *path);

/*
 * Hash of the last entry (the chain head), 32 bytes into out.
 * Errors: OFFCA_E_USAGE (NULL argument).
 */
offca_rc cer_transcript_head(const cer_transcript *t, unsigned char out[32]);

/*
 * Sign the current chain head with priv (a software key or a token-backed EVP_PKEY, e.g.
 * tok_key_private()) and append a "signature" entry with data
 *     {"signer":signer, "algorithm":"ecdsa-sha256"|"ecdsa-sha384"|"rsa-pkcs1-sha256"|"ed25519",
 *      "spki":SPKI PEM of pub, "key_sha256":hex SHA-256 of the SPKI DER, "cert":PEM (only when
 *      cert is non-NULL), "signed_head":hex head, "signature":base64}
 * The signed message is the ASCII string "offca-transcript-head:" followed by the 64 hex digits
 * of the head (no newline); ECDSA and RSA use SHA-256 (SHA-384 for EC keys of 384 bits or more),
 * RSA uses PKCS#1 v1.5. The signature is verified with pub before the entry is written, so a priv
 * that does not match pub fails here. signer: the name/role ("ceremony-key", "officer:alice").
 * pub: required (the token's public key). cert: optional; its key must be pub. All borrowed.
 * Allowed before and after cer_transcript_finish().
 * Errors: OFFCA_E_USAGE (NULL/empty argument, cert key differs from pub, unsupported key type),
 * OFFCA_E_CRYPTO (signing failed), OFFCA_E_VERIFY (signature does not verify with pub),
 * the write errors of cer_transcript_append().
 */
offca_rc cer_transcript_sign(cer_transcript *t, const char *signer, EVP_PKEY *priv, EVP_PKEY *pub,
			     X509 *cert);

/*
 * Append the "end" entry: data {"status":status} plus {"reason":reason} when reason is non-NULL.
 * status: "completed" or "aborted" (anything else: OFFCA_E_USAGE). After this, only
 * cer_transcript_sign() and cer_transcript_head() may be used on t (others: OFFCA_E_STATE).
 * Errors: as cer_transcript_append().
 */
offca_rc cer_transcript_finish(cer_transcript *t, const char *status, const char *reason);

/* Close and free. Without a finish() the transcript simply ends at its last entry (verify reports
 * status "incomplete"). t may be NULL. */
void cer_transcript_free(cer_transcript *t);

/* What cer_transcript_verify() found. */
typedef struct cer_verify_result {
	unsigned entries;         /* lines verified */
	unsigned signatures;      /* valid signature entries */
	unsigned outputs_checked; /* output files re-hashed and matching (0 unless check_outputs) */
	char status[32];          /* "completed", "aborted" (from the end entry) or "incomplete" */
	unsigned char head[32];   /* hash of the last entry: compare with the paper copy's QR code */
	char ceremony[CER_TRANSCRIPT_MAX_NAME]; /* ceremony name from the start entry */
	unsigned resumptions;     /* "resume" entries: an aborted ceremony continued */
	int sealed;               /* 1: the last entry is a valid signature, so every entry is
				     covered by a signature (nothing unsigned at the end) */
} cer_verify_result;

/*
 * Verify the transcript at path:
 *  - every line is canonical JSON (the exact bytes jansson's canonical dump gives back) with the
 *    fields above and no others; seq starts at 1 and increases by 1; prev is the previous hash;
 *    hash is right; the first entry is "start"; nothing but signatures after an "end" entry;
 *  - every signature entry: signed_head is the previous hash, the signature verifies with spki,
 *    key_sha256 matches spki, the optional cert holds the same key;
 *  - trust_cert (optional, borrowed): at least one valid signature made with its public key;
 *  - check_outputs: each output entry's file (a relative path resolved against base_dir, NULL =
 *    the current directory) exists with the recorded size and SHA-256.
 * A file ending in a partial line (a crash during a write) fails. res (may be NULL) is cleared
 * and filled on success; on OFFCA_E_VERIFY it still holds the counts up to the bad line.
 * Verification without trust_cert proves that the file is internally consistent and signed by
 * the keys it names; trust_cert (or the paper copy's head) ties it to a key you trust. Entries cut
 * off at the end cannot be seen in the file alone: check res->sealed and the head.
 * Errors: OFFCA_E_VERIFY for anything wrong inside the file, with the detail
 * "transcript line N (seq N, step \"S\", event E): what is wrong" (a line that is not JSON or
 * not an entry, an edit, a bad link or signature, a changed output, a missing trusted signature),
 * OFFCA_E_USAGE (NULL path), OFFCA_E_NOT_FOUND (no transcript), OFFCA_E_TOO_BIG (over
 * CER_TRANSCRIPT_MAX_FILE), OFFCA_E_IO, OFFCA_E_PERM, OFFCA_E_NOMEM.
 */
offca_rc cer_transcript_verify(const char *path, const char *base_dir, int check_outputs, X509 *trust_cert,
			       cer_verify_result *res);

/*
 * Render the transcript at transcript_path as a printable A4 PDF at pdf_path (cairo): title,
 * ceremony name, start and end time, status, a table of steps (seq, time, step, event, summary),
 * outputs with their SHA-256 fingerprints, signatures (signer, key fingerprint), a blank
 * signature line for the administrator and each witness named in "operators" entries, the final
 * head hash as text and as a QR code, page numbers. The transcript is verified first (chain and
 * signatures, not the output files): a transcript that does not verify is not printed.
 * Never overwrites pdf_path.
 * Errors: those of cer_transcript_verify(), OFFCA_E_EXISTS (pdf_path exists), OFFCA_E_CRYPTO
 * (QR encoding), OFFCA_E_IO (cairo), OFFCA_E_DISK_FULL, OFFCA_E_NOMEM.
 */
/*
 * Continue an aborted ceremony's transcript at path: it must verify (chain and signatures) and
 * end "aborted"; ceremony_file's SHA-256 must equal the start entry's. Appends a "resume" entry
 * (the file's SHA-256, the step it resumes at, the previous head) and returns the handle, open for
 * appending like a new one. next_step: the first step (1-based) with no "step-done" entry.
 * cer_transcript_resume_point() only reads: the ceremony file the start entry names and next_step.
 * Errors: those of verification (OFFCA_E_VERIFY), OFFCA_E_STATE (not aborted: completed or cut
 * off), OFFCA_E_VERIFY (another ceremony file), OFFCA_E_IO.
 */
offca_rc cer_transcript_resume_point(const char *path, char *ceremony_file, size_t cap, unsigned *next_step);
offca_rc cer_transcript_resume(const char *path, const char *ceremony_file, unsigned next_step,
			       cer_transcript **out);

offca_rc cer_transcript_pdf(const char *transcript_path, const char *pdf_path);

#endif
