/* imagefmt/archive.h: image archives, both ways.
 *
 * save writes
 *   docker-archive  as Docker < 25 writes it (and docker, podman, skopeo read it):
 *                   <v1id>/{VERSION,json,layer.tar} (uncompressed layers), <config hex>.json,
 *                   manifest.json ([{"Config","RepoTags","Layers"}]) and repositories, with
 *                   full names ("docker.io/library/busybox:latest") as podman and skopeo
 *                   write them (podman reads a familiar name as localhost/NAME);
 *   oci-archive     an OCI image layout in a tar: oci-layout, blobs/sha256/<hex> (the
 *                   stored blobs, bytes unchanged), index.json whose entries carry
 *                   io.containerd.image.name (the full name) and
 *                   org.opencontainers.image.ref.name (the tag), as Docker >= 25 does;
 *   oci-dir         the same layout in a new (or empty) directory.
 * Image IDs and layer diff IDs never change on the way.
 *
 * load reads a docker-archive as Docker < 25 and >= 25 write it (manifest.json, also with
 * an OCI layout beside it), and an oci-archive (index.json, nested indexes by platform);
 * plain, gzip, zstd, xz or bzip2 compressed, from a file or a pipe.  Every member is
 * staged under <store>/tmp/load-XXXXXX (by number: no member name ever becomes a path),
 * every digest and size is verified and every layer checked (imagefmt/layer_check.h)
 * before anything enters the store; then, under the store lock, the blobs are linked in
 * and index.json replaced last.  A load killed at any point leaves the store as it was,
 * plus at most complete unreferenced blobs and a staging directory the next load or
 * `system check` removes. */
#ifndef NOOK_IMAGEFMT_ARCHIVE_H
#define NOOK_IMAGEFMT_ARCHIVE_H

#include "imagefmt/store.h"
#include "util/error.h"

enum imagefmt_archive_format
{
  IMAGEFMT_ARCHIVE_DOCKER,
  IMAGEFMT_ARCHIVE_OCI,
  IMAGEFMT_ARCHIVE_OCI_DIR,
};

/* "docker-archive" (also "docker"), "oci-archive", "oci-dir"; the error names them. */
int imagefmt_archive_format_parse (const char *s, enum imagefmt_archive_format *out,
                                   nook_error_t *err);

/* Save the images refs name (as `docker save`: a name without a tag saves every tag of
 * that repository; an ID saves the image without tags) to outfd (the archive formats)
 * or into the directory dir (oci-dir).  Every blob is verified against its digest as it
 * is written: a corrupt store gives an error, never a corrupt archive. */
int imagefmt_images_save (struct imagefmt_store *s, char *const *refs,
                          enum imagefmt_archive_format fmt, int outfd, const char *dir,
                          nook_error_t *err);

struct imagefmt_load_opts
{
  const char *name; /* the archive, in messages ("'base.tar': ...") */
  /* Called once per image loaded: its familiar tag ("busybox:latest"), or NULL and its ID. */
  void (*loaded) (void *data, const char *tag, const char *id);
  /* Called (before loaded) for a tag that named another image, now left without it. */
  void (*renamed) (void *data, const char *tag, const char *old_id);
  void *data;
};

/* Load every image of the archive readable from fd (to its end). */
int imagefmt_images_load (struct imagefmt_store *s, int fd, const struct imagefmt_load_opts *o,
                          nook_error_t *err);

/* Staging directories of loads that are gone (not locked): counted, and removed when
 * remove; returns how many. */
int imagefmt_images_clean_staging (struct imagefmt_store *s, bool remove, nook_error_t *err);

#endif
