/*
 * cli_fault.c - a damaged CA store ends a command with one line and exit 19, never a crash.
 *
 * liblmdb trusts data.mdb: a flipped bit inside a tree page can make it fault while reading the
 * store's map (docs/store.md, "Damage"). The handler only acts on a SIGBUS whose address lies
 * inside the map of a store open in this process (ca_store_addr_in_map: a read past the file's
 * end), or a fault of an instruction inside liblmdb while a store is open (ca_store_pc_in_lmdb:
 * a pointer liblmdb computed from a damaged page), and on LMDB's assertions; any other fault is
 * given back to the disposition that was there before (the sanitizers', or the default crash),
 * so bugs still crash loudly. Only async-signal-safe calls: write(2), _exit(2), sigaction(2).
 */
#define _GNU_SOURCE
#include "cli.h"

#include <signal.h>
#include <ucontext.h>
#include <string.h>
#include <unistd.h>

#include "offca/store.h"

static struct sigaction prev_segv, prev_bus;
static int damaged_code = 19;

static const char damaged_msg[] = "offca: the store is damaged: see offca restore";

static void say_damaged(const char *extra)
{
	(void)!write(STDERR_FILENO, damaged_msg, sizeof(damaged_msg) - 1);
	if (extra != NULL && extra[0] != '\0') {
		(void)!write(STDERR_FILENO, " (", 2);
		(void)!write(STDERR_FILENO, extra, strnlen(extra, 200));
		(void)!write(STDERR_FILENO, ")", 1);
	}
	(void)!write(STDERR_FILENO, "\n", 1);
	_exit(damaged_code);
}

/* The faulting instruction's address (NULL where this file does not know the machine). */
static const void *fault_pc(void *ctx)
{
	const ucontext_t *uc = ctx;

	if (uc == NULL)
		return NULL;
#if defined(__x86_64__)
	return (const void *)(uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
	return (const void *)(uintptr_t)uc->uc_mcontext.pc;
#else
	return NULL;
#endif
}

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
	/* the whole map is readable: inside it, only a read past the file's end faults (SIGBUS);
	   a SIGSEGV there is a write into the read-only map, a bug */
	if (sig == SIGBUS && si != NULL && ca_store_addr_in_map(si->si_addr))
		say_damaged("a read past the end of data.mdb");
	if (ca_store_pc_in_lmdb(fault_pc(ctx)))
		say_damaged("liblmdb followed a damaged page");
	/* not the store: put back what was there and let the faulting instruction run again */
	(void)sigaction(sig, sig == SIGBUS ? &prev_bus : &prev_segv, NULL);
}

/* LMDB's assertion on a damaged page: the message names liblmdb's check (strnlen is safe). */
static void on_lmdb_assert(const char *what)
{
	say_damaged(what); /* "mdb.c:N: Assertion ... failed in ...()" */
}

void cli_fault_install(void)
{
	struct sigaction sa;

	damaged_code = ut_exit_code(OFFCA_E_DAMAGED);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGSEGV, &sa, &prev_segv);
	(void)sigaction(SIGBUS, &sa, &prev_bus);
	ca_store_on_damage(on_lmdb_assert);
}
