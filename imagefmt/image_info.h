/* imagefmt/image_info.h: what `inspect` and `history` show of an image, with Docker's
 * field names (docker image inspect, docker history), built as data (JSON and rows) so
 * that cmd/ only prints. */
#ifndef NOOK_IMAGEFMT_IMAGE_INFO_H
#define NOOK_IMAGEFMT_IMAGE_INFO_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "imagefmt/store.h"
#include "util/error.h"

struct imagefmt_image_info
{
  struct imagefmt_image *img;
  char **tags;           /* full references with a tag, index order */
  char **digests;        /* full references name@sha256:... */
  uint64_t *layer_sizes; /* per layer, uncompressed where the store knows it */
  uint64_t size;         /* their sum (Docker's Size) */
};

/* Look ref up (as imagefmt_store_lookup) and gather every reference of its image. */
int imagefmt_image_info_get (struct imagefmt_store *s, const char *ref,
                             struct imagefmt_image_info **out, nook_error_t *err);
void imagefmt_image_info_free (struct imagefmt_image_info *info);

/* Docker's image inspect object: Id, RepoTags, RepoDigests, Parent, Comment, Created,
 * DockerVersion, Author, Config, Architecture, [Variant,] Os, Size, RootFS, Metadata
 * (keys in that order: dump with JSON_PRESERVE_ORDER).  Tags and digests familiar. */
json_t *imagefmt_image_inspect_json (const struct imagefmt_image_info *info);

struct imagefmt_history_row
{
  char *id;        /* the image ID on the top row, NULL ("<missing>") below */
  int64_t created; /* seconds since the epoch, 0 unknown */
  char *created_by;
  char *comment;
  uint64_t size; /* 0 for an empty layer */
};

/* The config's history, newest first, with the sizes of the layers the non-empty
 * entries made (a config without history: one row per layer). */
int imagefmt_image_history (const struct imagefmt_image_info *info,
                            struct imagefmt_history_row **rows, size_t *n, nook_error_t *err);
void imagefmt_history_free (struct imagefmt_history_row *rows, size_t n);

/* An RFC 3339 time ("2024-01-02T03:04:05Z", fractions allowed) in seconds; 0 if invalid. */
int64_t imagefmt_time_parse (const char *s);

#endif
