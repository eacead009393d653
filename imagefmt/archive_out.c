/* imagefmt/archive_out.c: where a saved tar's bytes go; see internal.h.
 *
 * An archive written to a regular file bypasses the page cache (O_DIRECT) when the file
 * system takes writes at the tar's 512-byte granularity (statx's STATX_DIOALIGN): the
 * bytes go from nook's buffers to the disk without being copied into fresh page-cache
 * pages.  Measured here (a VM whose fresh memory costs a host fault per page when the
 * machine is loaded), the copy into the page cache was 40% of a save's time, and the
 * ~106 MB it wrote took 0.1-2.2 s buffered but 0.13-0.16 s direct.  Nobody reads the
 * archive back at once (docker and podman do not fsync it either; O_DIRECT gives no
 * durability promise, only that the data does not sit in the cache twice).
 *
 * Small pieces (tar headers, padding) gather in an aligned staging buffer; a large piece
 * that starts on an aligned address at an aligned file offset is written from where it
 * is.  The tail that is not a whole number of blocks (never, for a tar), a file system
 * that refuses a direct write (EINVAL), a pipe or a terminal: plain buffered writes.  The
 * descriptor's flags are put back as they were, since stdout may be the shell's. */
#include "imagefmt/archive_dl.h"
#include "imagefmt/internal.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STAGE (4u << 20)
#define DIRECT_MIN (256u << 10) /* pieces this large are written from where they are */

struct archive_out
{
  int fd;
  int flags;     /* the descriptor's flags before */
  bool direct;   /* O_DIRECT set on fd */
  size_t offset; /* file offset alignment for direct writes */
  size_t memory; /* buffer alignment for direct writes */
  unsigned char *stage;
  size_t len;
  int error; /* errno of a failed write */
};

/* Turn direct writes off (the rest is buffered). */
static void
direct_off (struct archive_out *o)
{
  if (o->direct)
    fcntl (o->fd, F_SETFL, o->flags);
  o->direct = false;
}

static int
out_write (struct archive_out *o, const void *buf, size_t n)
{
  if (o->direct && (n % o->offset != 0 || (uintptr_t)buf % o->memory != 0))
    direct_off (o);
  off_t at = o->direct ? lseek (o->fd, 0, SEEK_CUR) : -1;
  if (fs_write_all (o->fd, buf, n) == 0)
    return 0;
  if (errno != EINVAL || !o->direct || at < 0)
    return -1;
  /* the file system refused a direct write after all: the same bytes again, buffered,
   * from where they started */
  direct_off (o);
  if (lseek (o->fd, at, SEEK_SET) < 0)
    return -1;
  return fs_write_all (o->fd, buf, n);
}

static int
stage_flush (struct archive_out *o)
{
  if (o->len > 0 && out_write (o, o->stage, o->len) < 0)
    return -1;
  o->len = 0;
  return 0;
}

static la_ssize_t
out_cb (struct archive *a, void *client, const void *buf, size_t n)
{
  struct archive_out *o = client;
  const unsigned char *p = buf;
  size_t left = n;
  (void)a;
  if (o->error)
    return -1;
  if (o->direct && left >= DIRECT_MIN && o->len % o->offset == 0 && (uintptr_t)p % o->memory == 0)
    {
      size_t whole = left / o->offset * o->offset;
      if (stage_flush (o) < 0 || out_write (o, p, whole) < 0)
        goto fail;
      p += whole;
      left -= whole;
    }
  while (left > 0)
    {
      size_t take = STAGE - o->len < left ? STAGE - o->len : left;
      memcpy (o->stage + o->len, p, take);
      o->len += take;
      p += take;
      left -= take;
      if (o->len == STAGE && stage_flush (o) < 0)
        goto fail;
    }
  return (la_ssize_t)n;
fail:
  o->error = errno ? errno : EIO;
  return -1;
}

static int
close_cb (struct archive *a, void *client)
{
  struct archive_out *o = client;
  (void)a;
  if (o->error == 0 && stage_flush (o) < 0)
    o->error = errno ? errno : EIO;
  direct_off (o);
  return o->error ? ARCHIVE_FATAL : ARCHIVE_OK;
}

/* Direct writes to fd when it is a regular file at an offset, and on a file system, that
 * take them at 512-byte granularity. */
static void
direct_on (struct archive_out *o)
{
  struct statx stx;
  off_t at = lseek (o->fd, 0, SEEK_CUR);
  if (getenv ("NOOK_SAVE_BUFFERED") != NULL || o->flags < 0 || (o->flags & O_APPEND) || at < 0
      || statx (o->fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_DIOALIGN, &stx) < 0
      || !S_ISREG (stx.stx_mode) || !(stx.stx_mask & STATX_DIOALIGN)
      || stx.stx_dio_offset_align == 0 || stx.stx_dio_mem_align == 0
      || 512 % stx.stx_dio_offset_align != 0 || 4096 % stx.stx_dio_mem_align != 0 || at % 512 != 0)
    return;
  if (fcntl (o->fd, F_SETFL, o->flags | O_DIRECT) < 0)
    return;
  o->direct = true;
  o->offset = stx.stx_dio_offset_align;
  o->memory = stx.stx_dio_mem_align;
}

int
imagefmt_archive_out_open (struct archive *a, int fd, struct archive_out **out, nook_error_t *err)
{
  struct archive_out *o = xzalloc (sizeof *o);
  *out = o; /* even on failure: libarchive may call close_cb until a is freed */
  o->fd = fd;
  o->flags = fcntl (fd, F_GETFL);
  o->offset = o->memory = 1;
  if (posix_memalign ((void **)&o->stage, 4096, STAGE) != 0)
    oom ();
  direct_on (o);
  if (archive_write_set_bytes_per_block (a, 0) != ARCHIVE_OK
      || archive_write_open (a, o, NULL, out_cb, close_cb) != ARCHIVE_OK)
    return nook_error_set (err, o->error, "write archive: %s", archive_error_string (a));
  return 0;
}

int
imagefmt_archive_out_error (const struct archive_out *o)
{
  return o ? o->error : 0;
}

void
imagefmt_archive_out_free (struct archive_out *o)
{
  if (o == NULL)
    return;
  direct_off (o);
  free (o->stage);
  free (o);
}
