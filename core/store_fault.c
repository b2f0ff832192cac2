/*
 * store_fault.c - what a damaged data.mdb may still do to a reader, made recognisable.
 *
 * liblmdb follows page numbers and in-page offsets from the file without checking them against
 * anything but the map's size: a flipped bit inside a tree page can make it (or a decoder reading
 * a value it returned) touch memory of the map beyond the file's end (SIGBUS) or outside any
 * page it should (SIGSEGV), or trip one of its own assertions. The library does not print or
 * exit; it keeps the address range of every open environment's map here so that the program's
 * signal handler can tell "a read of the store's map faulted" (a damaged store) from a bug, with
 * async-signal-safe reads only, and it forwards LMDB's assertion to the program's handler.
 * A damaged page can also make liblmdb follow a pointer it computed itself (a NULL cursor page
 * plus an offset): such a fault is recognised by its instruction address, inside liblmdb's code,
 * whose range is looked up once when the first store opens.
 */
#define _GNU_SOURCE
#include "store_int.h"

#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define FAULT_SLOTS 16

static uintptr_t slot_lo[FAULT_SLOTS], slot_hi[FAULT_SLOTS]; /* [lo, hi); hi 0: free */
static void (*damage_fn)(const char *what);
static uintptr_t lmdb_lo, lmdb_hi; /* liblmdb's executable segment */

static int find_text(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t base = (uintptr_t)arg;

	(void)size;
	if (info->dlpi_addr != base)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = base + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) != 0 && lo <= (uintptr_t)mdb_cursor_get &&
		    (uintptr_t)mdb_cursor_get < lo + ph->p_memsz) {
			__atomic_store_n(&lmdb_lo, lo, __ATOMIC_SEQ_CST);
			__atomic_store_n(&lmdb_hi, lo + ph->p_memsz, __ATOMIC_SEQ_CST);
			return 1;
		}
	}
	return 0;
}

static void lmdb_text_once(void)
{
	Dl_info di;

	if (__atomic_load_n(&lmdb_hi, __ATOMIC_SEQ_CST) != 0)
		return;
	if (dladdr((void *)(uintptr_t)mdb_cursor_get, &di) != 0 && di.dli_fbase != NULL)
		(void)dl_iterate_phdr(find_text, di.dli_fbase);
}

/* The mapping of the file (dev, ino) in this process: [*lo, *hi) from /proc/self/maps
   ("lo-hi perms offset major:minor inode path"). */
static int mapping_of(dev_t dev, ino_t ino, uintptr_t *lo, uintptr_t *hi)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	unsigned long a, b, i;
	unsigned maj, min;
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%lx-%lx %*s %*s %x:%x %lu", &a, &b, &maj, &min, &i) == 5 && i == (unsigned long)ino &&
		    maj == major(dev) && min == minor(dev)) {
			*lo = a;
			*hi = b;
			found = 1;
		}
	fclose(f);
	return found;
}

/* LMDB does not tell where it mapped the file (mdb_env_info's address is the meta's, 0): find
   data.mdb's mapping by its inode, without reading anything of the store (it may be damaged). */
int ca_st_fault_register(MDB_env *env)
{
	struct stat sb;
	mdb_filehandle_t fd;
	uintptr_t lo = 0, hi = 0, zero;

	lmdb_text_once();
	if (mdb_env_get_fd(env, &fd) != MDB_SUCCESS || fstat(fd, &sb) != 0 || !mapping_of(sb.st_dev, sb.st_ino, &lo, &hi))
		return -1;
	for (int i = 0; i < FAULT_SLOTS; i++) {
		zero = 0;
		/* claim a free slot by its hi word, then publish lo: a reader may see hi set and lo 0
		   for a moment, which only widens the range while the slot is being filled */
		if (__atomic_compare_exchange_n(&slot_hi[i], &zero, hi, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
			__atomic_store_n(&slot_lo[i], lo, __ATOMIC_SEQ_CST);
			return i;
		}
	}
	return -1; /* more than 16 stores open at once: faults there are reported as crashes */
}

void ca_st_fault_unregister(int slot)
{
	if (slot < 0 || slot >= FAULT_SLOTS)
		return;
	__atomic_store_n(&slot_lo[slot], (uintptr_t)0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&slot_hi[slot], (uintptr_t)0, __ATOMIC_SEQ_CST);
}

int ca_store_addr_in_map(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	for (int i = 0; i < FAULT_SLOTS; i++) {
		uintptr_t hi = __atomic_load_n(&slot_hi[i], __ATOMIC_SEQ_CST);
		uintptr_t lo = __atomic_load_n(&slot_lo[i], __ATOMIC_SEQ_CST);

		if (hi != 0 && a >= lo && a < hi)
			return 1;
	}
	return 0;
}

int ca_store_pc_in_lmdb(const void *pc)
{
	uintptr_t a = (uintptr_t)pc, hi = __atomic_load_n(&lmdb_hi, __ATOMIC_SEQ_CST);
	int open = 0;

	for (int i = 0; i < FAULT_SLOTS; i++)
		open |= __atomic_load_n(&slot_hi[i], __ATOMIC_SEQ_CST) != 0;
	return open && hi != 0 && a >= __atomic_load_n(&lmdb_lo, __ATOMIC_SEQ_CST) && a < hi;
}

void ca_store_on_damage(void (*fn)(const char *what))
{
	__atomic_store_n(&damage_fn, fn, __ATOMIC_SEQ_CST);
}

void ca_st_fault_assert_cb(MDB_env *env, const char *msg)
{
	void (*fn)(const char *) = __atomic_load_n(&damage_fn, __ATOMIC_SEQ_CST);

	(void)env;
	if (fn != NULL)
		fn(msg); /* the program's handler does not return; without one LMDB aborts */
}
