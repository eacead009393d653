/* imagefmt/store_check.h: the store's own health and disk use: `nook system check`,
 * `nook system df`, `nook image prune`.
 *
 * check, under the store lock: every blob is hashed against its name; every index entry
 * must reach a readable manifest, config and every layer blob; layers/ must hold only
 * complete unpacked layers (<chain>.done beside <chain>/).  Problems (what breaks an
 * image) and garbage (leftovers of interrupted writes, unreferenced blobs and unpacked
 * layers: harmless, reclaimable) are reported apart.  With repair, broken index entries
 * and corrupt blobs are removed, and so is the garbage. */
#ifndef NOOK_IMAGEFMT_STORE_CHECK_H
#define NOOK_IMAGEFMT_STORE_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imagefmt/store.h"
#include "util/error.h"

struct imagefmt_check_opts
{
  bool repair;
  /* One line each: kind is "problem", "garbage" or "repaired". */
  void (*report) (void *data, const char *kind, const char *what);
  void *data;
};

struct imagefmt_check_result
{
  size_t problems, garbage, repaired;
  size_t blobs, images;
  uint64_t garbage_bytes;
};

int imagefmt_store_check (struct imagefmt_store *s, const struct imagefmt_check_opts *o,
                          struct imagefmt_check_result *res, nook_error_t *err);

/* Disk use (`system df`).  in_use tells whether a container uses an image ID. */
struct imagefmt_df
{
  size_t images, images_active;
  uint64_t images_size, images_reclaimable; /* blob bytes */
  size_t layers, layers_active;
  uint64_t layers_size, layers_reclaimable; /* unpacked files' bytes */
};
int imagefmt_store_df (struct imagefmt_store *s, bool (*in_use) (void *data, const char *image_id),
                       void *data, struct imagefmt_df *out, nook_error_t *err);

/* Apparent size of the regular files under dirfd/name (directories it cannot enter are
 * skipped). */
uint64_t imagefmt_tree_size (int dirfd, const char *name);

/* `image prune`: dangling images (no tag), or with all every image no container uses,
 * each removed as imagefmt_store_remove does (its report and container_using apply;
 * force is ignored).  *reclaimed gets the bytes of blobs and unpacked layers freed. */
int imagefmt_store_prune (struct imagefmt_store *s, bool all, const struct imagefmt_remove_opts *o,
                          uint64_t *reclaimed, nook_error_t *err);

#endif
