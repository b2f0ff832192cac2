#define _GNU_SOURCE /* setresuid, setgroups */
/* privdrop.c - started as root, become one unprivileged user with no capability (see sandbox.h). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "offca/util.h"
#include "sandbox.h"

offca_rc acme_drop_privileges(const char *user)
{
	const char *name = user != NULL ? user : ACME_DEFAULT_USER;
	struct passwd *pw;
	uid_t uid;
	gid_t gid;

	errno = 0;
	pw = getpwnam(name);
	if (geteuid() != 0) {
		if (user == NULL || (pw != NULL && pw->pw_uid == geteuid()))
			return OFFCA_OK; /* already unprivileged */
		return ut_err(OFFCA_E_PERM, "--user %s: only root can switch users (running as uid %u)", name,
			      (unsigned)geteuid());
	}
	if (pw == NULL)
		return ut_err(OFFCA_E_NOT_FOUND,
			      "started as root, offca-acme runs as user %s, which does not exist (create it: useradd "
			      "--system --home-dir /var/lib/offca-acme %s; or name another with --user)",
			      name, name);
	if (pw->pw_uid == 0)
		return ut_err(OFFCA_E_USAGE, "--user %s: must be an unprivileged user, not uid 0", name);
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0)
		return ut_err(OFFCA_E_PERM, "cannot switch to user %s: %s", name, strerror(errno));
	/* no way back: regaining root must fail now */
	if (setuid(0) == 0 || seteuid(0) == 0)
		return ut_err(OFFCA_E_PERM, "switching to user %s left a way back to root", name);
	/* after setresuid away from 0 the kernel cleared the capability sets; keep no ambient ones */
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	return OFFCA_OK;
}
