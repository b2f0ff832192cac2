/*
 * ag_relay_get.c - GET one relay object (delivery pattern 5) with libcurl: the answer bounded to
 * CA_PUB_MAX_OBJ bytes, the relay's TLS certificate verified (against cafile when given, else the
 * system's store), redirects not followed; optionally with the endpoint's certificate as TLS client
 * certificate (a relay that serves objects only to enrolled endpoints).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_relay.h"
#include "offca/publish.h"
#include "offca/util.h"

offca_rc ag_relay_get(const char *url, const char *cafile, const char *cert, const char *key, ag_resp *r)
{
	CURL *c = curl_easy_init();
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode cc;

	memset(r, 0, sizeof(*r));
	r->max = CA_PUB_MAX_OBJ;
	if (c == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ag_resp_body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (cafile != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, cafile);
	if (cert != NULL && key != NULL) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, key);
	}
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(c);
	if (cc == CURLE_WRITE_ERROR)
		return ut_err(OFFCA_E_VERIFY, "the relay's answer is larger than %u bytes: not a relay object",
			      CA_PUB_MAX_OBJ);
	if (cc != CURLE_OK)
		return ut_err(OFFCA_E_NETWORK, "relay %s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
	return OFFCA_OK;
}
