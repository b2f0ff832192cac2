/* ipc.c - length-prefixed messages between offca-acme's processes (see ipc.h). */
#include "ipc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "offca/util.h"

static offca_rc write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ut_err(OFFCA_E_IO, "internal channel closed (%s)", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return OFFCA_OK;
}

static offca_rc read_all(int fd, unsigned char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ut_err(OFFCA_E_IO, "internal channel closed");
		p += n;
		len -= (size_t)n;
	}
	return OFFCA_OK;
}

/* type, then the body's length as a 32-bit big-endian number */
static offca_rc put_hdr(unsigned char hdr[5], uint8_t type, size_t len)
{
	if (len > ACME_IPC_MAX)
		return ut_err(OFFCA_E_TOO_BIG, "internal message of %zu bytes is too large", len);
	hdr[0] = type;
	hdr[1] = (unsigned char)(len >> 24);
	hdr[2] = (unsigned char)(len >> 16);
	hdr[3] = (unsigned char)(len >> 8);
	hdr[4] = (unsigned char)len;
	return OFFCA_OK;
}

offca_rc acme_ipc_send(int fd, uint8_t type, const void *body, size_t len)
{
	unsigned char hdr[5];
	offca_rc rc;

	if ((rc = put_hdr(hdr, type, len)) != OFFCA_OK)
		return rc;
	rc = write_all(fd, hdr, sizeof(hdr));
	if (rc == OFFCA_OK && len > 0)
		rc = write_all(fd, body, len);
	return rc;
}

offca_rc acme_ipc_sendv(int fd, uint8_t type, const char *const *f, size_t n)
{
	offca_rc rc = OFFCA_E_NOMEM;
	unsigned char *buf = NULL;
	size_t total = 0, off = 0, l;

	for (size_t i = 0; i < n; i++) {
		total += strlen(f[i]) + 1;
		if (total > ACME_IPC_MAX)
			return ut_err(OFFCA_E_TOO_BIG, "internal message too large");
	}
	buf = malloc(total + 1);
	if (buf == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		l = strlen(f[i]) + 1;
		memcpy(buf + off, f[i], l);
		off += l;
	}
	rc = acme_ipc_send(fd, type, buf, total);
out:
	ut_free_secret(buf, total + 1);
	return rc;
}

offca_rc acme_ipc_recv(int fd, uint8_t *type, unsigned char **body, size_t *len)
{
	offca_rc rc;
	unsigned char hdr[5];
	unsigned char *buf = NULL;
	size_t l;

	*body = NULL;
	*len = 0;
	rc = read_all(fd, hdr, sizeof(hdr));
	if (rc != OFFCA_OK)
		return rc;
	l = ((size_t)hdr[1] << 24) | ((size_t)hdr[2] << 16) | ((size_t)hdr[3] << 8) | hdr[4];
	if (l > ACME_IPC_MAX)
		return ut_err(OFFCA_E_TOO_BIG, "internal message of %zu bytes refused", l);
	buf = malloc(l + 1);
	if (buf == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	rc = read_all(fd, buf, l);
	if (rc != OFFCA_OK) {
		free(buf);
		return rc;
	}
	buf[l] = '\0';
	*type = hdr[0];
	*body = buf;
	*len = l;
	return OFFCA_OK;
}

void acme_ipc_send_err(int fd, offca_rc rc)
{
	char buf[1100];
	int n;

	n = snprintf(buf, sizeof(buf), "%c%s", (char)(rc == OFFCA_OK ? OFFCA_E_INTERNAL : rc), ut_err_msg());
	if (n < 0)
		n = 1;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	(void)acme_ipc_send(fd, ACME_IPC_ERR, buf, (size_t)n);
}

offca_rc acme_ipc_reply(int fd, unsigned char **body, size_t *len)
{
	offca_rc rc;
	uint8_t type = 0;
	unsigned char *b = NULL;
	size_t l = 0;

	if (body != NULL)
		*body = NULL;
	if (len != NULL)
		*len = 0;
	rc = acme_ipc_recv(fd, &type, &b, &l);
	if (rc != OFFCA_OK)
		return rc;
	if (type == ACME_IPC_ERR) {
		offca_rc r = (l >= 1 && b[0] > 0 && b[0] < OFFCA_E__COUNT) ? (offca_rc)b[0] : OFFCA_E_INTERNAL;
		rc = ut_err(r, "%s", l >= 1 ? (const char *)b + 1 : "helper process failed");
		free(b);
		return rc;
	}
	if (type != ACME_IPC_OK) {
		free(b);
		return ut_err(OFFCA_E_INTERNAL, "unexpected internal reply %u", type);
	}
	if (body != NULL) {
		*body = b;
		if (len != NULL)
			*len = l;
	} else {
		ut_free_secret(b, l);
	}
	return OFFCA_OK;
}

const char *acme_ipc_field(const unsigned char *body, size_t len, size_t *pos)
{
	const char *f;
	const void *nul;

	if (*pos >= len)
		return NULL;
	nul = memchr(body + *pos, '\0', len - *pos);
	if (nul == NULL)
		return NULL;
	f = (const char *)body + *pos;
	*pos = (size_t)((const unsigned char *)nul - body) + 1;
	return f;
}

offca_rc acme_ipc_send_fd(int fd, uint8_t type, const void *body, size_t len, int pass)
{
	unsigned char hdr[5];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = {.iov_base = hdr, .iov_len = sizeof(hdr)};
	struct msghdr m;
	ssize_t n;
	offca_rc rc;

	if ((rc = put_hdr(hdr, type, len)) != OFFCA_OK)
		return rc;
	memset(&m, 0, sizeof(m));
	memset(&cm, 0, sizeof(cm));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cm.buf;
	m.msg_controllen = sizeof(cm.buf);
	CMSG_FIRSTHDR(&m)->cmsg_level = SOL_SOCKET;
	CMSG_FIRSTHDR(&m)->cmsg_type = SCM_RIGHTS;
	CMSG_FIRSTHDR(&m)->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(CMSG_FIRSTHDR(&m)), &pass, sizeof(int));
	do
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return ut_err(OFFCA_E_IO, "internal channel closed (%s)", strerror(errno));
	if ((size_t)n < sizeof(hdr) && write_all(fd, hdr + n, sizeof(hdr) - (size_t)n) != OFFCA_OK)
		return OFFCA_E_IO;
	return len > 0 ? write_all(fd, body, len) : OFFCA_OK;
}

offca_rc acme_ipc_recv_fd(int fd, uint8_t *type, unsigned char **body, size_t *len, int *passed)
{
	unsigned char hdr[5];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = {.iov_base = hdr, .iov_len = sizeof(hdr)};
	struct msghdr m;
	struct cmsghdr *c;
	unsigned char *buf;
	size_t l;
	ssize_t n;

	*passed = -1;
	*body = NULL;
	*len = 0;
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cm.buf;
	m.msg_controllen = sizeof(cm.buf);
	do
		n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return ut_err(OFFCA_E_IO, "internal channel closed");
	for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(passed, CMSG_DATA(c), sizeof(int));
	if ((size_t)n < sizeof(hdr) && read_all(fd, hdr + n, sizeof(hdr) - (size_t)n) != OFFCA_OK)
		goto fail;
	l = ((size_t)hdr[1] << 24) | ((size_t)hdr[2] << 16) | ((size_t)hdr[3] << 8) | hdr[4];
	if (l > ACME_IPC_MAX) {
		ut_err(OFFCA_E_TOO_BIG, "internal message of %zu bytes refused", l);
		goto fail;
	}
	buf = malloc(l + 1);
	if (buf == NULL) {
		ut_err(OFFCA_E_NOMEM, "out of memory");
		goto fail;
	}
	if (read_all(fd, buf, l) != OFFCA_OK) {
		free(buf);
		goto fail;
	}
	buf[l] = '\0';
	*type = hdr[0];
	*body = buf;
	*len = l;
	return OFFCA_OK;
fail:
	if (*passed >= 0)
		close(*passed);
	*passed = -1;
	return ut_err_last() != OFFCA_OK ? ut_err_last() : OFFCA_E_IO;
}
