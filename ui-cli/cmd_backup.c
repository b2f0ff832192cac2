/* cmd_backup.c - offca backup DEST and offca restore SRC [--force] (docs/store.md). */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "offca/store.h"
#include "offca/util.h"

static const char backup_usage[] =
	"usage: offca backup DEST [--home DIR]\n"
	"\n"
	"Copy the CA home into DEST, a new directory: a compacted, consistent copy of the store (one\n"
	"read transaction; the home lock keeps every writer out), config.json, outbox/ and every other\n"
	"file of the home. DEST is never overwritten. The copy is written under a temporary name,\n"
	"fsynced, opened and checked (audit chain, records against the log), then named DEST.\n"
	"Works on a full disk of the home (it only reads there). Restore with 'offca restore DEST'.\n";

static const char restore_usage[] =
	"usage: offca restore SRC [--force] [--home DIR]\n"
	"\n"
	"Put the backup SRC (made by 'offca backup') back as the CA home's content. SRC is checked\n"
	"first (audit chain, records against the log) and refused if it does not verify. A home whose\n"
	"store opens and verifies is healthy: restoring over it needs --force (it loses every change\n"
	"made after the backup). The new content is copied and checked inside the home, then swapped\n"
	"in (the store first, each entry in one atomic step); the previous store and config are kept\n"
	"in HOME/.restore-old-<time>-<pid>. A missing home is created.\n"
	"\n"
	"  --force           replace a healthy store too\n";

/* [--home DIR] [--force when force != NULL] and exactly one operand. 0 or a printed usage error. */
static int parse(const char *cmd, int argc, char **argv, const char **home, int *force, const char **arg)
{
	static const struct option opts[] = {
		{"home", required_argument, NULL, 'H'}, {"force", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'H')
			*home = optarg;
		else if (c == 'f' && force != NULL)
			*force = 1;
		else if (c == ':')
			return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		else
			return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
	}
	if (argc - optind != 1)
		return cli_usage_error(cmd, "give exactly one %s directory", force ? "SRC" : "DEST");
	*arg = argv[optind];
	if ((*arg)[0] == '\0')
		return cli_usage_error(cmd, "an empty path is not a directory");
	return 0;
}

int cli_cmd_backup(int argc, char **argv)
{
	const char *home_opt = NULL, *home, *dest = NULL;
	ca_store *st = NULL;
	ca_backup_info info;
	offca_rc rc;
	int r;

	if (cli_wants_help(argc, argv)) {
		fputs(backup_usage, stdout);
		return 0;
	}
	if ((r = parse("backup", argc, argv, &home_opt, NULL, &dest)) != 0)
		return r;
	if ((home = cli_home(home_opt)) == NULL)
		return cli_fail(OFFCA_E_USAGE);
	rc = ca_store_open_ro(home, &st);
	if (rc == OFFCA_OK)
		rc = ca_store_backup(st, dest, &info);
	ca_store_free(st);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	printf("backup of %s written to %s and verified: %llu audit entries, %zu certificates (%zu revoked)\n", home,
	       dest, (unsigned long long)info.entries, info.certs, info.revoked);
	return 0;
}

/*
 * Is the home's current store healthy (opens and verifies)? Checked in a child process: a
 * damaged store may fault inside liblmdb, which must end the check, not the restore.
 * The caller holds the home lock; the child opens the store without taking it (CA_ST_COPY).
 */
static int home_healthy(const char *home, ca_backup_info *info)
{
	int fds[2], status = 0;
	pid_t pid;
	ssize_t got = 0;

	if (pipe(fds) != 0)
		return 0;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		ca_backup_info i;
		close(fds[0]);
		if (ca_store_verify_copy(home, &i) != OFFCA_OK)
			_exit(1);
		(void)!write(fds[1], &i, sizeof(i));
		_exit(0);
	}
	close(fds[1]);
	if (pid > 0) {
		got = read(fds[0], info, sizeof(*info));
		while (waitpid(pid, &status, 0) < 0)
			;
	}
	close(fds[0]);
	return pid > 0 && got == (ssize_t)sizeof(*info) && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int cli_cmd_restore(int argc, char **argv)
{
	const char *home_opt = NULL, *home, *src = NULL;
	ca_backup_info info, cur;
	char aside[4200];
	offca_rc rc;
	int r, force = 0, fd = -1;

	if (cli_wants_help(argc, argv)) {
		fputs(restore_usage, stdout);
		return 0;
	}
	if ((r = parse("restore", argc, argv, &home_opt, &force, &src)) != 0)
		return r;
	if ((home = cli_home(home_opt)) == NULL)
		return cli_fail(OFFCA_E_USAGE);
	if (snprintf(aside, sizeof(aside), "%s/store/data.mdb", src) >= (int)sizeof(aside) ||
	    ut_path_exists(aside) != OFFCA_OK)
		return cli_fail(ut_err(OFFCA_E_NOT_FOUND, "%s is not an offca backup (no store/data.mdb in it)", src));
	rc = ca_store_verify_copy(src, &info);
	if (rc != OFFCA_OK)
		return cli_fail(ut_err(rc, "%s is not a backup that verifies: %s", src, ut_err_msg()));
	rc = ca_store_home_lock(home, &fd);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	if (!force && home_healthy(home, &cur)) {
		close(fd);
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s holds a healthy store (%llu audit entries, %zu certificates): "
				       "refusing to replace it without --force", home, (unsigned long long)cur.entries,
				       cur.certs));
	}
	rc = ca_store_restore_locked(home, src, aside, sizeof(aside));
	close(fd);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	printf("restored %s from %s: %llu audit entries, %zu certificates (%zu revoked); the previous content is in %s\n",
	       home, src, (unsigned long long)info.entries, info.certs, info.revoked, aside);
	return 0;
}
