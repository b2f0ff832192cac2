/* sandbox.c - a small seccomp-bpf deny list for the helper processes (see sandbox.h). */
#include "sandbox.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "offca/util.h"

#if defined(__x86_64__)
#define SB_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SB_ARCH AUDIT_ARCH_AARCH64
#endif

#define SB_MAX_INSNS 32

#define DENY(nr)                                                                                  \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1),                                          \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))

offca_rc acme_sandbox(int flags)
{
#ifdef SB_ARCH
	struct sock_filter f[SB_MAX_INSNS];
	struct sock_fprog prog;
	unsigned short n = 0;

	/* wrong architecture: deny everything (a 32-bit call through int 0x80 is another table) */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SB_ARCH, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if !defined(__SANITIZE_ADDRESS__)
	{
		struct sock_filter d[] = {DENY(__NR_ptrace), DENY(__NR_process_vm_readv), DENY(__NR_process_vm_writev)};
		for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
			f[n++] = d[i];
	}
#endif
	if (flags & ACME_SB_NO_EXEC) {
		struct sock_filter d[] = {DENY(__NR_execve), DENY(__NR_execveat)};
		for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
			f[n++] = d[i];
	}
	if (flags & ACME_SB_NO_INET) {
		/* socket(domain, ...): allowed only for AF_UNIX */
		struct sock_filter d[] = {
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 4),
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 1, 0),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
			f[n++] = d[i];
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.len = n;
	prog.filter = f;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
		return ut_err(OFFCA_E_UNSUPPORTED, "seccomp filter refused by the kernel");
	return OFFCA_OK;
#else
	(void)flags;
	return ut_err(OFFCA_E_UNSUPPORTED, "no seccomp filter for this architecture");
#endif
}
