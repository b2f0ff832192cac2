/* answers.c - non-interactive confirmations for tests, rehearsals and the demo (--answers FILE). */
#include "ceremony_int.h"

#include <stdlib.h>
#include <string.h>

#include "offca/util.h"

struct keyed {
	char *id;
	char **vals;
	size_t n, next;
};

struct cer_answers {
	char **seq;          /* in-order answers */
	size_t n_seq, next;
	struct keyed *k;     /* prompt id -> answers */
	size_t n_k;
};

static char *scalar_text(json_t *v)
{
	char buf[64];

	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_true(v))
		return strdup("yes"); /* YAML 1.1 habits: yes/no arrive as booleans in some tools */
	if (json_is_false(v))
		return strdup("no");
	if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		return strdup(buf);
	}
	return NULL;
}

static offca_rc add_seq(char ***arr, size_t *n, json_t *list, const char *where)
{
	size_t i;
	json_t *v;

	*arr = calloc(json_array_size(list) + 1, sizeof(char *));
	if (*arr == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	json_array_foreach(list, i, v) {
		(*arr)[i] = scalar_text(v);
		if ((*arr)[i] == NULL)
			return ut_err(OFFCA_E_PARSE, "%s[%zu]: an answer must be a string", where, i);
		*n = i + 1;
	}
	return OFFCA_OK;
}

static offca_rc from_json(cer_answers *a, json_t *doc)
{
	offca_rc rc = OFFCA_OK;
	const char *key;
	json_t *v;

	if (json_is_array(doc))
		return add_seq(&a->seq, &a->n_seq, doc, "answers");
	a->k = calloc(json_object_size(doc) + 1, sizeof(*a->k));
	if (a->k == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	json_object_foreach(doc, key, v) {
		struct keyed *e = &a->k[a->n_k++];
		e->id = strdup(key);
		if (e->id == NULL)
			return ut_err(OFFCA_E_NOMEM, "out of memory");
		if (json_is_array(v)) {
			rc = add_seq(&e->vals, &e->n, v, key);
		} else {
			e->vals = calloc(2, sizeof(char *));
			if (e->vals == NULL)
				return ut_err(OFFCA_E_NOMEM, "out of memory");
			e->vals[0] = scalar_text(v);
			if (e->vals[0] == NULL)
				return ut_err(OFFCA_E_PARSE, "answers %s: an answer must be a string or a list", key);
			e->n = 1;
		}
		if (rc != OFFCA_OK)
			return rc;
	}
	return OFFCA_OK;
}

static offca_rc from_lines(cer_answers *a, char *text)
{
	char *save = NULL, *line;
	size_t cap = 0;

	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		line[strcspn(line, "\r")] = '\0';
		if (line[0] == '#')
			continue;
		if (a->n_seq >= CER_MAX_ANSWERS)
			return ut_err(OFFCA_E_TOO_BIG, "answers: more than %u lines", CER_MAX_ANSWERS);
		if (a->n_seq + 1 >= cap) {
			size_t nc = cap ? cap * 2 : 32;
			char **n = realloc(a->seq, nc * sizeof(*n));
			if (n == NULL)
				return ut_err(OFFCA_E_NOMEM, "out of memory");
			a->seq = n;
			cap = nc;
		}
		a->seq[a->n_seq] = strdup(line);
		if (a->seq[a->n_seq] == NULL)
			return ut_err(OFFCA_E_NOMEM, "out of memory");
		a->n_seq++;
	}
	return OFFCA_OK;
}

offca_rc cer_answers_load(const char *path, cer_answers **out)
{
	offca_rc rc;
	cer_answers *a = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;
	json_t *doc = NULL;

	*out = NULL;
	rc = ut_read_file(path, CER_MAX_FILE, 0, &buf, &len);
	if (rc != OFFCA_OK)
		goto out;
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if (cer_yaml_to_json((const char *)buf, len, path, &doc) == OFFCA_OK &&
	    (json_is_array(doc) || json_is_object(doc)))
		rc = from_json(a, doc);
	else
		rc = from_lines(a, (char *)buf);
	if (rc != OFFCA_OK) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", ut_err_msg()); /* ut_err overwrites the detail it reads */
		rc = ut_err(rc, "answers file %s: %s", path, msg);
		goto out;
	}
	*out = a;
	a = NULL;
	rc = OFFCA_OK;
out:
	json_decref(doc);
	free(buf);
	cer_answers_free(a);
	return rc;
}

void cer_answers_free(cer_answers *a)
{
	if (a == NULL)
		return;
	cer_strv_free(a->seq, a->n_seq);
	for (size_t i = 0; i < a->n_k; i++) {
		free(a->k[i].id);
		cer_strv_free(a->k[i].vals, a->k[i].n);
	}
	free(a->k);
	free(a);
}

const char *cer_answers_next(cer_answers *a, const char *id)
{
	if (a == NULL)
		return NULL;
	for (size_t i = 0; i < a->n_k; i++) {
		struct keyed *e = &a->k[i];
		if (strcmp(e->id, id) != 0)
			continue;
		if (e->next < e->n)
			return e->vals[e->next++];
		return e->n > 0 ? e->vals[e->n - 1] : NULL; /* the last answer repeats */
	}
	if (a->next < a->n_seq)
		return a->seq[a->next++];
	for (size_t i = 0; i < a->n_k; i++) /* "*": the answer to every prompt not named */
		if (strcmp(a->k[i].id, "*") == 0 && a->k[i].n > 0)
			return a->k[i].vals[0];
	return NULL;
}
