/* imagefmt/layer.h: layer tarballs: safe extraction into a directory (with OCI
 * whiteouts turned into overlay whiteouts) and a reproducible writer. */
#ifndef NOOK_IMAGEFMT_LAYER_H
#define NOOK_IMAGEFMT_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

/* Extraction limits (tar headers are untrusted). */
#define IMAGEFMT_LAYER_MAX_PATH 4096
#define IMAGEFMT_LAYER_MAX_ENTRIES 4000000
#define IMAGEFMT_LAYER_MAX_BYTES (UINT64_C (1) << 40)

struct imagefmt_layer_stats
{
  uint64_t entries;
  uint64_t bytes;        /* regular file data written */
  uint64_t chown_failed; /* entries whose owner went to user.containers.override_stat instead */
  uint64_t skipped;      /* devices that could not be created, sockets */
};

/* Extract the tar stream readable from fd (plain, gzip, zstd, xz: detected) into
 * the directory destfd.  Every entry is created under destfd through
 * fs_open_in_root/O_NOFOLLOW walks: nothing lands outside it.  `.wh.NAME` becomes a
 * 0:0 character device NAME (or a `.wh.NAME` file when mknod is refused),
 * `.wh..wh..opq` sets user.overlay.opaque=y (and trusted.overlay.opaque when permitted)
 * on its directory.  stats may be NULL. */
int imagefmt_layer_extract (int fd, int destfd, struct imagefmt_layer_stats *stats,
                            nook_error_t *err);
/* imagefmt_layer_extract that also gives the digest ("sha256:...", caller frees) and
 * size of the uncompressed stream, the layer's diff ID, from the same single pass
 * (layer_stream.h); either may be NULL. */
int imagefmt_layer_extract_digest (int fd, int destfd, struct imagefmt_layer_stats *stats,
                                   char **diff_id, uint64_t *size, nook_error_t *err);
/* The same from memory (fuzzing, tests). */
int imagefmt_layer_extract_mem (const void *data, size_t len, int destfd,
                                struct imagefmt_layer_stats *stats, nook_error_t *err);

/* Check that fd holds a readable tar stream (any supported compression) to its end,
 * without writing anything: counts entries and validates names. */
int imagefmt_layer_validate (int fd, uint64_t *entries, nook_error_t *err);

/* Read a file of the image whose unpacked layers are dirs (bottom first) as the
 * container sees it through overlay (imagefmt/layers_read.c): resolved in the union of
 * the layers (whiteouts in both forms, opaque directories, symlinks from one layer to
 * another, never out of the image), opened without blocking (util/fs_read.h).  It must
 * be a regular file of at most max bytes; code ENOENT when the image has no such file. */
int imagefmt_layers_read_file (char *const *dirs, const char *path, size_t max, char **out,
                               size_t *len, nook_error_t *err);

/* One entry of a tar to write. Type comes from mode (S_IFREG, S_IFDIR, S_IFLNK...). */
struct imagefmt_tar_entry
{
  const char *path; /* relative, no leading "/" or "./" (written as is) */
  mode_t mode;      /* type and permission bits */
  uid_t uid;
  gid_t gid;
  const char *linkname; /* symlink target, or hardlink target when hardlink is true */
  bool hardlink;
  const char *src;  /* regular file: host path to copy content from, or NULL */
  const void *data; /* regular file content when src == NULL */
  size_t size;
  bool own_mtime; /* write mtime below instead of the tar's single one */
  int64_t mtime;
  const void *fcaps; /* security.capability (revision 2) to record, or NULL */
  size_t fcaps_len;
};

/* Write a reproducible tar (pax restricted, entries sorted by path, numeric owners,
 * mtime for every entry (or each entry's own), no uname/gname, no atime/ctime) to outfd; gzip with
 * no name or timestamp in the header when `gzip`. */
int imagefmt_layer_write_tar (int outfd, const struct imagefmt_tar_entry *entries, size_t n,
                              int64_t mtime, bool gzip, nook_error_t *err);

#endif
