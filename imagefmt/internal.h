/* imagefmt/internal.h: declarations shared by store.c, store_import.c and
 * store_remove.c; not part of the module's API. */
#ifndef NOOK_IMAGEFMT_INTERNAL_H
#define NOOK_IMAGEFMT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

#include "imagefmt/store.h"
#include "util/error.h"

#define ANN_REF "org.opencontainers.image.ref.name"
#define ANN_SIZE "io.github.nook.uncompressed-size"
#define ANN_REPO_DIGEST "io.github.nook.repo-digest"
#define MAX_JSON (16u << 20)

struct imagefmt_store
{
  char *root;
  int rootfd, blobsfd, layersfd, lockfd;
  int lockdepth;
  struct imagefmt_store_hooks hooks;
};

static inline void
cleanup_jsonp (json_t **j)
{
  if (*j)
    json_decref (*j);
}
#define cleanup_json __attribute__ ((cleanup (cleanup_jsonp)))

static inline void
cleanup_imagep (struct imagefmt_image **i)
{
  imagefmt_image_free (*i);
}
#define cleanup_image __attribute__ ((cleanup (cleanup_imagep)))

static inline void
cleanup_unlockp (struct imagefmt_store **s)
{
  if (*s)
    imagefmt_store_unlock (*s);
}
#define cleanup_unlock __attribute__ ((cleanup (cleanup_unlockp)))

/* ---- blobs (store.c) ---- */

/* Whether blobs/sha256/<hex> exists. */
bool store_blob_exists (struct imagefmt_store *s, const char *hex);
/* Read the blob `digest` (at most max bytes) and verify its content against it. */
int store_read_blob (struct imagefmt_store *s, const char *digest, size_t max, char **out,
                     size_t *len, nook_error_t *err);
/* The same, parsed as a JSON object. */
int store_read_blob_json (struct imagefmt_store *s, const char *digest, json_t **out,
                          nook_error_t *err);
/* Compact JSON text with sorted keys (aborts on OOM).  Caller frees. */
char *store_dump_json (const json_t *j);
/* Unlink the blob `digest` if it is a valid digest; errors are ignored. */
void store_remove_blob (struct imagefmt_store *s, const char *digest);

/* ---- uncompressed sizes of compressed layer blobs (store_sizes.c) ---- */

/* Record, read, forget the uncompressed size of layer blob `blob` (a hint: errors are
 * ignored, a missing record is false). */
/* Whether layers/<name> is the directory of an unpack still running (it is flocked). */
bool store_layer_tmp_in_use (int layersfd, const char *name);
/* Remove layers/<name>, a directory of an unpack, where its files' owners can be removed. */
int store_remove_layer_tmp (struct imagefmt_store *s, const char *name, nook_error_t *err);
void store_layer_size_put (struct imagefmt_store *s, const char *blob, uint64_t size);
bool store_layer_size_get (struct imagefmt_store *s, const char *blob, uint64_t *size);
void store_layer_size_remove (struct imagefmt_store *s, const char *blob);
/* A layer descriptor's uncompressed size: its annotation, else the record, else the blob's
 * own size. */
uint64_t store_layer_usize (struct imagefmt_store *s, json_t *l);
/* Records whose blob is gone: counted, and removed with repair. */
int store_layer_sizes_sweep (struct imagefmt_store *s, bool repair);
/* The same for any directory of the store whose entries are named by blob hex. */
int store_sweep_by_blob (struct imagefmt_store *s, const char *dir, bool repair);

/* ---- the index (store.c) ---- */

/* Load index.json (an empty index when it does not exist yet). */
int store_load_index (struct imagefmt_store *s, json_t **out, nook_error_t *err);
/* Replace index.json atomically. */
int store_save_index (struct imagefmt_store *s, json_t *idx, nook_error_t *err);
/* An index entry's reference annotation, or NULL. */
const char *store_entry_ref (json_t *e);
/* An index entry's digest when valid, or NULL. */
const char *store_entry_digest (json_t *e);

/* Whether an entry of the index's manifests has this digest (store_import.c). */
bool store_index_has (json_t *manifests, const char *digest);
/* Tag digest as ref in an index's manifests (an older entry of ref untagged, left
 * dangling when nothing else names its manifest); a new entry gets media_type (NULL:
 * OCI's manifest type).  (store_import.c) */
/* Record on the entry tagged ref the digest its registry gave for it (RepoDigests). */
void store_index_set_repo_digest (json_t *manifests, const char *ref, const char *digest);
/* That digest, or NULL. */
const char *store_entry_repo_digest (json_t *e);
void store_index_tag (json_t *manifests, const char *ref, const char *digest, size_t size,
                      const char *media_type);

/* ---- images (store.c) ---- */

/* The digests of a JSON array (of objects' `key`, or of strings when key is NULL),
 * each validated; `what` names the array in errors. */
int store_digest_array (json_t *arr, const char *key, const char *what, char ***out,
                        nook_error_t *err);

/* The config digest a manifest names (not validated), or NULL. */
const char *store_manifest_config (json_t *m);
/* Load the image whose manifest is `mdigest`; ref (may be NULL) is copied into it. */
int store_load_image (struct imagefmt_store *s, const char *mdigest, const char *ref,
                      struct imagefmt_image **out, nook_error_t *err);
/* The config digest of an index entry's image, or NULL.  Caller frees. */
char *store_entry_config_digest (struct imagefmt_store *s, json_t *e);
/* Index of the entry `ref` names, by reference or ID prefix; -1 not found, -2 error. */
ssize_t store_find_entry (struct imagefmt_store *s, json_t *manifests, const char *ref, bool *by_id,
                          nook_error_t *err);
/* The entry of idx's manifests that `ref` names (its position in *at), or
 * NULL with "No such image: REF" (ENOENT) or another error. */
json_t *store_image_entry (struct imagefmt_store *s, json_t *idx, const char *ref, bool *by_id,
                           ssize_t *at, nook_error_t *err);

/* ---- images in use (store_hold.c) ---- */

/* images.lock taken with op (LOCK_SH or LOCK_EX): the fd, closing it unlocks. */
int store_images_lock (struct imagefmt_store *s, int op, nook_error_t *err);
/* The container using image_id by the records (o->container_using), or NULL;
 * *running tells whether it runs. */
char *store_image_user (const struct imagefmt_remove_opts *o, const char *image_id, bool *running);

/* ---- removal (store_remove.c) ---- */

/* imagefmt_store_remove with images.lock taken exclusive and the store lock held;
 * *images_lock (when not NULL) is closed once the index is saved. */
int store_remove_locked (struct imagefmt_store *s, const char *ref,
                         const struct imagefmt_remove_opts *o, int *images_lock, nook_error_t *err);

/* ---- the run cache (store_runcache.c) ---- */

/* The image of manifest `mdigest` from its run cache entry; -1 when there is none
 * usable (missing, cut short, another format: the caller loads it from the blobs). */
int store_run_cache_load (struct imagefmt_store *s, const char *mdigest, const char *ref,
                          struct imagefmt_image **out);
/* Write img's entry, reading its files through dirs (errors are ignored: a cache). */
void store_run_cache_save (struct imagefmt_store *s, struct imagefmt_image *img, char *const *dirs);
/* Forget the entry of manifest `mdigest` (with the image). */
void store_run_cache_remove (struct imagefmt_store *s, const char *mdigest);
/* Entries whose manifest is gone (and leftovers of interrupted writes): counted, and
 * removed with repair. */
int store_run_cache_sweep (struct imagefmt_store *s, bool repair);

/* ---- unpacked layers (store.c) ---- */

/* The chain IDs of diff_ids, bottom first, NULL-terminated.  Free with strv_free. */
char **store_chain_ids (char *const *diff_ids);
/* Remove layers/<hex> and its .done marker (via the hooks). */
int store_remove_layer_dir (struct imagefmt_store *s, const char *hex, nook_error_t *err);

/* ---- a saved archive's output (archive_out.c) ---- */

struct archive;
struct archive_out;
/* Open the tar writer a on fd (libarchive loaded): a regular file is written around the
 * page cache (O_DIRECT) where the file system allows it, fd's flags restored at the end;
 * -1 with err set when libarchive refuses.  *out is set either way: free it after a is
 * freed (libarchive's close, which may come from archive_write_free, uses it). */
int imagefmt_archive_out_open (struct archive *a, int fd, struct archive_out **out,
                               nook_error_t *err);
/* The errno of the write that failed, or 0. */
int imagefmt_archive_out_error (const struct archive_out *o);
void imagefmt_archive_out_free (struct archive_out *o);

#endif
