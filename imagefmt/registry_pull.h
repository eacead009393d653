/* imagefmt/registry_pull.h: pull and push of images between the store and registries.
 *
 * Pull: the manifest (an index resolved to the platform asked for, default this
 * machine's), then the config and the layers the store lacks, several at a time, each
 * streamed through digest and size verification into the store (store_blob.h); every
 * layer's uncompressed digest is checked against the config's diff_ids before the
 * image is added and tagged.  Mirrors are tried first, in order, then the registry;
 * any failure of one source moves on to the next, and when all fail the error names
 * each.
 *
 * Push: the blobs the registry lacks (HEAD), mounted from another repository of the
 * same registry that holds them when the store knows one, else uploaded as stored (a
 * pulled image is pushed with its compressed blobs unchanged), then the manifest. */
#ifndef NOOK_IMAGEFMT_REGISTRY_PULL_H
#define NOOK_IMAGEFMT_REGISTRY_PULL_H

#include <stdbool.h>
#include <stdint.h>

#include "imagefmt/manifest.h"
#include "imagefmt/registry.h"
#include "imagefmt/store.h"
#include "util/error.h"

/* Progress, in Docker's words: id is a layer's short digest (12 hex) or NULL for the
 * image; status "Pulling fs layer", "Already exists", "Downloading", "Verifying
 * Checksum", "Download complete", "Pull complete"; "Preparing", "Layer already exists",
 * "Mounted from REPO", "Pushing", "Pushed"; current/total bytes while moving data (-1
 * otherwise).  Calls are serialised (never two at once). */
typedef void (*imagefmt_progress_fn) (void *data, const char *id, const char *status,
                                      int64_t current, int64_t total);

/* A place to pull from: an endpoint for imagefmt_registry_open (url, auth_key) and the
 * repository there. */
struct imagefmt_pull_source
{
  const char *url, *auth_key, *repo;
};

struct imagefmt_pull_opts
{
  const struct imagefmt_platform *platform; /* NULL: this machine's */
  struct imagefmt_registry_opts reg;
  char *const *mirrors; /* endpoints tried before the registry (may be NULL) */
  /* when not NULL (ended by a NULL url): the places tried, in order, instead of the
   * mirrors and the registry; the image is still stored under ref */
  const struct imagefmt_pull_source *sources;
  int parallel; /* layers at once; 0: 3 */
  imagefmt_progress_fn progress;
  void *data;
};

struct imagefmt_pull_result
{
  char *ref;             /* the full reference tagged (or name@digest) */
  char *manifest_digest; /* of the image manifest stored */
  char *digest;          /* what the tag pointed at (an index's digest for multi-arch) */
  char *id;              /* the image ID (config digest) */
  char *source;          /* the endpoint it came from */
  bool up_to_date;       /* the store had it already */
};
void imagefmt_pull_result_clear (struct imagefmt_pull_result *r);

/* Pull ref (any form imagefmt_ref_parse takes).  Errors: EHOSTUNREACH/ETIMEDOUT when no
 * source could be reached, EACCES unauthorized, ENOENT not found, EIO corrupt data. */
int imagefmt_pull (struct imagefmt_store *s, const char *ref, const struct imagefmt_pull_opts *o,
                   struct imagefmt_pull_result *out, nook_error_t *err);

struct imagefmt_push_opts
{
  struct imagefmt_registry_opts reg;
  const char *format; /* NULL: as stored; IMAGEFMT_MT_OCI_MANIFEST or _DOCKER_MANIFEST */
  int parallel;
  imagefmt_progress_fn progress;
  void *data;
};

/* Push the store's image `image` (a reference or ID) to dest (a reference; NULL = the
 * image's own reference).  *digest_out (may be NULL) gets the manifest digest pushed,
 * *size_out its size. */
int imagefmt_push (struct imagefmt_store *s, const char *image, const char *dest,
                   const struct imagefmt_push_opts *o, char **digest_out, size_t *size_out,
                   nook_error_t *err);

#endif
