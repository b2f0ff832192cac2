/* inv_out.c - a streamed output file that appears complete or not at all: written as a temporary
 * file next to its target, fsynced, then renamed (or linked, never overwriting) into place. */
#include "inv_int.h"
#include "offca/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

offca_rc inv_out_open(inv_out *o, const char *path, int excl)
{
	int fd, e, n;

	memset(o, 0, sizeof(*o));
	n = snprintf(o->path, sizeof(o->path), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(o->path))
		return ut_err(OFFCA_E_USAGE, "%s: path too long", path);
	snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.XXXXXX", path);
	o->excl = excl;
	if (excl && ut_path_exists(path) == OFFCA_OK)
		return ut_err(OFFCA_E_EXISTS, "%s already exists; refusing to overwrite it", path);
	fd = mkstemp(o->tmp);
	if (fd < 0) {
		e = errno;
		o->tmp[0] = '\0';
		if (e == ENOENT || e == ENOTDIR)
			return ut_err(OFFCA_E_NOT_FOUND, "%s: its directory does not exist", path);
		return ut_err(ut_errno_rc(e), "%s: cannot create a file there: %s", path, strerror(e));
	}
	if (fchmod(fd, 0644) != 0 || (o->f = fdopen(fd, "w")) == NULL) {
		e = errno;
		close(fd);
		inv_out_abort(o);
		return ut_err(ut_errno_rc(e), "%s: %s", path, strerror(e));
	}
	return OFFCA_OK;
}

offca_rc inv_out_check(inv_out *o)
{
	if (o->f != NULL && ferror(o->f))
		return ut_err(ut_errno_rc(errno ? errno : EIO), "%s: write failed: %s", o->path,
			      strerror(errno ? errno : EIO));
	return OFFCA_OK;
}

offca_rc inv_out_commit(inv_out *o)
{
	offca_rc rc;
	int e;

	errno = 0;
	if (fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) != 0) {
		e = errno ? errno : EIO;
		rc = ut_err(ut_errno_rc(e), "%s: write failed: %s", o->path, strerror(e));
		inv_out_abort(o);
		return rc;
	}
	e = fclose(o->f);
	o->f = NULL;
	if (e != 0 || (o->excl ? link(o->tmp, o->path) : rename(o->tmp, o->path)) != 0) {
		e = errno;
		rc = e == EEXIST ? ut_err(OFFCA_E_EXISTS, "%s already exists; refusing to overwrite it", o->path)
				 : ut_err(ut_errno_rc(e), "%s: %s", o->path, strerror(e));
		inv_out_abort(o);
		return rc;
	}
	if (o->excl)
		unlink(o->tmp);
	o->tmp[0] = '\0';
	if (ut_fsync_dir_of(o->path) != 0) {
		e = errno;
		return ut_err(ut_errno_rc(e), "%s: fsync of its directory: %s", o->path, strerror(e));
	}
	return OFFCA_OK;
}

void inv_out_abort(inv_out *o)
{
	if (o->f != NULL)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp[0] != '\0')
		unlink(o->tmp);
	o->tmp[0] = '\0';
}
