/* publish_int.h - internals of offca publish (publish*.c). */
#ifndef OFFCA_PUBLISH_INT_H
#define OFFCA_PUBLISH_INT_H

#include <jansson.h>

#include "offca/publish.h"

typedef struct pub_seq {
	char dir[4200], path[4300];
	json_t *map;
	int dirty;
} pub_seq;

/* HOME/relay/sequence.json (an empty map when missing). Errors: OFFCA_E_PARSE, OFFCA_E_IO. */
offca_rc pub_seq_load(const char *home, pub_seq *out);
/* The number for endpoint's object holding certificate cert_hex: the recorded one when the
   certificate is the same (*same = 1), else one more (recorded in memory). */
offca_rc pub_seq_next(pub_seq *s, const char *endpoint_hex, const char *cert_hex, uint64_t *seq, int *same);
/* Replace the file atomically when anything changed. */
offca_rc pub_seq_save(pub_seq *s);
void pub_seq_free(pub_seq *s);

/* Objects of one run (publish_out.c): stage each as DIR/.NAME.tmp, then commit them all (one
   syncfs, renames, directory fsync) or drop them. */
offca_rc pub_out_stage(const char *dir, const char *name, const unsigned char *data, size_t len);
offca_rc pub_out_commit(const char *dir, const char (*names)[65], size_t n);
void pub_out_drop(const char *dir, const char (*names)[65], size_t n);

#endif
