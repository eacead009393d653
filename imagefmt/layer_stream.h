/* imagefmt/layer_stream.h: a layer blob's uncompressed tar, digested as it is read.
 *
 * A gzip blob (one member) whose uncompressed size, as its trailer states it, is at most
 * IMAGEFMT_LAYER_STREAM_MEM_MAX is inflated at once by libdeflate (two to three times
 * zlib's speed) into memory; any other blob (plain, zstd, xz, bzip2, larger or
 * multi-member gzip) streams through libarchive's filters.  Either way every uncompressed
 * byte is hashed exactly once, so a walk of the entries (extraction, checks) gives the
 * diff ID and the uncompressed size without a second pass. */
#ifndef NOOK_IMAGEFMT_LAYER_STREAM_H
#define NOOK_IMAGEFMT_LAYER_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

#define IMAGEFMT_LAYER_STREAM_MEM_MAX (128u << 20)

struct archive;
struct imagefmt_layer_stream;

/* Open the blob readable from fd (from offset 0 when it is a regular file, else from
 * where it is) or held in memory (data must outlive the stream). */
int imagefmt_layer_stream_open_fd (int fd, struct imagefmt_layer_stream **out, nook_error_t *err);
int imagefmt_layer_stream_open_mem (const void *data, size_t len,
                                    struct imagefmt_layer_stream **out, nook_error_t *err);

/* imagefmt_layer_stream_open_fd for a reader that relies on the store's pairing of a blob
 * with its diff ID (both digests checked when the blob came in): when a gzip blob is
 * inflated in memory nothing is hashed (imagefmt_layer_stream_crc_checked: libdeflate
 * checked its CRC-32 and size, which catch a corrupt blob; the diff ID is then NULL);
 * a blob that fails them is streamed and hashed, as imagefmt_layer_stream_open_fd. */
int imagefmt_layer_stream_open_fd_blob (int fd, struct imagefmt_layer_stream **out,
                                        nook_error_t *err);
bool imagefmt_layer_stream_crc_checked (const struct imagefmt_layer_stream *s);

/* A libarchive reader (tar format only) over the uncompressed stream, opened already;
 * owned by the stream.  NULL when the stream is not to be walked as a tar. */
struct archive *imagefmt_layer_stream_tar (struct imagefmt_layer_stream *s, nook_error_t *err);

/* The uncompressed bytes one block at a time, for a caller that copies them (0 at the
 * end, -1 with err).  Not mixed with imagefmt_layer_stream_tar. */
ssize_t imagefmt_layer_stream_read (struct imagefmt_layer_stream *s, const void **buf,
                                    nook_error_t *err);

/* The whole uncompressed stream when it is held in memory (its digest taken), else NULL. */
const void *imagefmt_layer_stream_buffer (const struct imagefmt_layer_stream *s, size_t *len);

/* Read what the tar reader left (end blocks, padding: part of the diff ID) and give the
 * digest ("sha256:...", caller frees) and size of the whole uncompressed stream.  An
 * error names what broke: a corrupt compressed stream. */
int imagefmt_layer_stream_finish (struct imagefmt_layer_stream *s, char **diff_id, uint64_t *size,
                                  nook_error_t *err);

/* (Errors here carry no errno: their messages say what is wrong.)
 * Whether the compressed stream (not the tar) was what failed, and libarchive's words. */
const char *imagefmt_layer_stream_failure (const struct imagefmt_layer_stream *s);

void imagefmt_layer_stream_free (struct imagefmt_layer_stream *s);

#endif
