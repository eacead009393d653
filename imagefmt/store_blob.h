/* imagefmt/store_blob.h: the store as a registry client (or an archive reader) fills
 * and reads it: blobs streamed in through digest verification, images added from a
 * manifest whose blobs are all there, the blobs of an image read back.
 *
 * A blob is written to an unnamed temporary file (O_TMPFILE) in blobs/sha256 while its
 * digest is computed; it is linked under its name only when the digest (and the size,
 * when one was expected) match: a blob in the store is always whole and verified, so an
 * interrupted pull resumes from the blobs it finished.  No lock is needed for that
 * (content-addressed, atomic); adding the image takes the writer lock and checks that
 * every blob is still there (an rmi may have removed a shared one meanwhile: EAGAIN). */
#ifndef NOOK_IMAGEFMT_STORE_BLOB_H
#define NOOK_IMAGEFMT_STORE_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imagefmt/store.h"
#include "util/error.h"

struct imagefmt_blob_writer;

/* Start writing the blob `expect` ("sha256:..."); expect_size < 0: unknown. */
int imagefmt_blob_writer_open (struct imagefmt_store *s, const char *expect, int64_t expect_size,
                               struct imagefmt_blob_writer **out, nook_error_t *err);
/* Append data; more than the expected size is an error ("blob ... is larger than ..."). */
int imagefmt_blob_writer_write (struct imagefmt_blob_writer *w, const void *data, size_t n,
                                nook_error_t *err);
/* Bytes written so far. */
int64_t imagefmt_blob_writer_size (const struct imagefmt_blob_writer *w);
/* Verify the digest and size, fsync, and put the blob in place; frees w.  A mismatch:
 * EIO "blob sha256:... is corrupt: its content has digest sha256:..." and nothing kept. */
int imagefmt_blob_writer_commit (struct imagefmt_blob_writer *w, nook_error_t *err);
/* Drop what was written; frees w (NULL is fine). */
void imagefmt_blob_writer_abort (struct imagefmt_blob_writer *w);

/* Whether the blob is in the store. */
bool imagefmt_store_has_blob (struct imagefmt_store *s, const char *digest);
/* Open a blob for reading (O_RDONLY|O_CLOEXEC); *size (may be NULL) gets its size. */
int imagefmt_store_open_blob (struct imagefmt_store *s, const char *digest, int64_t *size,
                              nook_error_t *err);
/* Read a blob whole (at most max bytes), verified against its digest. */
int imagefmt_store_get_blob (struct imagefmt_store *s, const char *digest, size_t max, char **data,
                             size_t *len, nook_error_t *err);

/* The digest and size of the uncompressed content of a layer blob (gzip, zstd, xz or
 * plain tar, detected), to check it against the config's diff_id. */
int imagefmt_store_blob_diff_id (struct imagefmt_store *s, const char *digest, char **diff_id,
                                 uint64_t *size, nook_error_t *err);

/* Add the image whose manifest is data (its config and layer blobs must be in the
 * store: EAGAIN naming the first missing one otherwise) under the writer lock, tagged
 * `ref` (a full normalised reference, NULL = untagged), its index entry carrying
 * media_type and, when not NULL, repo_digest: the digest the registry gave for the tag
 * (an index's for a multi-platform image), Docker's RepoDigests.  *manifest_digest (may
 * be NULL) gets the manifest's digest. */
int imagefmt_store_add_image (struct imagefmt_store *s, const char *ref, const char *data,
                              size_t len, const char *media_type, const char *repo_digest,
                              char **manifest_digest, nook_error_t *err);

/* The media type of the store's index entry for the manifest (NULL when unknown). */
char *imagefmt_store_manifest_media_type (struct imagefmt_store *s, const char *manifest_digest);

/* Remember that the registry `domain` has the blob in repository `repo` (pulled from
 * or pushed to it): blob-sources/<hex> in the store, one "domain/repo" a line (Docker
 * keeps the same in its distribution metadata).  Best effort: errors are ignored. */
void imagefmt_store_note_blob_source (struct imagefmt_store *s, const char *digest,
                                      const char *domain, const char *repo);

/* The repositories ("lab/base", without the domain) of `domain` known to hold the blob
 * `digest` (the store's references of that registry whose images have it, and
 * blob-sources): candidates for a cross-repository mount on push. */
char **imagefmt_store_repos_with_blob (struct imagefmt_store *s, const char *domain,
                                       const char *digest);

#endif
