/* sandbox/rootfs.h: storage drivers (native overlay in the user namespace,
 * fuse-overlayfs, copy-up), their names and the probe that picks one. */
#ifndef NOOK_SANDBOX_ROOTFS_H
#define NOOK_SANDBOX_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>

#include "sandbox/spec.h"
#include "util/error.h"

const char *sandbox_storage_name (enum storage_driver d);
/* "overlay", "fuse-overlayfs", "copy-up" (also "vfs" for copy-up); error names the value. */
int sandbox_storage_parse (const char *name, enum storage_driver *out, nook_error_t *err);

/* Find the first driver that works here, trying each inside a user namespace
 * mapped by `ids` in scratch directories under `workdir` (which must be on the
 * store's filesystem).  `why` (may be NULL) gets a malloc'd note on what failed. */
int sandbox_storage_probe (const struct nook_idmapping *ids, const char *workdir,
                           enum storage_driver *out, char **why, nook_error_t *err);

/* 0 when driver d can use a store at path; fuse-overlayfs cannot when it contains ',', ':'
 * or '\\' (the error says so and what to do).  Overlay and copy-up take any path. */
int sandbox_storage_check_path (enum storage_driver d, const char *path, nook_error_t *err);

/* Is fuse-overlayfs usable (binary found, /dev/fuse openable)? */
bool sandbox_storage_fuse_available (char **path);
/* Why fuse-overlayfs is not usable (malloc'd: not installed, or /dev/fuse
 * missing or not readable and writable by us, with its mode and owner), or
 * NULL when it is. */
char *sandbox_storage_fuse_problem (void);

/* "lowerdir=/proc/self/fd/L1:...,upperdir=/proc/self/fd/U,workdir=/proc/self/fd/W" for
 * overlay and fuse-overlayfs (lower[0] is the top layer): directories named by fd, so that
 * any store path works (both split their options on ',' and ':'). */
char *sandbox_overlay_options (const int *lower, size_t n_lower, int upper, int work);

#endif
