/* imagefmt/bootstrap.h: base images made from the host, without a registry. */
#ifndef NOOK_IMAGEFMT_BOOTSTRAP_H
#define NOOK_IMAGEFMT_BOOTSTRAP_H

#include <stdint.h>

#include "imagefmt/store.h"
#include "util/error.h"

/* Check that `path` is a statically linked ELF executable (busybox-static). */
int imagefmt_bootstrap_check_static (const char *path, nook_error_t *err);

/* Build a busybox base image from the host's statically linked busybox at
 * `busybox` (NULL = /bin/busybox): /bin/busybox, one symlink per applet,
 * /etc/passwd and /etc/group (root, nobody, user 1000), the usual directories.
 * Reproducible: the same busybox and `created` (seconds since the epoch) give the
 * same image ID.  Tagged `ref` (NULL = "busybox:latest"); *id_out gets the ID. */
int imagefmt_bootstrap_busybox (struct imagefmt_store *s, const char *busybox, const char *ref,
                                int64_t created, char **id_out, nook_error_t *err);

#endif
