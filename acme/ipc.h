/*
 * ipc.h - bounded, length-prefixed messages over the socketpairs between offca-acme's processes.
 *
 * A message is one byte of type, a 4-byte big-endian length and that many bytes of body
 * (at most ACME_IPC_MAX). Fields inside a body are NUL-separated strings where a message has
 * several (acme_ipc_field() walks them with a cursor). An error reply has type ACME_IPC_ERR and a
 * body of 1 byte offca_rc followed by a one-line message.
 */
#ifndef ACME_IPC_H
#define ACME_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "offca/err.h"

#define ACME_IPC_MAX (256u * 1024u)

enum acme_ipc_type {
	ACME_IPC_OK = 1,
	ACME_IPC_ERR = 2,
	ACME_IPC_QUIT = 3,
	/* key process */
	ACME_IPC_JWK = 10,     /* body: key slot byte -> OK body: JWK JSON */
	ACME_IPC_SIGN = 11,    /* body: key slot byte + signing input -> OK body: JWS signature bytes */
	ACME_IPC_NEWKEY = 12,  /* body: key type string -> OK (slot 1 now holds a new key, on disk as .new) */
	ACME_IPC_COMMIT = 13,  /* make slot 1 the account key on disk */
	ACME_IPC_EABMAC = 14,  /* body: signing input -> OK body: HS256 MAC with the EAB key */
	ACME_IPC_CSR = 15,     /* body: key type NUL reuse-path NUL name NUL name... -> OK body: CSR DER */
	ACME_IPC_KEYSAVE = 16, /* body: relative path -> OK (the CSR's key written there, 0600) */
	/* DNS process */
	ACME_IPC_DNS_ADD = 20, /* body: name NUL value -> OK */
	ACME_IPC_DNS_DEL = 21, /* body: name NUL value -> OK */
	ACME_IPC_DNS_WAIT = 22, /* body: name NUL value -> OK when every authoritative server has it */
	/* file process */
	ACME_IPC_WRITE = 30,   /* body: relative path NUL flag byte data -> OK */
	ACME_IPC_LINK = 31,    /* body: NAME NUL VERSION -> OK: live/NAME -> ../archive/NAME/VERSION */
	/* hook runner */
	ACME_IPC_HOOK_DNSCHAN = 40, /* body: certificate NAME, a socket passed -> OK: NAME's DNS hook served there */
	ACME_IPC_HOOK_DNS = 41,     /* (on that socket) body: add|remove NUL record NUL value -> OK */
	ACME_IPC_HOOK_DEPLOY = 42,  /* body: NAME NUL deploy|option NUL domains -> OK */
};

/* Send one message; OFFCA_E_IO if the peer is gone. */
offca_rc acme_ipc_send(int fd, uint8_t type, const void *body, size_t len);

/* Send type with the fields f[0..n-1] joined by NULs (each field NUL-terminated). */
offca_rc acme_ipc_sendv(int fd, uint8_t type, const char *const *f, size_t n);

/*
 * Receive one message. *body (NUL-terminated, caller frees with free(); wiped by the caller if
 * secret) and *len are set on success. OFFCA_E_IO on EOF/short read, OFFCA_E_TOO_BIG when the
 * length exceeds ACME_IPC_MAX.
 */
offca_rc acme_ipc_recv(int fd, uint8_t *type, unsigned char **body, size_t *len);

/* Send an error reply with rc and the current detail message. */
void acme_ipc_send_err(int fd, offca_rc rc);

/*
 * Receive a reply: OK -> OFFCA_OK with body and len set (body may be NULL to discard); ERR -> the remote rc
 * with its message recorded by ut_err().
 */
offca_rc acme_ipc_reply(int fd, unsigned char **body, size_t *len);

/* acme_ipc_send() with the descriptor pass attached (SCM_RIGHTS); the caller still owns pass. */
offca_rc acme_ipc_send_fd(int fd, uint8_t type, const void *body, size_t len, int pass);
/* acme_ipc_recv() that also takes a passed descriptor (close-on-exec) into *passed, else -1. */
offca_rc acme_ipc_recv_fd(int fd, uint8_t *type, unsigned char **body, size_t *len, int *passed);

/* Next NUL-terminated field at *pos of body[0..len); NULL when none is left. */
const char *acme_ipc_field(const unsigned char *body, size_t len, size_t *pos);

#endif
