/* ARI (RFC 9773) over real HTTPS: `openssl s_server -WWW` serves a directory with renewalInfo and
 * the renewalInfo answer for our certificate's certID as static files (Debian's pebble 2.4.0 offers
 * no renewalInfo, so this is where the HTTP path of ARI runs against a real server). */
#include "testutil.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <openssl/pem.h>

#include "ari.h"
#include "client.h"

static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), p;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 || getsockname(s, (struct sockaddr *)&a, &l) != 0)
		abort();
	p = ntohs(a.sin_port);
	close(s);
	return p;
}

static int wait_port(int port)
{
	for (int i = 0; i < 100; i++) {
		struct sockaddr_in a;
		int s = socket(AF_INET, SOCK_STREAM, 0), ok;
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_port = htons((uint16_t)port);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
		close(s);
		if (ok)
			return 0;
		usleep(100000);
	}
	return -1;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_ari_window_over_https(void **state)
{
	const char *dir = tu_tmpdir();
	char cmd[2048], path[512], url[256], body[512], *certid = NULL;
	int port = free_port();
	pid_t srv;
	struct acme_client *c = NULL;
	X509 *cert = NULL;
	FILE *f;
	time_t start = 0, end = 0;

	(void)state;
	/* a server certificate for 127.0.0.1 and a leaf with an AKI to ask about */
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
		 "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout srv.key -out srv.pem 2>/dev/null && "
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=leaf "
		 "-addext authorityKeyIdentifier=keyid:always -keyout leaf.key -out leaf.pem 2>/dev/null && mkdir ri",
		 dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/leaf.pem", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(cert);
	assert_int_equal(acme_ari_certid(cert, &certid), OFFCA_OK);
	snprintf(path, sizeof(path), "%s/dir", dir);
	snprintf(body, sizeof(body),
		 "{\"newNonce\":\"https://127.0.0.1:%d/n\",\"newAccount\":\"https://127.0.0.1:%d/a\","
		 "\"newOrder\":\"https://127.0.0.1:%d/o\",\"renewalInfo\":\"https://127.0.0.1:%d/ri\"}",
		 port, port, port, port);
	write_file(path, body);
	snprintf(path, sizeof(path), "%s/ri/%s", dir, certid);
	write_file(path, "{\"suggestedWindow\":{\"start\":\"2025-01-02T03:04:05Z\",\"end\":\"2025-01-03T03:04:05.5+01:00\"},"
			 "\"explanationURL\":\"https://example.test/why\"}");

	srv = fork();
	assert_true(srv >= 0);
	if (srv == 0) {
		char acc[32];
		snprintf(acc, sizeof(acc), "127.0.0.1:%d", port);
		if (chdir(dir) != 0)
			_exit(127);
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execlp("openssl", "openssl", "s_server", "-quiet", "-WWW", "-accept", acc, "-cert", "srv.pem", "-key",
		       "srv.key", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(wait_port(port), 0);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/dir", port);
	snprintf(path, sizeof(path), "%s/srv.pem", dir);
	assert_int_equal(acme_client_new(url, path, NULL, 0, &c), OFFCA_OK);
	assert_int_equal(acme_ari_window(c, cert, &start, &end), OFFCA_OK);
	assert_int_equal(start, 1735787045);
	assert_int_equal(end, 1735787045 + 86400 - 3600);
	acme_client_free(c);
	c = NULL;

	/* without trusting the server's certificate: a clear TLS error, not a window */
	assert_int_equal(acme_client_new(url, NULL, NULL, 0, &c), OFFCA_E_NETWORK);
	assert_null(c);

	kill(srv, SIGTERM);
	waitpid(srv, NULL, 0);
	free(certid);
	X509_free(cert);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ari_window_over_https),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
