/* imagefmt/layer_stream.c: see layer_stream.h.
 *
 * Memory mode: the blob is mapped; a gzip one is inflated by libdeflate into a buffer of
 * the size its trailer states (a wrong or wrapped size, several members or trailing
 * bytes send it to stream mode), a plain one is used as mapped; the digest is taken over
 * the whole buffer at once and the tar reader reads it in place.  Stream mode: two
 * libarchive readers stacked (layer_check.c's former design): the outer one ("raw"
 * format, every filter) gives the uncompressed stream, hashed as it passes to the inner
 * one (tar format). */
#include "imagefmt/layer_stream.h"
#include "imagefmt/archive_dl.h"
#include "imagefmt/digest.h"
#include "imagefmt/layer_check.h"
#include "util/util.h"

#include <errno.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK (1u << 20)
#define HUGE (2u << 20)

struct imagefmt_layer_stream
{
  /* memory mode */
  void *map;
  size_t maplen;
  unsigned char *inflated; /* mmap'ed, inflated_cap bytes */
  size_t inflated_cap;
  const unsigned char *buf; /* the uncompressed stream (inflated, or in the map) */
  size_t len, pos;
  char *digest;
  bool by_blob;     /* open_fd_blob: a gzip blob inflated at once is not hashed */
  bool crc_checked; /* ... it was: its gzip CRC-32 and size checked by libdeflate */
  /* stream mode */
  struct archive *raw;
  struct imagefmt_digester *d;
  bool failed;
  /* both */
  struct archive *tar;
  uint64_t size;
};

static struct archive *
raw_new (void)
{
  struct archive *a = archive_read_new ();
  if (a == NULL)
    oom ();
  archive_read_support_filter_gzip (a);
  archive_read_support_filter_zstd (a);
  archive_read_support_filter_xz (a);
  archive_read_support_filter_bzip2 (a);
  archive_read_support_format_raw (a);
  return a;
}

/* data (len bytes) as one gzip member of at most IMAGEFMT_LAYER_STREAM_MEM_MAX
 * uncompressed bytes: inflated into s; false (nothing kept) otherwise. */
static bool
inflate_whole (struct imagefmt_layer_stream *s, const unsigned char *data, size_t len)
{
  if (len < 18)
    return false;
  const unsigned char *t = data + len - 4;
  size_t isize = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
  if (isize > IMAGEFMT_LAYER_STREAM_MEM_MAX)
    return false;
  struct libdeflate_decompressor *z = libdeflate_alloc_decompressor ();
  if (z == NULL)
    oom ();
  /* in huge pages where the kernel gives them: a 2 MiB page is one fault, not 512; not
   * for a save (by_blob), which measured the opposite on a loaded VM: each fresh huge page
   * is cleared at once, and when the host must back it first that took 0.2-0.6 s of system
   * time a save (106 MB, load 11-14: median 2260 -> 960 ms with 4 KiB pages) */
  size_t cap = (isize + HUGE - 1) / HUGE * HUGE;
  if (cap == 0)
    cap = HUGE;
  unsigned char *out = mmap (NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (out == MAP_FAILED)
    {
      libdeflate_free_decompressor (z);
      return false;
    }
  if (!s->by_blob)
    madvise (out, cap, MADV_HUGEPAGE);
  size_t in_used = 0, out_used = 0;
  enum libdeflate_result r
      = libdeflate_gzip_decompress_ex (z, data, len, out, isize, &in_used, &out_used);
  libdeflate_free_decompressor (z);
  if (r != LIBDEFLATE_SUCCESS || in_used != len || out_used != isize)
    {
      munmap (out, cap);
      return false;
    }
  s->inflated = out;
  s->inflated_cap = cap;
  s->buf = out;
  s->len = isize;
  return true;
}

static int
open_stream (struct imagefmt_layer_stream *s, int fd, const void *data, size_t len,
             nook_error_t *err)
{
  struct archive_entry *e;
  s->raw = raw_new ();
  int r = data ? archive_read_open_memory (s->raw, data, len)
               : archive_read_open_fd (s->raw, fd, 1 << 17);
  if (r == ARCHIVE_OK)
    r = archive_read_next_header (s->raw, &e);
  if (r == ARCHIVE_EOF)
    return nook_error_set (err, 0, "empty: not a tar");
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
    return nook_error_set (err, 0, "cannot read: %s", archive_error_string (s->raw));
  s->d = imagefmt_digester_new ();
  return 0;
}

/* The blob in memory: inflated at once or used as it is when it can be; else streamed. */
static int
open_mem (struct imagefmt_layer_stream *s, const void *data, size_t len, nook_error_t *err)
{
  enum imagefmt_compression c = imagefmt_compression_detect (data, len);
  if (c == IMAGEFMT_COMPRESSION_NONE)
    {
      s->buf = data;
      s->len = len;
    }
  if (c == IMAGEFMT_COMPRESSION_NONE
      || (c == IMAGEFMT_COMPRESSION_GZIP && inflate_whole (s, data, len)))
    {
      if (s->by_blob && c == IMAGEFMT_COMPRESSION_GZIP)
        s->crc_checked = true;
      else
        s->digest = imagefmt_digest_data (s->buf, s->len);
      s->size = s->len;
      return 0;
    }
  return open_stream (s, -1, data, len, err);
}

static int
open_fd (int fd, bool by_blob, struct imagefmt_layer_stream **out, nook_error_t *err)
{
  struct imagefmt_layer_stream *s = xzalloc (sizeof *s);
  s->by_blob = by_blob;
  struct stat st;
  int r;
  *out = NULL;
  if (imagefmt_archive_load (err) < 0)
    {
      free (s);
      return -1;
    }
  off_t at = lseek (fd, 0, SEEK_CUR);
  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && at >= 0 && st.st_size > at
      && (uint64_t)st.st_size <= SIZE_MAX)
    {
      s->maplen = (size_t)st.st_size;
      s->map = mmap (NULL, s->maplen, PROT_READ, MAP_PRIVATE, fd, 0);
      if (s->map == MAP_FAILED)
        s->map = NULL;
    }
  if (s->map)
    {
      madvise (s->map, s->maplen, MADV_SEQUENTIAL);
      r = open_mem (s, (const char *)s->map + at, s->maplen - (size_t)at, err);
    }
  else
    r = open_stream (s, fd, NULL, 0, err);
  if (r < 0)
    {
      imagefmt_layer_stream_free (s);
      return -1;
    }
  *out = s;
  return 0;
}

int
imagefmt_layer_stream_open_fd (int fd, struct imagefmt_layer_stream **out, nook_error_t *err)
{
  return open_fd (fd, false, out, err);
}

int
imagefmt_layer_stream_open_fd_blob (int fd, struct imagefmt_layer_stream **out, nook_error_t *err)
{
  return open_fd (fd, true, out, err);
}

bool
imagefmt_layer_stream_crc_checked (const struct imagefmt_layer_stream *s)
{
  return s->crc_checked;
}

int
imagefmt_layer_stream_open_mem (const void *data, size_t len, struct imagefmt_layer_stream **out,
                                nook_error_t *err)
{
  struct imagefmt_layer_stream *s = xzalloc (sizeof *s);
  *out = NULL;
  if (imagefmt_archive_load (err) < 0 || open_mem (s, data, len, err) < 0)
    {
      imagefmt_layer_stream_free (s);
      return -1;
    }
  *out = s;
  return 0;
}

static la_ssize_t
stream_read (struct imagefmt_layer_stream *s, const void **buf)
{
  if (s->raw == NULL)
    {
      size_t n = s->len - s->pos < BLOCK ? s->len - s->pos : BLOCK;
      *buf = s->buf + s->pos;
      s->pos += n;
      return (la_ssize_t)n;
    }
  size_t n = 0;
  la_int64_t off;
  int r = archive_read_data_block (s->raw, buf, &n, &off);
  if (r == ARCHIVE_EOF)
    return 0;
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
    {
      s->failed = true;
      return -1;
    }
  imagefmt_digester_update (s->d, *buf, n);
  s->size += n;
  return (la_ssize_t)n;
}

static la_ssize_t
tar_read_cb (struct archive *a, void *data, const void **buf)
{
  return stream_read (data, buf);
}

struct archive *
imagefmt_layer_stream_tar (struct imagefmt_layer_stream *s, nook_error_t *err)
{
  if (s->tar)
    return s->tar;
  s->tar = archive_read_new ();
  if (s->tar == NULL)
    oom ();
  archive_read_support_format_tar (s->tar);
  int r = s->raw ? archive_read_open (s->tar, s, NULL, tar_read_cb, NULL)
                 : archive_read_open_memory (s->tar, s->buf, s->len);
  if (r != ARCHIVE_OK)
    {
      nook_error_set (err, 0, "not a tar: %s", archive_error_string (s->tar));
      return NULL;
    }
  s->pos = s->len; /* in memory, the tar reader reads the buffer itself */
  return s->tar;
}

ssize_t
imagefmt_layer_stream_read (struct imagefmt_layer_stream *s, const void **buf, nook_error_t *err)
{
  la_ssize_t n = stream_read (s, buf);
  if (n < 0)
    nook_error_set (err, 0, "corrupt compressed stream: %s", archive_error_string (s->raw));
  return n;
}

int
imagefmt_layer_stream_finish (struct imagefmt_layer_stream *s, char **diff_id, uint64_t *size,
                              nook_error_t *err)
{
  if (s->raw)
    {
      const void *buf;
      la_ssize_t n;
      while ((n = stream_read (s, &buf)) > 0)
        ;
      if (n < 0 || s->failed)
        return nook_error_set (err, 0, "corrupt compressed stream: %s",
                               archive_error_string (s->raw));
      s->digest = imagefmt_digester_finish (s->d);
      s->d = NULL;
    }
  if (diff_id)
    *diff_id = s->digest ? xstrdup (s->digest) : NULL;
  if (size)
    *size = s->size;
  return 0;
}

const void *
imagefmt_layer_stream_buffer (const struct imagefmt_layer_stream *s, size_t *len)
{
  if (s->raw)
    return NULL;
  *len = s->len;
  return s->buf;
}

const char *
imagefmt_layer_stream_failure (const struct imagefmt_layer_stream *s)
{
  return s->failed ? archive_error_string (s->raw) : NULL;
}

void
imagefmt_layer_stream_free (struct imagefmt_layer_stream *s)
{
  if (s == NULL)
    return;
  if (s->tar)
    archive_read_free (s->tar);
  if (s->raw)
    archive_read_free (s->raw);
  if (s->d)
    imagefmt_digester_free (s->d);
  if (s->map)
    munmap (s->map, s->maplen);
  if (s->inflated)
    munmap (s->inflated, s->inflated_cap);
  free (s->digest);
  free (s);
}
