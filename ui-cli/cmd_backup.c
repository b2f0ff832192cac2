/* cmd_backup.c - offca backup DEST and offca restore SRC [--force] (docs/store.md). */
#include "cli.h"
#include "cli_opt.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "offca/store.h"
#include "offca/util.h"

/* The one operand: a directory path, not empty. 0 or a printed usage error. */
static int dir_operand(const cli_cmd *cmd, const cli_args *a, const char **arg)
{
	*arg = a->pos[0];
	if ((*arg)[0] == '\0')
		return cli_usage_error(cmd->name, "an empty path is not a directory");
	return 0;
}

static int run_backup(const cli_cmd *cmd, cli_args *a)
{
	const char *home, *dest = NULL;
	ca_store *st = NULL;
	ca_backup_info info;
	offca_rc rc;
	int r;

	if ((r = dir_operand(cmd, a, &dest)) != 0)
		return r;
	if ((home = cli_home(cli_str(a, "home"))) == NULL)
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

static int run_restore(const cli_cmd *cmd, cli_args *a)
{
	const char *home, *src = NULL;
	ca_backup_info info, cur;
	char aside[4200];
	offca_rc rc;
	int r, force = cli_flag(a, "force"), fd = -1;

	if ((r = dir_operand(cmd, a, &src)) != 0)
		return r;
	if ((home = cli_home(cli_str(a, "home"))) == NULL)
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

static const cli_opt backup_opts[] = {CLI_OPT_HOME, CLI_END};
static const cli_opt restore_opts[] = {
	CLI_O("force", CLI_FLAG, NULL, "replace a healthy store too (it loses every change made after the backup)"),
	CLI_OPT_HOME,
	CLI_END};

const cli_cmd cli_backup_cmd = {
	.name = "backup",
	.summary = "write a verified, consistent copy of the CA home",
	.operands = "DEST",
	.min_pos = 1,
	.max_pos = 1,
	.opts = backup_opts,
	.details = "Copy the CA home into DEST, a new directory: a compacted, consistent copy of the store (one\n"
		   "read transaction; the home lock keeps every writer out), config.json, outbox/ and every other\n"
		   "file of the home. DEST is never overwritten. The copy is written under a temporary name,\n"
		   "fsynced, opened and checked (audit chain, records against the log), then named DEST.\n"
		   "Works on a full disk of the home (it only reads there). Restore with 'offca restore DEST'.\n",
	.run = run_backup,
};

const cli_cmd cli_restore_cmd = {
	.name = "restore",
	.summary = "put a verified backup back (a damaged store's way back)",
	.operands = "SRC",
	.min_pos = 1,
	.max_pos = 1,
	.opts = restore_opts,
	.details = "Put the backup SRC (made by 'offca backup') back as the CA home's content. SRC is checked\n"
		   "first (audit chain, records against the log) and refused if it does not verify. A home whose\n"
		   "store opens and verifies is healthy: restoring over it needs --force. The new content is copied\n"
		   "and checked inside the home, then swapped in (the store first, each entry in one atomic step);\n"
		   "the previous store and config are kept in HOME/.restore-old-<time>-<pid>. A missing home is\n"
		   "created.\n",
	.run = run_restore,
};
