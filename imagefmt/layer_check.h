/* imagefmt/layer_check.h: checking a layer tar from an archive or a registry before it
 * enters the store, in one pass that also digests its uncompressed stream.
 *
 * A layer nook did not make is refused (never repaired) when an entry
 *   - has an absolute name ("/etc/passwd": Docker strips the "/", nook refuses it),
 *   - has a ".." component anywhere,
 *   - is a hard link whose target is absolute or has "..",
 *   - is a symbolic link whose relative target climbs above the root from the
 *     entry's directory ("a/l -> ../../etc": moby's breakout rule; absolute targets
 *     are data, resolved inside the container's root),
 *   - has a name or link target longer than IMAGEFMT_LAYER_MAX_PATH, or a negative size;
 * or when the stream is not a (plain, gzip, zstd, xz or bzip2) tar, or is truncated. */
#ifndef NOOK_IMAGEFMT_LAYER_CHECK_H
#define NOOK_IMAGEFMT_LAYER_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

enum imagefmt_compression
{
  IMAGEFMT_COMPRESSION_NONE,
  IMAGEFMT_COMPRESSION_GZIP,
  IMAGEFMT_COMPRESSION_ZSTD,
  IMAGEFMT_COMPRESSION_XZ,
  IMAGEFMT_COMPRESSION_BZIP2,
};

/* The compression of a stream that starts with these bytes (magic numbers). */
enum imagefmt_compression imagefmt_compression_detect (const void *head, size_t len);
/* "gzip", "zstd", ... ("none" for a plain stream). */
const char *imagefmt_compression_name (enum imagefmt_compression c);

struct imagefmt_layer_info
{
  char *diff_id; /* "sha256:..." of the uncompressed tar (caller frees) */
  uint64_t size; /* uncompressed size */
  uint64_t entries;
  enum imagefmt_compression compression;
};

/* Check the layer readable from fd (from its current offset to its end) as above and
 * fill *info.  The message of an error names the entry; the caller names the layer. */
int imagefmt_layer_check_fd (int fd, struct imagefmt_layer_info *info, nook_error_t *err);
/* The same from memory (tests, fuzzing). */
int imagefmt_layer_check_mem (const void *data, size_t len, struct imagefmt_layer_info *info,
                              nook_error_t *err);

/* The entry rules alone: name (and link target when type is 'l' symbolic or 'h' hard,
 * else 0).  Exposed for unit tests. */
int imagefmt_layer_check_entry (const char *name, char type, const char *link, nook_error_t *err);

#endif
