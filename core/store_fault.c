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

/* The mapping of this process that holds p: [*lo, *hi) from /proc/self/maps. */
static int mapping_of(const void *p, uintptr_t *lo, uintptr_t *hi)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	unsigned long a, b;
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && (uintptr_t)p >= a && (uintptr_t)p < b) {
			*lo = a;
			*hi = b;
			found = 1;
		}
	fclose(f);
	return found;
}

/* LMDB does not tell where it mapped the file (mdb_env_info's address is the meta's, 0): take
   the mapping that holds the first value of db (any value LMDB returns points into its map). */
int ca_st_fault_register(MDB_env *env, MDB_dbi db)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uintptr_t lo = 0, hi = 0, zero;
	int found = 0;

	lmdb_text_once();
	if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != MDB_SUCCESS)
		return -1;
	if (mdb_cursor_open(txn, db, &cur) == MDB_SUCCESS && mdb_cursor_get(cur, &k, &v, MDB_FIRST) == MDB_SUCCESS)
		found = mapping_of(v.mv_data, &lo, &hi);
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (!found)
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
