/*
 * export_layout.c - certbot's layout (cert.pem, chain.pem, fullchain.pem, privkey.pem) plus ca.crt,
 * metadata.json and README.txt, one directory per certificate.
 *
 * Each directory is filled under a temporary name in the parent (.NAME.tmp-XXXXXX), every file
 * made durable by one syncfs() for the whole run, then renamed to its name without replacing
 * anything (renameat2 RENAME_NOREPLACE) and the parent fsynced: a directory appears complete or
 * not at all, and an existing one is never touched.
 */
#define _GNU_SOURCE /* renameat2, syncfs */
#include "export_int.h"
#include "offca/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_CAP 4200

static const char readme[] =
	"This directory was written by offca (an offline certificate authority), in certbot's layout.\n"
	"\n"
	"  cert.pem       the certificate alone\n"
	"  chain.pem      the issuing CA certificate(s), without the certificate (intermediates)\n"
	"  fullchain.pem  cert.pem followed by chain.pem: what a server sends to its clients\n"
	"  ca.crt         the root CA certificate: what clients (and mTLS servers) trust\n"
	"  privkey.pem    the private key (0600), ONLY when offca generated the key; otherwise the key\n"
	"                 stays where it was made (the endpoint that sent the CSR)\n"
	"  metadata.json  serial, SHA-256 fingerprint, SANs, subject, issuer, validity (ISO 8601 UTC),\n"
	"                 profile and renew_before: the date to renew by (two thirds of the lifetime)\n"
	"\n"
	"Install (paths are examples; keep privkey.pem readable by the service only):\n"
	"\n"
	"nginx:\n"
	"  ssl_certificate     /etc/ssl/offca/fullchain.pem;\n"
	"  ssl_certificate_key /etc/ssl/offca/privkey.pem;\n"
	"  # client certificates (mTLS): ssl_client_certificate /etc/ssl/offca/ca.crt; ssl_verify_client on;\n"
	"\n"
	"Apache httpd (2.4.8 and later):\n"
	"  SSLCertificateFile    /etc/ssl/offca/fullchain.pem\n"
	"  SSLCertificateKeyFile /etc/ssl/offca/privkey.pem\n"
	"  # mTLS: SSLCACertificateFile /etc/ssl/offca/ca.crt  and  SSLVerifyClient require\n"
	"\n"
	"HAProxy (one file holding the chain and the key):\n"
	"  cat fullchain.pem privkey.pem > /etc/haproxy/certs/site.pem\n"
	"  bind :443 ssl crt /etc/haproxy/certs/site.pem   # mTLS: ca-file /etc/ssl/offca/ca.crt verify required\n"
	"\n"
	"Mosquitto (mosquitto.conf):\n"
	"  listener 8883\n"
	"  certfile /etc/mosquitto/certs/fullchain.pem\n"
	"  keyfile  /etc/mosquitto/certs/privkey.pem\n"
	"  cafile   /etc/mosquitto/certs/ca.crt   # with require_certificate true for mTLS\n"
	"\n"
	"EMQX (emqx.conf):\n"
	"  listeners.ssl.default.ssl_options { certfile = \"etc/certs/fullchain.pem\",\n"
	"    keyfile = \"etc/certs/privkey.pem\", cacertfile = \"etc/certs/ca.crt\" }\n"
	"\n"
	"Java keystore:\n"
	"  # trust the CA:\n"
	"  keytool -importcert -noprompt -alias offca-root -file ca.crt -keystore truststore.p12 -storetype PKCS12\n"
	"  # a key store (needs privkey.pem):\n"
	"  openssl pkcs12 -export -in fullchain.pem -inkey privkey.pem -out keystore.p12 -name server\n"
	"  # or without a key here: offca export SERIAL --format p12 (certificates only, trusted entries)\n"
	"\n"
	"Renew before the renew_before date in metadata.json: a new CSR (offca sign) or offca issue.\n";

void ca_export_layout_files(const ca_export_item *it, ca_export_file files[CA_EXPORT_MAX_FILES], size_t *n)
{
	size_t k = 0;

	files[k++] = (ca_export_file){"cert.pem", it->cert.p, it->cert.len, 0644};
	files[k++] = (ca_export_file){"chain.pem", it->chain.p ? it->chain.p : "", it->chain.len, 0644};
	files[k++] = (ca_export_file){"fullchain.pem", it->fullchain.p, it->fullchain.len, 0644};
	files[k++] = (ca_export_file){"ca.crt", it->root.p, it->root.len, 0644};
	files[k++] = (ca_export_file){"metadata.json", it->metadata.p, it->metadata.len, 0644};
	files[k++] = (ca_export_file){"README.txt", readme, sizeof(readme) - 1, 0644};
	if (it->key.p != NULL)
		files[k++] = (ca_export_file){"privkey.pem", it->key.p, it->key.len, 0600};
	*n = k;
}

static offca_rc io_rc(int e, const char *what, const char *path)
{
	return ut_err(ut_errno_rc(e), "%s: %s: %s", path, what, strerror(e));
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Remove a temporary directory and the files we put in it. */
static void remove_tmp(const char *tmp, const ca_export_file *files, size_t n)
{
	char p[PATH_CAP];

	for (size_t i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s", tmp, files[i].name);
		(void)unlink(p);
	}
	(void)rmdir(tmp);
}

/* Fill a new temporary directory for it; *tmp receives its path. Not yet durable. */
static offca_rc fill_tmp(const char *parent, const ca_export_item *it, char *tmp, size_t cap)
{
	ca_export_file files[CA_EXPORT_MAX_FILES];
	char p[PATH_CAP];
	size_t n = 0;
	int fd;

	ca_export_layout_files(it, files, &n);
	if ((size_t)snprintf(tmp, cap, "%s/.%s.tmp-XXXXXX", parent, it->name) >= cap)
		return ut_err(OFFCA_E_USAGE, "output path too long");
	if (mkdtemp(tmp) == NULL)
		return io_rc(errno, "cannot create a directory", parent);
	for (size_t i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s", tmp, files[i].name);
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, files[i].mode);
		if (fd < 0 || write_all(fd, files[i].data, files[i].len) != 0 || close(fd) != 0) {
			offca_rc rc = io_rc(errno, "writing", p);
			remove_tmp(tmp, files, n);
			return rc;
		}
	}
	if (chmod(tmp, it->key.p != NULL ? 0700 : 0755) != 0) {
		offca_rc rc = io_rc(errno, "chmod", tmp);
		remove_tmp(tmp, files, n);
		return rc;
	}
	return OFFCA_OK;
}

/* Make every item's name unique within the run (second "x" -> "x-SERIAL"). */
void ex_unique_names(ca_export_item *items, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(items[i].name, items[j].name) == 0) {
				size_t keep = strnlen(items[i].name, CA_EXPORT_MAX_NAME - 33);
				items[i].name[keep] = '-';
				memcpy(items[i].name + keep + 1, items[i].serial, 2 * CA_SERIAL_LEN + 1);
				break;
			}
}

offca_rc ca_export_write_dirs(const char *parent, ca_export_item *items, size_t n)
{
	char (*tmps)[PATH_CAP] = NULL, path[PATH_CAP];
	ca_export_file files[CA_EXPORT_MAX_FILES];
	size_t filled = 0, placed = 0, nf;
	offca_rc rc = OFFCA_OK;
	int dfd = -1;

	if ((rc = ut_mkdir_p(parent, 0755)) != OFFCA_OK)
		return rc;
	ex_unique_names(items, n);
	for (size_t i = 0; i < n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", parent, items[i].name) >= sizeof(path))
			return ut_err(OFFCA_E_USAGE, "output path too long");
		if (ut_path_exists(path) == OFFCA_OK)
			return ut_err(OFFCA_E_EXISTS, "%s exists: refusing to overwrite it", path);
	}
	if (n == 0 || (tmps = calloc(n, PATH_CAP)) == NULL)
		return n == 0 ? OFFCA_OK : ut_err(OFFCA_E_NOMEM, "out of memory");
	for (; filled < n && rc == OFFCA_OK; filled++)
		if ((rc = fill_tmp(parent, &items[filled], tmps[filled], PATH_CAP)) != OFFCA_OK)
			break;
	dfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rc == OFFCA_OK && (dfd < 0 || syncfs(dfd) != 0))
		rc = io_rc(errno, "sync", parent);
	while (rc == OFFCA_OK && placed < n) {
		snprintf(path, sizeof(path), "%s/%s", parent, items[placed].name);
		if (renameat2(AT_FDCWD, tmps[placed], AT_FDCWD, path, RENAME_NOREPLACE) != 0)
			rc = io_rc(errno, "naming", path);
		else
			placed++;
	}
	for (size_t i = placed; i < filled; i++) {
		ca_export_layout_files(&items[i], files, &nf);
		remove_tmp(tmps[i], files, nf);
	}
	if (dfd >= 0) {
		if (fsync(dfd) != 0 && rc == OFFCA_OK)
			rc = io_rc(errno, "fsync", parent);
		close(dfd);
	}
	free(tmps);
	return rc;
}
