/*
 * publish_seq.c - the per-endpoint sequence numbers of relay objects: HOME/relay/sequence.json,
 * {"<endpoint hex>": {"seq": N, "cert": "<certificate SHA-256 hex>"}}. A number grows only when an
 * endpoint's content (its certificate) changes; the file is replaced atomically (ut_write_file:
 * temporary, fsync, rename, directory fsync) before any object is written, so a crash may skip a
 * number but never hands out one twice.
 */
#include "publish_int.h"
#include "offca/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

offca_rc pub_seq_load(const char *home, pub_seq *out)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	json_error_t jerr;
	offca_rc rc;

	memset(out, 0, sizeof(*out));
	if (snprintf(out->dir, sizeof(out->dir), "%s/relay", home) >= (int)sizeof(out->dir) ||
	    snprintf(out->path, sizeof(out->path), "%s/sequence.json", out->dir) >= (int)sizeof(out->path))
		return ut_err(OFFCA_E_USAGE, "CA home path too long");
	if (ut_path_exists(out->path) != OFFCA_OK) {
		out->map = json_object();
		return out->map != NULL ? OFFCA_OK : ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	if ((rc = ut_read_file(out->path, 64u * 1024u * 1024u, 1, &buf, &n)) != OFFCA_OK)
		return rc;
	out->map = json_loadb((const char *)buf, n, 0, &jerr);
	free(buf);
	if (out->map == NULL || !json_is_object(out->map)) {
		json_decref(out->map);
		out->map = NULL;
		return ut_err(OFFCA_E_PARSE, "%s is damaged (%s): restore it from a backup; numbers must never go back",
			      out->path, jerr.text);
	}
	return OFFCA_OK;
}

offca_rc pub_seq_next(pub_seq *s, const char *endpoint_hex, const char *cert_hex, uint64_t *seq, int *same)
{
	json_t *e = json_object_get(s->map, endpoint_hex);
	json_int_t last = 0;
	const char *c = NULL;

	if (e != NULL) {
		if (!json_is_object(e) || !json_is_integer(json_object_get(e, "seq")) ||
		    !json_is_string(json_object_get(e, "cert")) || json_integer_value(json_object_get(e, "seq")) < 1)
			return ut_err(OFFCA_E_PARSE, "%s: the entry of %s is damaged", s->path, endpoint_hex);
		last = json_integer_value(json_object_get(e, "seq"));
		c = json_string_value(json_object_get(e, "cert"));
	}
	*same = c != NULL && strcmp(c, cert_hex) == 0;
	*seq = *same ? (uint64_t)last : (uint64_t)last + 1;
	if (*same)
		return OFFCA_OK;
	e = json_pack("{s:I,s:s}", "seq", (json_int_t)*seq, "cert", cert_hex);
	if (e == NULL || json_object_set_new(s->map, endpoint_hex, e) != 0)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	s->dirty = 1;
	return OFFCA_OK;
}

offca_rc pub_seq_save(pub_seq *s)
{
	char *js;
	offca_rc rc;

	if (!s->dirty)
		return OFFCA_OK;
	if ((rc = ut_mkdir_p(s->dir, 0700)) != OFFCA_OK)
		return rc;
	js = json_dumps(s->map, JSON_COMPACT | JSON_SORT_KEYS);
	if (js == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	rc = ut_write_file(s->path, js, strlen(js), 0);
	free(js);
	if (rc == OFFCA_OK)
		s->dirty = 0;
	return rc;
}

void pub_seq_free(pub_seq *s)
{
	json_decref(s->map);
	s->map = NULL;
}
