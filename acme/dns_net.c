/* dns_net.c - send a DNS message over UDP (TCP on truncation or request), bounded (see dns.h). */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "offca/util.h"

#define UDP_TRIES 3

offca_rc acme_dns_parse_server(const char *spec, char *host, size_t hostcap, uint16_t *port)
{
	const char *colon, *h = spec;
	size_t hl;
	long p = 53;
	char *end = NULL;

	if (spec == NULL || spec[0] == '\0')
		return ut_err(OFFCA_E_USAGE, "--dns-server: HOST:PORT expected");
	if (spec[0] == '[') {
		colon = strchr(spec, ']');
		if (colon == NULL)
			return ut_err(OFFCA_E_USAGE, "--dns-server %s: missing ]", spec);
		h = spec + 1;
		hl = (size_t)(colon - h);
		colon = colon[1] == ':' ? colon + 1 : NULL;
	} else {
		colon = strrchr(spec, ':');
		if (colon != NULL && strchr(spec, ':') != colon)
			colon = NULL; /* bare IPv6 address */
		hl = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
	}
	if (colon != NULL) {
		p = strtol(colon + 1, &end, 10);
		if (end == colon + 1 || *end != '\0' || p < 1 || p > 65535)
			return ut_err(OFFCA_E_USAGE, "--dns-server %s: bad port", spec);
	}
	if (hl == 0 || hl + 1 > hostcap)
		return ut_err(OFFCA_E_USAGE, "--dns-server %s: bad host", spec);
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return OFFCA_OK;
}

static offca_rc resolve(const char *host, uint16_t port, int socktype, struct addrinfo **ai)
{
	struct addrinfo hints;
	char ps[8];
	int e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(ps, sizeof(ps), "%u", port);
	e = getaddrinfo(host, ps, &hints, ai);
	if (e != 0)
		return ut_err(OFFCA_E_NETWORK, "DNS server %s: %s", host, gai_strerror(e));
	return OFFCA_OK;
}

static offca_rc wait_fd(int fd, short ev, int timeout_ms)
{
	struct pollfd pfd = {fd, ev, 0};
	int n;

	do
		n = poll(&pfd, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return OFFCA_E_TIMEOUT;
	if (n < 0)
		return OFFCA_E_NETWORK;
	return OFFCA_OK;
}

static offca_rc udp_exchange(const struct addrinfo *ai, const char *host, uint16_t port, const uint8_t *msg,
			     size_t len, uint8_t *resp, size_t *resplen, int timeout_ms)
{
	offca_rc rc = OFFCA_E_TIMEOUT;
	int fd;
	ssize_t n;

	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ut_err(OFFCA_E_NETWORK, "socket: %s", strerror(errno));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		rc = ut_err(OFFCA_E_NETWORK, "DNS server %s:%u: %s", host, port, strerror(errno));
		goto out;
	}
	for (int t = 0; t < UDP_TRIES; t++) {
		if (send(fd, msg, len, 0) < 0) {
			rc = ut_err(OFFCA_E_NETWORK, "DNS server %s:%u: %s", host, port, strerror(errno));
			goto out;
		}
		for (;;) {
			rc = wait_fd(fd, POLLIN, timeout_ms);
			if (rc != OFFCA_OK)
				break;
			n = recv(fd, resp, ACME_DNS_MAX_UDP, 0);
			if (n < 0) {
				/* ECONNREFUSED: nothing listens there */
				rc = ut_err(OFFCA_E_NETWORK, "DNS server %s:%u: %s", host, port, strerror(errno));
				goto out;
			}
			if (n >= 12 && resp[0] == msg[0] && resp[1] == msg[1]) {
				*resplen = (size_t)n;
				rc = OFFCA_OK;
				goto out;
			}
			/* wrong ID or runt: ignore and keep waiting */
		}
	}
	rc = ut_err(OFFCA_E_TIMEOUT, "DNS server %s:%u: no answer after %d tries", host, port, UDP_TRIES);
out:
	close(fd);
	return rc;
}

static offca_rc io_all(int fd, void *buf, size_t len, int wr, int timeout_ms)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		if (wait_fd(fd, wr ? POLLOUT : POLLIN, timeout_ms) != OFFCA_OK)
			return OFFCA_E_TIMEOUT;
		n = wr ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return OFFCA_E_NETWORK;
		p += n;
		len -= (size_t)n;
	}
	return OFFCA_OK;
}

static offca_rc tcp_exchange(const struct addrinfo *ai, const char *host, uint16_t port, const uint8_t *msg,
			     size_t len, uint8_t *resp, size_t *resplen, int timeout_ms)
{
	offca_rc rc;
	uint8_t l2[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	uint16_t rl;
	int fd;

	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ut_err(OFFCA_E_NETWORK, "socket: %s", strerror(errno));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		rc = ut_err(OFFCA_E_NETWORK, "DNS server %s:%u (TCP): %s", host, port, strerror(errno));
		goto out;
	}
	rc = io_all(fd, l2, 2, 1, timeout_ms);
	if (rc == OFFCA_OK)
		rc = io_all(fd, (void *)msg, len, 1, timeout_ms);
	if (rc == OFFCA_OK)
		rc = io_all(fd, l2, 2, 0, timeout_ms);
	if (rc != OFFCA_OK) {
		rc = ut_err(rc, "DNS server %s:%u (TCP): %s", host, port, rc == OFFCA_E_TIMEOUT ? "timed out" : "connection failed");
		goto out;
	}
	rl = (uint16_t)((l2[0] << 8) | l2[1]);
	if (rl > ACME_DNS_MAX_MSG || rl < 12) {
		rc = ut_err(OFFCA_E_TOO_BIG, "DNS server %s:%u: answer of %u bytes refused", host, port, rl);
		goto out;
	}
	rc = io_all(fd, resp, rl, 0, timeout_ms);
	if (rc != OFFCA_OK) {
		rc = ut_err(rc, "DNS server %s:%u (TCP): short answer", host, port);
		goto out;
	}
	if (resp[0] != msg[0] || resp[1] != msg[1]) {
		rc = ut_err(OFFCA_E_PROTOCOL, "DNS server %s:%u: answer with the wrong ID", host, port);
		goto out;
	}
	*resplen = rl;
out:
	close(fd);
	return rc;
}

offca_rc acme_dns_exchange(const char *host, uint16_t port, int tcp, const uint8_t *msg, size_t len,
			   uint8_t *resp, size_t *resplen, int timeout_ms)
{
	offca_rc rc;
	struct addrinfo *ai = NULL;

	*resplen = 0;
	if (len > 65535)
		return ut_err(OFFCA_E_TOO_BIG, "DNS message too large");
	rc = resolve(host, port, tcp ? SOCK_STREAM : SOCK_DGRAM, &ai);
	if (rc != OFFCA_OK)
		return rc;
	if (!tcp && len <= 512) {
		rc = udp_exchange(ai, host, port, msg, len, resp, resplen, timeout_ms);
		if (rc != OFFCA_OK || (resp[2] & 0x02) == 0) /* TC bit clear: done */
			goto out;
	}
	rc = tcp_exchange(ai, host, port, msg, len, resp, resplen, timeout_ms);
out:
	freeaddrinfo(ai);
	return rc;
}
