/* session.c - open a session on the token a pkcs11: URI names (the steps every token lookup shares). */
#include "tok_int.h"

#include <limits.h>
#include <string.h>

offca_rc tok_session_open(const char *cli_module, const char *token_uri, int rw, tok_session *ts)
{
	char module[PATH_MAX];
	offca_rc rc;

	memset(ts, 0, sizeof(*ts));
	ts->s = CK_INVALID_HANDLE;
	rc = tok_uri_parse(token_uri, &ts->uri);
	if (rc == OFFCA_OK)
		rc = tok_module_resolve(cli_module, ts->uri, module, sizeof(module));
	if (rc == OFFCA_OK)
		rc = tok_ctx_open(module, &ts->ctx);
	if (rc == OFFCA_OK)
		rc = tok_find_slot(ts->ctx, ts->uri, &ts->slot);
	if (rc == OFFCA_OK)
		rc = tok_raw_session(ts->ctx, PKCS11_get_slotid_from_slot(ts->slot), rw, &ts->s);
	return rc;
}

void tok_session_close(tok_session *ts)
{
	if (ts->s != CK_INVALID_HANDLE && ts->ctx != NULL)
		ts->ctx->fl->C_CloseSession(ts->s);
	ts->s = CK_INVALID_HANDLE;
	tok_ctx_free(ts->ctx);
	ts->ctx = NULL;
	tok_uri_free(ts->uri);
	ts->uri = NULL;
	ts->slot = NULL;
}
