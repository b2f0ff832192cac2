/* credentials.c - the module path and PINs of a ceremony: never in the ceremony file. */
#include "ceremony_int.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "offca/util.h"

#define MAX_CRED 64

struct cred {
	char id[CER_NAME_LEN];
	char pin[UT_MAX_SECRET + 1];   /* "" when a pin-file is given */
	char pin_file[PATH_MAX];
};

struct cer_credentials {
	char module[PATH_MAX];
	struct cred c[MAX_CRED];
	size_t n;
};

static offca_rc add(cer_credentials *c, const char *id, const char *pin, const char *pin_file, const char *where)
{
	struct cred *e;

	if (strlen(id) == 0 || strlen(id) >= CER_NAME_LEN)
		return ut_err(OFFCA_E_PARSE, "%s: a PIN entry needs an id (token id or officer name)", where);
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->c[i].id, id) == 0)
			return ut_err(OFFCA_E_PARSE, "%s: two PIN entries for '%s'", where, id);
	if (c->n >= MAX_CRED)
		return ut_err(OFFCA_E_TOO_BIG, "%s: more than %d PIN entries", where, MAX_CRED);
	if ((pin != NULL && strlen(pin) > UT_MAX_SECRET) || (pin_file != NULL && strlen(pin_file) >= PATH_MAX))
		return ut_err(OFFCA_E_TOO_BIG, "%s: entry for '%s' too long", where, id);
	if ((pin == NULL || pin[0] == '\0') && (pin_file == NULL || pin_file[0] == '\0'))
		return ut_err(OFFCA_E_PARSE, "%s: entry for '%s' has neither pin nor pin-file", where, id);
	e = &c->c[c->n++];
	snprintf(e->id, sizeof(e->id), "%s", id);
	snprintf(e->pin, sizeof(e->pin), "%s", pin ? pin : "");
	snprintf(e->pin_file, sizeof(e->pin_file), "%s", pin_file ? pin_file : "");
	return OFFCA_OK;
}

static offca_rc from_yaml(cer_credentials *c, json_t *doc)
{
	offca_rc rc;
	const char *key, *id;
	json_t *v, *p;

	json_object_foreach(doc, key, v) {
		if (strcmp(key, "module") == 0) {
			if (!json_is_string(v) || json_string_length(v) >= sizeof(c->module))
				return ut_err(OFFCA_E_PARSE, "credentials module: must be a path");
			snprintf(c->module, sizeof(c->module), "%s", json_string_value(v));
		} else if (strcmp(key, "pins") == 0) {
			if (!json_is_object(v))
				return ut_err(OFFCA_E_PARSE, "credentials pins: must be a mapping id -> pin or {pin-file: FILE}");
			json_object_foreach(v, id, p) {
				char where[128];
				snprintf(where, sizeof(where), "credentials pins.%s", id);
				if (json_is_string(p))
					rc = add(c, id, json_string_value(p), NULL, where);
				else if (json_is_integer(p))
					rc = ut_err(OFFCA_E_PARSE, "%s: quote the PIN (\"0123\") so YAML keeps it a string", where);
				else if (json_is_object(p) && json_object_size(p) == 1 &&
					 json_is_string(json_object_get(p, "pin-file")))
					rc = add(c, id, NULL, json_string_value(json_object_get(p, "pin-file")), where);
				else if (json_is_object(p) && json_object_size(p) == 1 &&
					 json_is_string(json_object_get(p, "pin")))
					rc = add(c, id, json_string_value(json_object_get(p, "pin")), NULL, where);
				else
					rc = ut_err(OFFCA_E_PARSE, "%s: must be a PIN string, {pin: ...} or {pin-file: FILE}", where);
				if (rc != OFFCA_OK)
					return rc;
			}
		} else {
			return ut_err(OFFCA_E_PARSE, "credentials %s: unknown field (module, pins)", key);
		}
	}
	return OFFCA_OK;
}

static offca_rc from_lines(cer_credentials *c, char *text)
{
	offca_rc rc;
	char *save = NULL, *line, *eq;
	char where[64];
	unsigned no = 0;

	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		no++;
		line[strcspn(line, "\r")] = '\0';
		snprintf(where, sizeof(where), "credentials line %u", no);
		if (line[0] == '#' || line[strspn(line, " \t")] == '\0')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL)
			return ut_err(OFFCA_E_PARSE, "%s: expected key=value", where);
		*eq++ = '\0';
		if (strcmp(line, "module") == 0) {
			if (strlen(eq) >= sizeof(c->module))
				return ut_err(OFFCA_E_TOO_BIG, "%s: module path too long", where);
			snprintf(c->module, sizeof(c->module), "%s", eq);
			rc = OFFCA_OK;
		} else if (strncmp(line, "pin.", 4) == 0) {
			rc = add(c, line + 4, eq, NULL, where);
		} else if (strncmp(line, "pin-file.", 9) == 0) {
			rc = add(c, line + 9, NULL, eq, where);
		} else {
			rc = ut_err(OFFCA_E_PARSE, "%s: unknown key '%s' (module, pin.ID, pin-file.ID)", where, line);
		}
		if (rc != OFFCA_OK)
			return rc;
	}
	return OFFCA_OK;
}

offca_rc cer_credentials_load(const char *path, cer_credentials **out)
{
	offca_rc rc = OFFCA_E_NOMEM;
	cer_credentials *c = NULL;
	ut_secret *sec = NULL;
	json_t *doc = NULL;

	*out = NULL;
	rc = ut_read_secret_file(path, CER_MAX_FILE, &sec); /* the one secret-file policy (util/secret.c) */
	if (rc != OFFCA_OK)
		goto out;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if (cer_yaml_to_json_secret((const char *)sec->p, sec->len, path, &doc) == OFFCA_OK && json_is_object(doc))
		rc = from_yaml(c, doc);
	else
		rc = from_lines(c, (char *)sec->p);
	if (rc != OFFCA_OK)
		goto out;
	*out = c;
	c = NULL;
	rc = OFFCA_OK;
out:
	/* the JSON tree may hold PINs: wipe its strings before freeing */
	if (doc != NULL) {
		json_t *pins = json_object_get(doc, "pins"), *p;
		const char *k;
		if (json_is_object(pins))
			json_object_foreach(pins, k, p) {
				if (json_is_string(p))
					ut_memzero((char *)json_string_value(p), json_string_length(p));
				else if (json_is_string(json_object_get(p, "pin")))
					ut_memzero((char *)json_string_value(json_object_get(p, "pin")),
						   json_string_length(json_object_get(p, "pin")));
			}
		json_decref(doc);
	}
	ut_secret_free(sec);
	cer_credentials_free(c);
	return rc;
}

void cer_credentials_free(cer_credentials *c)
{
	ut_free_secret(c, c ? sizeof(*c) : 0);
}

const char *cer_credentials_module(const cer_credentials *c)
{
	return c != NULL && c->module[0] ? c->module : NULL;
}

offca_rc cer_credentials_pin(const cer_credentials *c, const char *id, char *buf, size_t cap)
{
	if (cap > 0)
		buf[0] = '\0';
	for (size_t i = 0; c != NULL && i < c->n; i++) {
		if (strcmp(c->c[i].id, id) != 0)
			continue;
		if (c->c[i].pin_file[0] != '\0')
			return ut_secret_from_file(c->c[i].pin_file, 1, buf, cap);
		if (strlen(c->c[i].pin) + 1 > cap)
			return ut_err(OFFCA_E_TOO_BIG, "PIN for %s too long", id);
		memcpy(buf, c->c[i].pin, strlen(c->c[i].pin) + 1);
		return OFFCA_OK;
	}
	return ut_err(OFFCA_E_NOT_FOUND, "no PIN for %s in the credentials", id);
}
