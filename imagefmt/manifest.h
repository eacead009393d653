/* imagefmt/manifest.h: image manifests, indexes (manifest lists) and configs as the
 * registries and archives carry them: reading, platform selection, and conversion
 * between Docker's schema 2 and OCI's forms.
 *
 * Pure: no store, no network.  The registry client (registry_pull.c, registry_push.c)
 * and the archive readers use it; fuzzed by tests/fuzz/fuzz_manifest.c.
 *
 *   application/vnd.oci.image.manifest.v1+json                 OCI manifest
 *   application/vnd.oci.image.index.v1+json                    OCI index
 *   application/vnd.docker.distribution.manifest.v2+json       Docker schema 2 manifest
 *   application/vnd.docker.distribution.manifest.list.v2+json  Docker manifest list
 * Docker schema 1 (signed, 2016 and older) is refused with a message saying so. */
#ifndef NOOK_IMAGEFMT_MANIFEST_H
#define NOOK_IMAGEFMT_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

#define IMAGEFMT_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define IMAGEFMT_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define IMAGEFMT_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define IMAGEFMT_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define IMAGEFMT_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define IMAGEFMT_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define IMAGEFMT_MT_OCI_LAYER_NONDIST_GZIP                                                         \
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define IMAGEFMT_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define IMAGEFMT_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define IMAGEFMT_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define IMAGEFMT_MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define IMAGEFMT_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define IMAGEFMT_MT_DOCKER_FOREIGN_GZIP "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define IMAGEFMT_MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define IMAGEFMT_MT_DOCKER_SCHEMA1_SIGNED                                                          \
  "application/vnd.docker.distribution.manifest.v1+prettyjws"

/* The Accept header a client sends for a manifest (all four kinds). */
#define IMAGEFMT_MANIFEST_ACCEPT                                                                   \
  IMAGEFMT_MT_OCI_INDEX ", " IMAGEFMT_MT_DOCKER_LIST ", " IMAGEFMT_MT_OCI_MANIFEST                 \
                        ", " IMAGEFMT_MT_DOCKER_MANIFEST

/* Manifests, indexes and configs larger than this are refused (containerd's limit). */
#define IMAGEFMT_MANIFEST_MAX (4u << 20)
#define IMAGEFMT_CONFIG_MAX (16u << 20)

struct imagefmt_platform
{
  char *os;           /* "linux" */
  char *architecture; /* OCI/Go names: "amd64", "arm64", "arm", "386", ... */
  char *variant;      /* "v8", "v7", or NULL */
  char *os_version;   /* Windows only; NULL */
};

struct imagefmt_descriptor
{
  char *media_type;
  char *digest; /* validated "sha256:<hex>" */
  int64_t size; /* >= 0 */
  bool has_platform;
  struct imagefmt_platform platform; /* index entries */
};

enum imagefmt_manifest_kind
{
  IMAGEFMT_MANIFEST_IMAGE,
  IMAGEFMT_MANIFEST_INDEX,
};

struct imagefmt_manifest
{
  enum imagefmt_manifest_kind kind;
  char *media_type; /* the document's own, else the Content-Type given, else inferred */
  /* an image manifest: */
  struct imagefmt_descriptor config;
  struct imagefmt_descriptor *layers;
  size_t n_layers;
  /* an index: */
  struct imagefmt_descriptor *manifests;
  size_t n_manifests;
};

/* Whether a media type names an image manifest / an index (either family). */
bool imagefmt_media_type_is_manifest (const char *mt);
bool imagefmt_media_type_is_index (const char *mt);
/* Whether a layer media type is one nook can unpack (tar, tar+gzip, tar+zstd, Docker's). */
bool imagefmt_media_type_is_layer (const char *mt);

/* Read a manifest or index.  content_type (may be NULL) is the registry's
 * Content-Type, used when the document has no mediaType; a document whose mediaType
 * contradicts a known Content-Type is refused.  Every digest is validated, sizes must be
 * non-negative, layers of an image manifest must be of a known type.  Errors name what
 * is wrong ("manifest: layers[2].digest: ..."). */
int imagefmt_manifest_parse (const char *data, size_t len, const char *content_type,
                             struct imagefmt_manifest *out, nook_error_t *err);
void imagefmt_manifest_clear (struct imagefmt_manifest *m);

/* ---- platforms ---- */

/* "os/arch[/variant]" as `--platform` takes it ("linux/arm64", "linux/arm/v7"); the
 * architecture and variant are normalised (aarch64 -> arm64, x86_64 -> amd64, arm64
 * "v8" is its default). */
int imagefmt_platform_parse (const char *s, struct imagefmt_platform *out, nook_error_t *err);
/* This machine's platform (linux/<arch>[/variant]). */
void imagefmt_platform_default (struct imagefmt_platform *out);
/* "linux/arm64/v8" (caller frees). */
char *imagefmt_platform_string (const struct imagefmt_platform *p);
void imagefmt_platform_clear (struct imagefmt_platform *p);
/* Whether a platform (an index entry's or a config's) satisfies want: same OS and
 * architecture, and the same variant after normalisation when want names one. */
bool imagefmt_platform_match (const struct imagefmt_platform *want,
                              const struct imagefmt_platform *have);

/* The entry of an index that want selects (containerd's rules: an exact variant match
 * first, then an entry without a variant, then any entry of the OS and architecture);
 * -1 with "no matching manifest for linux/amd64 in the manifest list entries
 * (available: ...)" (ENOENT) when none. */
ssize_t imagefmt_index_select (const struct imagefmt_manifest *idx,
                               const struct imagefmt_platform *want, nook_error_t *err);

/* ---- configs ---- */

struct imagefmt_config_info
{
  char **diff_ids; /* NULL-terminated, validated */
  struct imagefmt_platform platform;
};

/* Read an image config: an object with rootfs.type "layers" and valid diff_ids. */
int imagefmt_config_parse (const char *data, size_t len, struct imagefmt_config_info *out,
                           nook_error_t *err);
void imagefmt_config_info_clear (struct imagefmt_config_info *c);

/* ---- conversion ---- */

/* The manifest (JSON text) rewritten as to_media_type (IMAGEFMT_MT_OCI_MANIFEST or
 * IMAGEFMT_MT_DOCKER_MANIFEST): its mediaType, the config's and the layers' media types
 * mapped (gzip <-> gzip, tar <-> tar; zstd layers have no Docker form: refused).  Other
 * fields are kept.  Compact JSON with sorted keys; caller frees.  The same type in and
 * out gives the input back unchanged (a copy). */
char *imagefmt_manifest_convert (const char *data, size_t len, const char *to_media_type,
                                 size_t *out_len, nook_error_t *err);

#endif
