/* imagefmt/store.h: the local OCI content store.
 *
 * Layout under the root (--root, $NOOK_ROOT, $XDG_DATA_HOME/nook, ~/.local/share/nook):
 *   blobs/sha256/<hex>   content-addressed blobs (manifests, configs, layer tars)
 *   index.json           OCI image index; each manifest carries the annotation
 *                        org.opencontainers.image.ref.name = full normalised reference
 *   layers/<chain-hex>/  unpacked layers, shared; layers/<chain-hex>.done marks completion
 *   lock                 flock(2) for writers
 *   containers/ ...      owned by others. */
#ifndef NOOK_IMAGEFMT_STORE_H
#define NOOK_IMAGEFMT_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "util/error.h"

struct imagefmt_store;

/* Hooks the caller (cmd/) may set so extraction and removal run where they can
 * chown to the image's ids (a user namespace of the caller's); NULL call = run
 * in-process.  `fn` runs in a forked child when call != NULL, so it must report
 * only through its return value and err. */
struct imagefmt_store_hooks
{
  int (*call) (void *data, int (*fn) (void *arg, nook_error_t *err), void *arg, nook_error_t *err);
  void *data;
};

/* Open (creating the directories) the store at root, NULL = the default. */
int imagefmt_store_open (const char *root, struct imagefmt_store **out, nook_error_t *err);
void imagefmt_store_close (struct imagefmt_store *s);
void imagefmt_store_set_hooks (struct imagefmt_store *s, const struct imagefmt_store_hooks *hooks);
/* The absolute path of the store root. */
const char *imagefmt_store_root (const struct imagefmt_store *s);
/* The default root (NULL = none could be found: no $HOME). Caller frees. */
char *imagefmt_store_default_root (nook_error_t *err);

/* Take (exclusive) or release the store's writer lock; recursive within one store
 * handle.  Commands that change the store take it; the functions below that write
 * take it themselves. */
int imagefmt_store_lock (struct imagefmt_store *s, nook_error_t *err);
void imagefmt_store_unlock (struct imagefmt_store *s);
/* In a child forked to work beside its parent (a build's parallel stage): forget the
 * parent's open lock file, whose flock the two would share; the child opens its own. */
void imagefmt_store_forked (struct imagefmt_store *s);

struct imagefmt_image
{
  char *ref;             /* normalised reference as stored, "docker.io/library/busybox:latest";
                            NULL when looked up by ID and the image has no tag */
  char *id;              /* config digest "sha256:..." (Docker's image ID) */
  char *manifest_digest; /* "sha256:..." */
  json_t *config;        /* the whole image config JSON (owned) */
  char **layers;         /* layer blob digests, bottom first, NULL-terminated */
  char **diff_ids;       /* uncompressed layer digests, NULL-terminated */
  char **chain_ids;      /* NULL, or the layers' chain IDs when read from the run cache */
  json_t *run_files;     /* NULL, or the files a run reads, from the run cache (below) */
};

/* Look up by reference (short or full), by full ID or by a unique ID prefix (as
 * Docker).  Not found: code ENOENT, message "No such image: <ref>". */
int imagefmt_store_lookup (struct imagefmt_store *s, const char *ref, struct imagefmt_image **out,
                           nook_error_t *err);
void imagefmt_image_free (struct imagefmt_image *img);

/* Make sure every layer is unpacked (extracting missing ones once, via the hooks)
 * and return their absolute directory paths, bottom first, NULL-terminated.  An image
 * that did not come from the run cache gets its entry there (and img->run_files). */
int imagefmt_store_layer_dirs (struct imagefmt_store *s, struct imagefmt_image *img, char ***dirs,
                               nook_error_t *err);

/* The same for a layer list that is not (yet) an image's (a build's intermediate
 * layers: blob digests and diff IDs, bottom first); no run cache entry is made. */
int imagefmt_store_unpack_layers (struct imagefmt_store *s, char *const *layers,
                                  char *const *diff_ids, char ***dirs, nook_error_t *err);

/* Run fn where the store's hooks run extraction (a user namespace mapped like the
 * containers'), or in-process without hooks. */
int imagefmt_store_call (struct imagefmt_store *s, int (*fn) (void *arg, nook_error_t *err),
                         void *arg, nook_error_t *err);
/* Unpack the layer blob `blob` as the layer whose chain ID is `chain`, checking that its
 * uncompressed content has digest diff_id (NULL: not checked) in the same pass; only
 * then do layers/<hex> and its .done marker appear, and the uncompressed size is
 * recorded.  Unpacks may run side by side (threads of a pull, other processes): each
 * extracts into its own flocked layers/.tmp-<hex>-<pid>-<n>, renamed in under the store
 * lock; when another got there first, its directory stays and this one is dropped.
 * Directories of interrupted unpacks are swept then (and by `system check`). */
int imagefmt_store_unpack_layer (struct imagefmt_store *s, const char *blob, const char *chain,
                                 const char *diff_id, nook_error_t *err);

/* ---- the run cache (store_runcache.c) ----
 *
 * What `nook run` needs of an image, read once per manifest (an image and its unpacked
 * layers never change): cache/run/<manifest hex> holds the image ID, config, layer
 * digests and chain IDs, and the texts of the files a run reads through the layers
 * (/etc/passwd, /etc/group; absent ones as null).  imagefmt_store_lookup_hold reads it
 * instead of the manifest and config; imagefmt_store_layer_dirs writes it. */

/* An image file as imagefmt_layers_read_file (layer.h) reads it through dirs (the
 * image's layer dirs), from img->run_files when they have it.  Absent: ENOENT. */
int imagefmt_image_read_file (const struct imagefmt_image *img, char *const *dirs, const char *path,
                              size_t max, char **out, nook_error_t *err);

/* One tagged (or dangling) image as `nook images` lists it. */
struct imagefmt_listing
{
  char *ref; /* full normalised reference, or NULL (dangling) */
  char *id;  /* config digest */
  char *manifest_digest;
  char *repo_digest; /* the registry's digest for a pulled tag (images --digests), or NULL */
  int64_t created;   /* seconds since the epoch, from the config (0 if absent) */
  uint64_t size;     /* sum of the layers' uncompressed sizes (as Docker's SIZE) */
};
/* All references in index order; *n set to the count.  Free with imagefmt_listing_free. */
int imagefmt_store_list (struct imagefmt_store *s, struct imagefmt_listing **out, size_t *n,
                         nook_error_t *err);
void imagefmt_listing_free (struct imagefmt_listing *l, size_t n);

/* Put a blob in the store, verifying the digest when `expect` is non-NULL; *digest_out
 * (may be NULL) gets "sha256:...". */
int imagefmt_store_put_blob (struct imagefmt_store *s, const void *data, size_t len,
                             const char *expect, char **digest_out, nook_error_t *err);

/* Import a root filesystem tarball (plain or gzip, detected by magic; fd is read to
 * its end) as a one-layer image with the given config (NULL = a default config for
 * this host; copied, its rootfs and history are filled in) and tag it `ref` (NULL =
 * untagged).  *id_out (may be NULL) gets the image ID.  Nothing half-written is left on
 * failure. */
int imagefmt_store_import_tar (struct imagefmt_store *s, int fd, const json_t *config,
                               const char *ref, char **id_out, nook_error_t *err);

/* The OCI architecture name of this machine ("amd64" for x86_64). */
const char *imagefmt_store_arch (void);
/* A minimal image config: architecture, os linux, `created` (seconds since the epoch,
 * as RFC 3339), empty "config", one history entry with `comment` (may be NULL). */
json_t *imagefmt_store_default_config (int64_t created, const char *comment);

/* Point `ref` at the image whose manifest is `manifest_digest` (replacing an older tag). */
/* Record digest as the registry's digest of the tag ref (Docker's RepoDigests), after a
 * push of it: nothing when ref is not a tag of the store. */
int imagefmt_store_set_repo_digest (struct imagefmt_store *s, const char *ref, const char *digest,
                                    nook_error_t *err);
int imagefmt_store_tag (struct imagefmt_store *s, const char *ref, const char *manifest_digest,
                        nook_error_t *err);

/* ---- images in use ----
 *
 * A run holds its image from the moment it resolves it until the record of its
 * container (which names the image and the running nook) is written, so that no rmi
 * removes the layers it is starting from: images.lock, taken shared by the run around
 * that span, exclusive by rmi and prune while they decide (before the store lock:
 * unpacking layers takes the store lock under the shared one).  From then on rmi
 * reads the records (remove opts' container_using): a running container's image is
 * never deleted, a stopped one's keeps its layers.  Imports never take images.lock: a
 * slow import stalls no run. */
struct imagefmt_hold;

/* imagefmt_store_lookup, the image held against rmi until imagefmt_hold_release. */
int imagefmt_store_lookup_hold (struct imagefmt_store *s, const char *ref,
                                struct imagefmt_image **out, struct imagefmt_hold **hold,
                                nook_error_t *err);
/* End a hold (NULL is fine): once the container's record is written. */
void imagefmt_hold_release (struct imagefmt_hold *h);
/* Hold every image of the store (images.lock shared) until imagefmt_hold_release: a build,
 * from its start to its end, so that no rmi, prune or `builder prune` removes its base's
 * layers, or the intermediate layers it made and has not yet put in an image, under it.
 * Those wait (and say so) until the build ends. */
int imagefmt_store_hold_images (struct imagefmt_store *s, struct imagefmt_hold **hold,
                                nook_error_t *err);

/* The chain IDs of diff_ids, bottom first, NULL-terminated (strv_free). */
char **imagefmt_chain_ids (char *const *diff_ids);
/* Layers a record other than the index keeps (the build cache): of `blobs` (layer blob
 * digests) and `chains` (chain IDs of unpacked layers), those no image uses and not in
 * keep_blobs/keep_chains (NULL: none) are counted (*n, *bytes: blob bytes, unpacked files'
 * bytes) and, with remove, deleted, under images.lock (exclusive) and the store lock. */
int imagefmt_store_unused_layers (struct imagefmt_store *s, char *const *blobs, char *const *chains,
                                  char *const *keep_blobs, char *const *keep_chains, bool remove,
                                  size_t *n, uint64_t *bytes, nook_error_t *err);

struct imagefmt_remove_opts
{
  bool force;
  /* The ID of a container made from image_id (malloc'd; a running one first, then
   * *running is set), or NULL: cmd/ knows the container records. */
  char *(*container_using) (void *data, const char *image_id, bool *running);
  /* Called once per action: ("Untagged", "busybox:latest"), ("Deleted", "sha256:..."). */
  void (*report) (void *data, const char *what, const char *arg);
  void *data;
};

/* Remove an image as `docker rmi` does (daemon/images/image_delete.go): by reference,
 * untag that reference, and delete the image when it was its last; by ID, untag every
 * reference and delete it.  Refused (EBUSY, Docker's messages) when a running container
 * holds it (even forced), and without force when an ID has references in several
 * repositories or when a container uses the image and it would be left without a
 * name.  An image a stopped container uses is never deleted (its layers are the
 * container's root): forced, it is left untagged.  Deleting removes the manifest,
 * config and layer blobs and unpacked layer dirs nothing else uses. */
int imagefmt_store_remove (struct imagefmt_store *s, const char *ref,
                           const struct imagefmt_remove_opts *o, nook_error_t *err);

#endif
