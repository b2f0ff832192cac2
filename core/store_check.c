/*
 * store_check.c - a structural check of LMDB's two meta pages before the file is mapped.
 *
 * LMDB keeps no checksums: it trusts the meta page with the larger transaction id and follows
 * its root page numbers. A bit flipped there makes liblmdb read a wrong tree (an older snapshot,
 * a page that is not a tree page) or fault. The meta pages are the part of data.mdb every read
 * starts from, and they have a fixed layout (LMDB 0.9, lmdb.h's MDB_meta on a 64-bit build):
 *
 *   page header: u64 pgno | u16 pad | u16 flags (P_META 0x08) | u32 lower/upper
 *   meta at 16:  u32 magic 0xBEEFC0DE | u32 version 1 | ptr address | size mapsize |
 *                MDB_db free (at 40), MDB_db main (at 88) | u64 last_pg (136) | u64 txnid (144)
 *   MDB_db:      u32 pad (free db: page size) | u16 flags | u16 depth | u64 branch | u64 leaf |
 *                u64 overflow | u64 entries | u64 root (P_INVALID = ~0: empty)
 *
 * What this cannot see (a flipped bit inside a tree page or a record) is left to the fault
 * handler of the command line (ca_store_addr_in_map) and to the decoders of store_*.c and
 * record_codec.c, which check every length they read. See docs/store.md, "Damage".
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define META_MAGIC   0xBEEFC0DEu
#define META_VERSION 1u
#define META_BYTES   152u
#define P_BRANCH     0x01u
#define P_LEAF       0x02u
#define P_META       0x08u
#define PGNO_INVALID UINT64_MAX
#define MAX_DEPTH    32u

static uint64_t le64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8); /* LMDB writes host order: the store is not portable between byte orders */
	return v;
}

static uint32_t le32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t le16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static offca_rc damaged(const char *dir, int meta, const char *what)
{
	return ut_err(OFFCA_E_DAMAGED, "the store is damaged: see offca restore (%s/data.mdb: meta page %d: %s)",
		      dir, meta, what);
}

/* One B-tree descriptor (48 bytes at d) with its expected flags (the free list's keys are
   integers: MDB_INTEGERKEY) of a meta whose last page is last. */
static const char *check_db(const unsigned char *d, uint16_t flags, uint64_t last)
{
	uint16_t depth = le16(d + 6);
	uint64_t root = le64(d + 40), pages = le64(d + 8) + le64(d + 16) + le64(d + 24);

	if (le16(d + 4) != flags)
		return "unexpected database flags";
	if (root == PGNO_INVALID)
		return depth == 0 && pages == 0 ? NULL : "an empty tree with pages";
	if (root < 2 || root > last)
		return "root page outside the file";
	if (depth == 0 || depth > MAX_DEPTH || pages == 0 || pages > last)
		return "impossible tree depth or page counts";
	/* one level: the root is a leaf; more: at least one branch page per level above the leaves */
	if ((depth == 1) != (le64(d + 8) == 0) || le64(d + 8) < (uint64_t)depth - 1)
		return "tree depth does not match its branch pages";
	return NULL;
}

static const char *check_meta(const unsigned char *m, unsigned idx, uint64_t psize, uint64_t file_size)
{
	const unsigned char *mm = m + 16;
	uint64_t last = le64(mm + 120), txnid = le64(mm + 128);
	const char *why;

	if (le64(m) != idx || (le16(m + 10) & 0xffffu) != P_META)
		return "not a meta page";
	if (le32(mm) != META_MAGIC || le32(mm + 4) != META_VERSION)
		return "bad magic or version";
	if (le32(mm + 24) != psize)
		return "page sizes differ";
	if (le64(mm + 8) != 0)
		return "unexpected fixed map address";
	if (last < 1 || last > file_size / psize - 1)
		return "last page outside the file";
	if (txnid != 0 && (txnid & 1u) != idx)
		return "transaction id of the other meta page";
	why = check_db(mm + 24, MDB_INTEGERKEY, last);
	return why ? why : check_db(mm + 72, 0, last);
}

/* The root page of the tree at d (48 bytes of a meta) carries its own number and is a leaf
   (depth 1) or a branch page. */
static const char *check_root(int fd, const unsigned char *d, uint64_t psize)
{
	unsigned char h[16];
	uint64_t root = le64(d + 40);
	uint16_t want = le16(d + 6) == 1 ? P_LEAF : P_BRANCH;

	if (root == PGNO_INVALID)
		return NULL;
	if (pread(fd, h, sizeof(h), (off_t)(root * psize)) != (ssize_t)sizeof(h))
		return "root page unreadable";
	if (le64(h) != root || le16(h + 10) != want)
		return "root page is not the root of that tree";
	return NULL;
}

static const char *check_roots(int fd, const unsigned char *m, uint64_t psize)
{
	const char *why = check_root(fd, m + 16 + 24, psize);

	return why ? why : check_root(fd, m + 16 + 72, psize);
}

static offca_rc read_at(int fd, unsigned char *buf, size_t n, off_t off, const char *dir)
{
	ssize_t got = pread(fd, buf, n, off);

	if (got == (ssize_t)n)
		return OFFCA_OK;
	if (got < 0)
		return ut_err(OFFCA_E_IO, "reading %s/data.mdb: %s", dir, strerror(errno));
	return damaged(dir, off == 0 ? 0 : 1, "the file is shorter than its meta pages");
}

static offca_rc check_fd(int fd, const char *dir)
{
	unsigned char m0[META_BYTES], m1[META_BYTES];
	struct stat sb;
	uint64_t psize, t0, t1;
	const char *why;
	offca_rc rc;

	if (fstat(fd, &sb) != 0)
		return ut_err(OFFCA_E_IO, "%s/data.mdb: %s", dir, strerror(errno));
	rc = read_at(fd, m0, sizeof(m0), 0, dir);
	if (rc != OFFCA_OK)
		return rc;
	psize = le32(m0 + 16 + 24);
	if (psize < 512 || psize > 65536 || (psize & (psize - 1)) != 0)
		return damaged(dir, 0, "impossible page size");
	rc = read_at(fd, m1, sizeof(m1), (off_t)psize, dir);
	if (rc != OFFCA_OK)
		return rc;
	if ((why = check_meta(m0, 0, psize, (uint64_t)sb.st_size)) != NULL)
		return damaged(dir, 0, why);
	if ((why = check_meta(m1, 1, psize, (uint64_t)sb.st_size)) != NULL)
		return damaged(dir, 1, why);
	/* each meta's two roots are pages of that kind: LMDB never reuses a page of the older
	   meta's tree before the meta after it is written, so both trees are intact */
	if ((why = check_roots(fd, m0, psize)) != NULL)
		return damaged(dir, 0, why);
	if ((why = check_roots(fd, m1, psize)) != NULL)
		return damaged(dir, 1, why);
	/* LMDB writes the metas in turn: their transaction ids are consecutive (both 0 when new) */
	t0 = le64(m0 + 16 + 128);
	t1 = le64(m1 + 16 + 128);
	if (t0 + 1 != t1 && t1 + 1 != t0 && !(t0 == 0 && t1 == 0))
		return damaged(dir, t0 > t1 ? 0 : 1, "transaction ids are not consecutive");
	return OFFCA_OK;
}

offca_rc ca_st_check_meta(const char *store_dir)
{
	char p[STORE_MAX_PATH];
	offca_rc rc;
	int fd, n = snprintf(p, sizeof(p), "%s/data.mdb", store_dir);

	if (n < 0 || (size_t)n >= sizeof(p))
		return ut_err(OFFCA_E_TOO_BIG, "CA home path too long");
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return ut_err(OFFCA_E_STATE, "%s holds no CA store (no data.mdb): see offca restore", store_dir);
		return ut_err(errno == EACCES ? OFFCA_E_PERM : OFFCA_E_IO, "cannot open %s: %s", p, strerror(errno));
	}
	rc = check_fd(fd, store_dir);
	close(fd);
	return rc;
}
