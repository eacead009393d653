/* sandbox/rootfs.h: storage drivers (native overlay in the user namespace,
 * fuse-overlayfs, copy-up), their names and the probe that picks one. */
#ifndef NOOK_SANDBOX_ROOTFS_H
#define NOOK_SANDBOX_ROOTFS_H

#include <stdbool.h>

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

/* Is fuse-overlayfs usable (binary found, /dev/fuse openable)? */
bool sandbox_storage_fuse_available (char **path);
/* Why fuse-overlayfs is not usable (malloc'd: not installed, or /dev/fuse
 * missing or not readable and writable by us, with its mode and owner), or
 * NULL when it is. */
char *sandbox_storage_fuse_problem (void);

/* The lowerdir= list for overlay (top layer first), escaped; NULL if a path
 * cannot be expressed. */
char *sandbox_overlay_lowerdir (char *const *layers, nook_error_t *err);

#endif
