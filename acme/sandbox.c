/* sandbox.c - no_new_privs, allow-list seccomp filters (libseccomp) and Landlock per role (see sandbox.h). */
#define _GNU_SOURCE /* O_PATH */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "offca/util.h"

static int disabled;
static int landlocked;

void acme_sandbox_disable(void)
{
	disabled = 1;
}

int acme_sandbox_disabled(void)
{
	return disabled;
}

int acme_sandbox_landlocked(void)
{
	return landlocked;
}

/* every role: memory, signals, time, reading files, its descriptors, AF_UNIX channels */
static const char *const sc_base[] = {
	"read", "write", "readv", "writev", "pread64", "pwrite64", "lseek", "close", "close_range",
	"fstat", "newfstatat", "stat", "lstat", "statx", "fstatfs", "statfs", "open", "openat",
	"access", "faccessat", "faccessat2", "readlink", "readlinkat", "getdents64", "getdents", "fcntl", "ioctl",
	"dup", "dup2", "dup3", "pipe", "pipe2", "socketpair", "mmap", "munmap", "mprotect", "mremap",
	"madvise", "brk", "mlock", "mlock2", "munlock", "rt_sigaction", "rt_sigprocmask",
	"rt_sigreturn", "sigaltstack", "exit", "exit_group", "futex", "set_robust_list",
	"get_robust_list", "rseq", "set_tid_address", "getpid", "getppid", "gettid", "getuid",
	"geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups", "clock_gettime",
	"clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time", "getrandom", "uname",
	"sysinfo", "prlimit64", "getrlimit", "sched_yield", "sched_getaffinity", "poll", "ppoll",
	"select", "pselect6", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "eventfd2",
	"sendto", "recvfrom", "sendmsg", "recvmsg", "shutdown", "getsockname", "getpeername",
	"getsockopt", "setsockopt", "connect", "wait4", "kill", "tgkill", "restart_syscall", "umask",
	"getcwd", "prctl", "seccomp", "fsync", "fdatasync", "flock", "getrusage", "membarrier",
	"landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
};

/* roles that write files below their directory */
static const char *const sc_write[] = {
	"mkdir", "mkdirat", "rename", "renameat", "renameat2", "unlink", "unlinkat", "symlink",
	"symlinkat", "link", "linkat", "chmod", "fchmod", "fchmodat", "ftruncate", "creat", "utimensat",
};

/* the main process forks the helpers (and makes them drop what it kept) */
static const char *const sc_spawn[] = {"clone", "clone3", "fork", "vfork", "setpgid", "getpgid"};

/* DNS over UDP/TCP */
static const char *const sc_net[] = {"bind", "sendmmsg", "recvmmsg"};

/*
 * The hook runner, which starts hook programs (any shell script, nsupdate, curl...): every system call the
 * kernel has, except these, which no hook needs and which reach the kernel's attack surface or
 * another process's memory. Still a filter with a default of "refused": calls newer than
 * libseccomp's table stay refused.
 */
static const char *const sc_hook_denied[] = {
	"process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "mount", "umount2",
	"pivot_root", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
	"mount_setattr", "bpf", "perf_event_open", "kexec_load", "kexec_file_load", "init_module",
	"finit_module", "delete_module", "keyctl", "add_key", "request_key", "unshare", "setns",
	"userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "personality",
	"swapon", "swapoff", "reboot", "acct", "quotactl", "syslog", "settimeofday", "clock_settime",
	"clock_adjtime", "adjtimex", "open_by_handle_at", "name_to_handle_at", "fanotify_init",
	"lookup_dcookie", "iopl", "ioperm", "uselib", "sysfs", "ustat", "vhangup", "ptrace",
	"chroot", "nfsservctl", "create_module", "get_kernel_syms", "query_module", "_sysctl",
	"afs_syscall", "tuxcall", "security", "vserver", "putpmsg", "getpmsg",
};

#if defined(__SANITIZE_ADDRESS__)
/* the leak checker stops the threads of the process with ptrace from a clone()d task */
static const char *const sc_sanitizer[] = {"ptrace", "clone", "sched_setaffinity", "mincore", "getpgid"};
#endif

static int allow_list(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR || nr < 0)
			continue; /* not a system call on this architecture */
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0)
			return -1;
	}
	return 0;
}

#define ALLOW(ctx, list) allow_list((ctx), (list), sizeof(list) / sizeof((list)[0]))

static int hook_denied(const char *name)
{
	for (size_t i = 0; i < sizeof(sc_hook_denied) / sizeof(sc_hook_denied[0]); i++)
		if (strcmp(sc_hook_denied[i], name) == 0)
			return 1;
	return 0;
}

/* every system call libseccomp knows for this architecture, minus sc_hook_denied */
static int allow_hooks(scmp_filter_ctx ctx)
{
	for (int nr = 0; nr < 1024; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		int bad = name == NULL || hook_denied(name);
		free(name);
		if (!bad && seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0)
			return -1;
	}
	return 0;
}

/* socket(domain, ...) allowed for one domain */
static int allow_family(scmp_filter_ctx ctx, int family)
{
	struct scmp_arg_cmp c = {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = (scmp_datum_t)family, .datum_b = 0};

	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, &c);
}

/* socket(domain, ...): AF_UNIX always, AF_INET/AF_INET6 (+ netlink for getaddrinfo) for network roles */
static int allow_sockets(scmp_filter_ctx ctx, int inet)
{
	if (allow_family(ctx, AF_UNIX) != 0)
		return -1;
	if (inet && (allow_family(ctx, AF_INET) != 0 || allow_family(ctx, AF_INET6) != 0 ||
		     allow_family(ctx, AF_NETLINK) != 0))
		return -1;
	return 0;
}

static int build(scmp_filter_ctx ctx, enum acme_sb_role role)
{
	int r = ALLOW(ctx, sc_base);

#if defined(__SANITIZE_ADDRESS__)
	if (r == 0)
		r = ALLOW(ctx, sc_sanitizer);
#endif
	switch (role) {
	case ACME_SB_HOOKS:
		return r == 0 ? allow_hooks(ctx) : r;
	case ACME_SB_MAIN:
		/* what it does plus what the helpers it forks need: their own filters narrow it */
		if (r == 0)
			r = ALLOW(ctx, sc_spawn);
		if (r == 0)
			r = ALLOW(ctx, sc_write);
		if (r == 0)
			r = ALLOW(ctx, sc_net);
		return r == 0 ? allow_sockets(ctx, 1) : r;
	case ACME_SB_DNS:
		if (r == 0)
			r = ALLOW(ctx, sc_net);
		return r == 0 ? allow_sockets(ctx, 1) : r;
	case ACME_SB_KEY:
	case ACME_SB_FILE:
	case ACME_SB_METRICS:
		if (r == 0)
			r = ALLOW(ctx, sc_write);
		return r == 0 ? allow_sockets(ctx, 0) : r;
	}
	return -1;
}

/* ---- Landlock (no glibc wrappers in Debian 12) ---- */
#include <linux/landlock.h>

#define LL_WRITE                                                                                  \
	(LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
	 LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |      \
	 LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |   \
	 LANDLOCK_ACCESS_FS_MAKE_SYM)

/* 1 installed, 0 the kernel has no Landlock, -1 error */
static int landlock_writes(const char *dir)
{
	struct landlock_ruleset_attr ra;
	struct landlock_path_beneath_attr pb;
	long abi;
	int rs, ok;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		return 0;
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = LL_WRITE;
#ifdef LANDLOCK_ACCESS_FS_REFER
	if (abi >= 2)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
#endif
	rs = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra), 0);
	if (rs < 0)
		return -1;
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = ra.handled_access_fs;
	pb.parent_fd = -1;
	if (dir[0] == '\0') { /* ACME_SB_NO_WRITES: no rule, so no write anywhere */
		ok = syscall(SYS_landlock_restrict_self, rs, 0) == 0;
		close(rs);
		return ok ? 1 : -1;
	}
	pb.parent_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ok = pb.parent_fd >= 0 && syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) == 0 &&
	     syscall(SYS_landlock_restrict_self, rs, 0) == 0;
	if (pb.parent_fd >= 0)
		close(pb.parent_fd);
	close(rs);
	return ok ? 1 : -1;
}

offca_rc acme_sandbox_enter(enum acme_sb_role role, const char *write_dir)
{
	scmp_filter_ctx ctx = NULL;
	offca_rc rc = OFFCA_E_UNSUPPORTED;
	int ll;

	if (disabled)
		return OFFCA_OK;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return ut_err(OFFCA_E_UNSUPPORTED, "sandbox: no_new_privs refused: %s", strerror(errno));
	landlocked = 0;
	if (write_dir != NULL) {
		ll = landlock_writes(write_dir);
		if (ll < 0)
			return ut_err(OFFCA_E_UNSUPPORTED, "sandbox: Landlock refused for %s: %s", write_dir,
				      strerror(errno));
		landlocked = ll;
	}
	ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
	if (ctx == NULL)
		return ut_err(OFFCA_E_UNSUPPORTED, "sandbox: libseccomp could not start a filter");
	if (build(ctx, role) != 0) {
		rc = ut_err(OFFCA_E_UNSUPPORTED, "sandbox: libseccomp refused the allow list");
		goto out;
	}
	if (seccomp_load(ctx) != 0) {
		rc = ut_err(OFFCA_E_UNSUPPORTED, "sandbox: the kernel refused the seccomp filter");
		goto out;
	}
	rc = OFFCA_OK;
out:
	seccomp_release(ctx);
	return rc;
}
