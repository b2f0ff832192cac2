/*
 * store_copy.h - file helpers of backup and restore (store_copy.c). Internal to core/.
 */
#ifndef OFFCA_STORE_COPY_H
#define OFFCA_STORE_COPY_H

#include "offca/err.h"

/* Copy what a CA home holds besides its store (config.json, outbox/, ...) from src into the
   existing directory dst: regular files (mode kept, at most 0700 bits) and directories, each
   fsynced; symbolic links and special files are not copied. Never overwrites (OFFCA_E_EXISTS). */
offca_rc ca_st_copy_home_files(const char *src, const char *dst);
/* Whether a top-level entry of a home is left out of copies: store, lock, .restore*, .backup*. */
int ca_st_copy_skips(const char *name);
/* fsync a file or directory by path. */
offca_rc ca_st_sync_path(const char *path);
/* Remove path and everything under it (best effort, never follows symbolic links). */
void ca_st_remove_tree(const char *path);

#endif
