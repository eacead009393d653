/* imagefmt/layer_check.c: see layer_check.h.
 *
 * The entries are walked over a layer stream (layer_stream.h), which hashes the
 * uncompressed tar as it is read: a layer is decompressed once. */
#include "imagefmt/layer_check.h"
#include "imagefmt/archive_dl.h"
#include "imagefmt/digest.h"
#include "imagefmt/layer.h"
#include "imagefmt/layer_stream.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

enum imagefmt_compression
imagefmt_compression_detect (const void *head, size_t len)
{
  const unsigned char *h = head;
  if (len >= 2 && h[0] == 0x1f && h[1] == 0x8b)
    return IMAGEFMT_COMPRESSION_GZIP;
  if (len >= 4 && h[0] == 0x28 && h[1] == 0xb5 && h[2] == 0x2f && h[3] == 0xfd)
    return IMAGEFMT_COMPRESSION_ZSTD;
  if (len >= 6
      && memcmp (h,
                 "\xfd"
                 "7zXZ\0",
                 6)
             == 0)
    return IMAGEFMT_COMPRESSION_XZ;
  if (len >= 3 && memcmp (h, "BZh", 3) == 0)
    return IMAGEFMT_COMPRESSION_BZIP2;
  return IMAGEFMT_COMPRESSION_NONE;
}

const char *
imagefmt_compression_name (enum imagefmt_compression c)
{
  static const char *const names[] = { "none", "gzip", "zstd", "xz", "bzip2" };
  return (size_t)c < ARRAY_SIZE (names) ? names[c] : "unknown";
}

/* Walk the components of p: calls back with each (not NUL-terminated). */
static int
check_components (const char *p, int depth, bool follow_dotdot, const char *name, const char *what,
                  nook_error_t *err)
{
  while (*p)
    {
      while (*p == '/')
        p++;
      const char *end = strchrnul (p, '/');
      size_t n = (size_t)(end - p);
      if (n == 2 && p[0] == '.' && p[1] == '.')
        {
          if (!follow_dotdot)
            return nook_error_set (err, 0, "entry '%s': %s has a '..' component", name, what);
          if (--depth < 0)
            return nook_error_set (
                err, 0, "entry '%s': %s points out of the root (moby refuses it too)", name, what);
        }
      else if (n > 0 && !(n == 1 && p[0] == '.'))
        {
          if (n > 255)
            return nook_error_set (err, 0,
                                   "entry '%.200s': a component is longer "
                                   "than 255 bytes",
                                   name);
          depth++;
        }
      p = end;
    }
  return 0;
}

int
imagefmt_layer_check_entry (const char *name, char type, const char *link, nook_error_t *err)
{
  if (name == NULL || *name == '\0')
    return nook_error_set (err, 0, "an entry without a name");
  if (strlen (name) > IMAGEFMT_LAYER_MAX_PATH)
    return nook_error_set (err, 0, "entry '%.80s...': name longer than %d bytes", name,
                           IMAGEFMT_LAYER_MAX_PATH);
  if (*name == '/')
    return nook_error_set (err, 0,
                           "entry '%s': absolute member names are refused (Docker strips the "
                           "leading '/'; nook does not guess)",
                           name);
  if (check_components (name, 0, false, name, "its name", err) < 0)
    return -1;
  if (type != 'l' && type != 'h')
    return 0;
  if (link == NULL || *link == '\0')
    return nook_error_set (err, 0, "entry '%s': a link without a target", name);
  if (strlen (link) > IMAGEFMT_LAYER_MAX_PATH)
    return nook_error_set (err, 0, "entry '%s': link target longer than %d bytes", name,
                           IMAGEFMT_LAYER_MAX_PATH);
  if (type == 'h')
    {
      if (*link == '/')
        return nook_error_set (err, 0, "entry '%s': hard link to an absolute name '%s'", name,
                               link);
      return check_components (link, 0, false, name, "its hard link target", err);
    }
  if (*link == '/')
    return 0; /* resolved inside the container's root */
  /* The depth of the entry's directory, then the target from there. */
  int depth = 0;
  cleanup_free char *dir = xstrdup (name);
  char *slash = strrchr (dir, '/');
  while (slash && slash[1] == '\0')
    {
      *slash = '\0';
      slash = strrchr (dir, '/');
    }
  if (slash == NULL)
    dir[0] = '\0';
  else
    *slash = '\0';
  for (const char *p = dir; *p;)
    {
      while (*p == '/')
        p++;
      const char *end = strchrnul (p, '/');
      if (end > p && !(end - p == 1 && *p == '.'))
        depth++;
      p = end;
    }
  cleanup_free char *what = xasprintf ("its symbolic link target '%s'", link);
  return check_components (link, depth, true, name, what, err);
}

static int
walk (struct archive *tar, struct imagefmt_layer_stream *st, struct imagefmt_layer_info *info,
      nook_error_t *err)
{
  struct archive_entry *e;
  int r;
  while ((r = archive_read_next_header (tar, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    {
      if (++info->entries > IMAGEFMT_LAYER_MAX_ENTRIES)
        return nook_error_set (err, 0, "more than %d entries", IMAGEFMT_LAYER_MAX_ENTRIES);
      const char *hl = archive_entry_hardlink (e);
      mode_t type = archive_entry_filetype (e);
      char t = hl ? 'h' : type == AE_IFLNK ? 'l' : 0;
      const char *name = archive_entry_pathname (e);
      if (imagefmt_layer_check_entry (name, t, hl ? hl : archive_entry_symlink (e), err) < 0)
        return -1;
      if (archive_entry_size (e) < 0)
        return nook_error_set (err, 0, "entry '%s' has a negative size", name);
    }
  if (r != ARCHIVE_EOF)
    {
      const char *why = imagefmt_layer_stream_failure (st);
      if (why)
        return nook_error_set (err, 0, "corrupt compressed stream: %s", why);
      return nook_error_set (err, 0, "not a valid tar (truncated or corrupt): %s",
                             archive_error_string (tar));
    }
  return 0;
}

/* Walk the entries, then the rest of the stream (end blocks, padding: part of the diff
 * ID too). */
static int
check (struct imagefmt_layer_stream *st, enum imagefmt_compression c,
       struct imagefmt_layer_info *info, nook_error_t *err)
{
  memset (info, 0, sizeof *info);
  info->compression = c;
  struct archive *tar = imagefmt_layer_stream_tar (st, err);
  int ret = tar && walk (tar, st, info, err) == 0
                    && imagefmt_layer_stream_finish (st, &info->diff_id, &info->size, err) == 0
                ? 0
                : -1;
  imagefmt_layer_stream_free (st);
  return ret;
}

int
imagefmt_layer_check_fd (int fd, struct imagefmt_layer_info *info, nook_error_t *err)
{
  unsigned char head[8];
  off_t at = lseek (fd, 0, SEEK_CUR);
  ssize_t n = at >= 0 ? pread (fd, head, sizeof head, at) : -1;
  struct imagefmt_layer_stream *st;
  if (imagefmt_layer_stream_open_fd (fd, &st, err) < 0)
    return -1;
  return check (st, imagefmt_compression_detect (head, n > 0 ? (size_t)n : 0), info, err);
}

int
imagefmt_layer_check_mem (const void *data, size_t len, struct imagefmt_layer_info *info,
                          nook_error_t *err)
{
  struct imagefmt_layer_stream *st;
  if (imagefmt_layer_stream_open_mem (data, len, &st, err) < 0)
    return -1;
  return check (st, imagefmt_compression_detect (data, len), info, err);
}
