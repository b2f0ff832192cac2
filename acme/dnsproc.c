/*
 * dnsproc.c - the DNS process: the only process that reads the TSIG secret (rfc2136) or asks the
 * hook runner to run the DNS hook (whose credentials are the hook's own 0600 files). It remembers every record it added
 * and removes what is left when the main process quits or dies, so no TXT record is left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "dns01.h"
#include "ipc.h"
#include "offca/util.h"
#include "proc.h"
#include "sandbox.h"

#define MAX_RECORDS  64

struct record {
	char name[ACME_DNS_MAX_NAME + 1];
	char value[ACME_DNS_MAX_TXT + 1];
};

struct dstate {
	const struct acme_dns_cfg *cfg;
	struct acme_rfc2136 r;
	int have_server;
	struct record rec[MAX_RECORDS];
	int nrec;
	int fd; /* our channel: readable while we wait means the main process is gone */
};

/* the hook runner runs the DNS hook configured at start: we only say add/remove, name, value */
static offca_rc run_hook(struct dstate *ds, const char *op, const char *name, const char *value)
{
	const char *f[3] = {op, name, value};
	offca_rc rc = acme_ipc_sendv(ds->cfg->hook_fd, ACME_IPC_HOOK_DNS, f, 3);

	return rc == OFFCA_OK ? acme_ipc_reply(ds->cfg->hook_fd, NULL, NULL) : rc;
}

static offca_rc do_change(struct dstate *ds, const char *name, const char *value, int add)
{
	char target[ACME_DNS_MAX_NAME + 1];
	offca_rc rc;

	if (strcmp(ds->cfg->method, "hook") == 0)
		return run_hook(ds, add ? "add" : "remove", name, value);
	/* a CNAME at the challenge name delegates validation: update where it points */
	rc = acme_dns_follow_cname(ds->r.host, ds->r.port, name, target);
	if (rc == OFFCA_OK && ds->cfg->verbose && strcmp(target, name) != 0)
		fprintf(stderr, "offca-acme: %s is a CNAME to %s\n", name, target);
	return rc == OFFCA_OK ? acme_rfc2136_update(&ds->r, target, value, add) : rc;
}

static void track(struct dstate *ds, const char *name, const char *value, int add)
{
	if (add && ds->nrec < MAX_RECORDS) {
		snprintf(ds->rec[ds->nrec].name, sizeof(ds->rec[0].name), "%s", name);
		snprintf(ds->rec[ds->nrec].value, sizeof(ds->rec[0].value), "%s", value);
		ds->nrec++;
		return;
	}
	for (int i = 0; i < ds->nrec; i++)
		if (strcmp(ds->rec[i].name, name) == 0 && strcmp(ds->rec[i].value, value) == 0) {
			ds->rec[i] = ds->rec[--ds->nrec];
			return;
		}
}

static offca_rc handle(struct dstate *ds, uint8_t type, const unsigned char *body, size_t len)
{
	size_t pos = 0;
	const char *name = acme_ipc_field(body, len, &pos);
	const char *value = acme_ipc_field(body, len, &pos);
	offca_rc rc;

	if (name == NULL || value == NULL || strlen(name) > ACME_DNS_MAX_NAME || strlen(value) > ACME_DNS_MAX_TXT)
		return ut_err(OFFCA_E_INTERNAL, "DNS process: malformed request");
	switch (type) {
	case ACME_IPC_DNS_ADD:
		if (ds->nrec >= MAX_RECORDS)
			return ut_err(OFFCA_E_TOO_BIG, "more than %d TXT records at once", MAX_RECORDS);
		rc = do_change(ds, name, value, 1);
		if (rc == OFFCA_OK)
			track(ds, name, value, 1);
		return rc;
	case ACME_IPC_DNS_DEL:
		rc = do_change(ds, name, value, 0);
		if (rc == OFFCA_OK)
			track(ds, name, value, 0);
		return rc;
	case ACME_IPC_DNS_WAIT: {
		char target[ACME_DNS_MAX_NAME + 1];
		if (!ds->have_server || ds->cfg->propagation_timeout <= 0)
			return OFFCA_OK;
		rc = acme_dns_follow_cname(ds->r.host, ds->r.port, name, target);
		if (rc != OFFCA_OK)
			return rc;
		return acme_dns_wait_txt(ds->r.host, ds->r.port, strcmp(target, name) == 0 ? ds->r.zone : NULL, target,
					 value, ds->cfg->propagation_timeout, ds->cfg->verbose, ds->fd);
	}
	default:
		return ut_err(OFFCA_E_INTERNAL, "DNS process: unknown request %u", type);
	}
}

static offca_rc setup(struct dstate *ds)
{
	const struct acme_dns_cfg *c = ds->cfg;
	offca_rc rc;

	ds->r.ttl = c->ttl > 0 ? (uint32_t)c->ttl : 60;
	ds->r.tcp = c->use_tcp;
	ds->r.verbose = c->verbose;
	if (c->zone != NULL)
		snprintf(ds->r.zone, sizeof(ds->r.zone), "%s", c->zone);
	if (c->server != NULL) {
		rc = acme_dns_parse_server(c->server, ds->r.host, sizeof(ds->r.host), &ds->r.port);
		if (rc != OFFCA_OK)
			return rc;
		ds->have_server = 1;
	}
	if (strcmp(c->method, "hook") == 0)
		return c->hook_fd >= 0 ? OFFCA_OK : ut_err(OFFCA_E_INTERNAL, "--dns-hook without the hook runner");
	if (strcmp(c->method, "rfc2136") != 0)
		return ut_err(OFFCA_E_USAGE, "--dns %s: must be rfc2136 (or use --dns-hook CMD)", c->method);
	if (!ds->have_server || c->tsig_name == NULL || c->tsig_secret_file == NULL)
		return ut_err(OFFCA_E_USAGE, "--dns rfc2136 needs --dns-server, --tsig-key and --tsig-secret-file");
	return acme_tsig_load(&ds->r.key, c->tsig_name, c->tsig_alg ? c->tsig_alg : "hmac-sha256",
			      c->tsig_secret_file);
}

static int dnsproc_main(int fd, void *arg)
{
	struct dstate *ds = calloc(1, sizeof(*ds));
	offca_rc rc;
	uint8_t type;
	unsigned char *body = NULL;
	size_t len = 0;
	int ds_hook_fd = -1;

	if (ds == NULL)
		_exit(1);
	ds->cfg = arg;
	ds->fd = fd;
	ds_hook_fd = ds->cfg->hook_fd;
	(void)mlock(ds, sizeof(*ds)); /* the TSIG secret lives in ds: keep it out of swap (best effort) */
	/* a stop (SIGTERM/SIGHUP to the whole group) ends the main process; we stay to remove records */
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	/* before reading the TSIG secret: DNS sockets, no exec (the hook runner runs a DNS hook), and
	 * no file written (Landlock) */
	rc = acme_sandbox_enter(ACME_SB_DNS, ACME_SB_NO_WRITES);
	if (rc == OFFCA_OK)
		rc = setup(ds);
	if (rc != OFFCA_OK) {
		acme_ipc_send_err(fd, rc);
		goto out;
	}
	if (acme_ipc_send(fd, ACME_IPC_OK, NULL, 0) != OFFCA_OK)
		goto out;
	for (;;) {
		if (acme_ipc_recv(fd, &type, &body, &len) != OFFCA_OK || type == ACME_IPC_QUIT)
			break;
		rc = handle(ds, type, body, len);
		if (rc == OFFCA_OK)
			rc = acme_ipc_send(fd, ACME_IPC_OK, NULL, 0);
		else
			acme_ipc_send_err(fd, rc);
		free(body);
		body = NULL;
	}
out:
	free(body);
	/* whatever the main process did not remove (it failed or died): remove it now */
	while (ds->nrec > 0) {
		struct record *r = &ds->rec[ds->nrec - 1];
		if (do_change(ds, r->name, r->value, 0) != OFFCA_OK)
			fprintf(stderr, "offca-acme: could not remove TXT %s: %s\n", r->name, ut_err_msg());
		ds->nrec--;
	}
	acme_rfc2136_wipe(&ds->r);
	munlock(ds, sizeof(*ds));
	free(ds);
	if (ds_hook_fd >= 0)
		close(ds_hook_fd);
	close(fd);
	return 0;
}

offca_rc acme_dnsproc_start(const struct acme_dns_cfg *cfg, struct acme_proc **out)
{
	return acme_proc_start_with("dns", dnsproc_main, (void *)cfg, cfg->hook_fd, out);
}

static offca_rc req(struct acme_proc *dp, uint8_t type, const char *name, const char *value)
{
	const char *f[2] = {name, value};
	offca_rc rc = acme_ipc_sendv(dp->fd, type, f, 2);

	return rc == OFFCA_OK ? acme_ipc_reply(dp->fd, NULL, NULL) : rc;
}

offca_rc acme_dnsproc_add(struct acme_proc *dp, const char *name, const char *value)
{
	return req(dp, ACME_IPC_DNS_ADD, name, value);
}

offca_rc acme_dnsproc_del(struct acme_proc *dp, const char *name, const char *value)
{
	return req(dp, ACME_IPC_DNS_DEL, name, value);
}

offca_rc acme_dnsproc_wait(struct acme_proc *dp, const char *name, const char *value)
{
	return req(dp, ACME_IPC_DNS_WAIT, name, value);
}
