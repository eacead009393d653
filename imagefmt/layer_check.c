/* imagefmt/layer_check.c: see layer_check.h.
 *
 * Two libarchive readers stacked: the outer one ("raw" format, every filter) turns the
 * stream into the uncompressed tar, which is hashed as it passes to the inner one (tar
 * format only) that walks the entries.  So a layer is decompressed once. */
#include "imagefmt/layer_check.h"
#include "imagefmt/archive_dl.h"
#include "imagefmt/digest.h"
#include "imagefmt/layer.h"
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

struct src
{
  struct archive *raw;
  struct imagefmt_digester *d;
  uint64_t size;
  bool failed;
};

static la_ssize_t
src_read (struct archive *a, void *data, const void **buf)
{
  struct src *s = data;
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

static void
free_readerp (struct archive **a)
{
  if (*a)
    archive_read_free (*a);
}
#define cleanup_reader __attribute__ ((cleanup (free_readerp)))

static int
walk (struct archive *tar, struct src *src, struct imagefmt_layer_info *info, nook_error_t *err)
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
      if (src->failed)
        return nook_error_set (err, 0, "corrupt compressed stream: %s",
                               archive_error_string (src->raw));
      return nook_error_set (err, 0, "not a valid tar (truncated or corrupt): %s",
                             archive_error_string (tar));
    }
  return 0;
}

static int
check (struct archive *raw, enum imagefmt_compression c, struct imagefmt_layer_info *info,
       nook_error_t *err)
{
  struct archive_entry *e;
  struct src src = { .raw = raw };
  cleanup_reader struct archive *tar = NULL;
  memset (info, 0, sizeof *info);
  info->compression = c;
  int r = archive_read_next_header (raw, &e);
  if (r == ARCHIVE_EOF)
    return nook_error_set (err, 0, "empty: not a tar");
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
    return nook_error_set (err, 0, "cannot read: %s", archive_error_string (raw));
  src.d = imagefmt_digester_new ();
  tar = archive_read_new ();
  if (tar == NULL)
    oom ();
  archive_read_support_format_tar (tar);
  int ret = 0;
  if (archive_read_open (tar, &src, NULL, src_read, NULL) != ARCHIVE_OK)
    ret = nook_error_set (err, 0, "not a tar: %s", archive_error_string (tar));
  if (ret == 0)
    ret = walk (tar, &src, info, err);
  /* The rest (end blocks, padding) is part of the diff ID too. */
  const void *buf;
  la_ssize_t n;
  while (ret == 0 && (n = src_read (NULL, &src, &buf)) > 0)
    ;
  if (ret == 0 && src.failed)
    ret = nook_error_set (err, 0, "corrupt compressed stream: %s", archive_error_string (raw));
  if (ret < 0)
    {
      imagefmt_digester_free (src.d);
      return -1;
    }
  info->diff_id = imagefmt_digester_finish (src.d);
  info->size = src.size;
  return 0;
}

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

int
imagefmt_layer_check_fd (int fd, struct imagefmt_layer_info *info, nook_error_t *err)
{
  unsigned char head[8];
  off_t at = lseek (fd, 0, SEEK_CUR);
  ssize_t n = at >= 0 ? pread (fd, head, sizeof head, at) : -1;
  if (imagefmt_archive_load (err) < 0)
    return -1;
  cleanup_reader struct archive *raw = raw_new ();
  if (archive_read_open_fd (raw, fd, 1 << 17) != ARCHIVE_OK)
    return nook_error_set (err, 0, "cannot read: %s", archive_error_string (raw));
  return check (raw, imagefmt_compression_detect (head, n > 0 ? (size_t)n : 0), info, err);
}

int
imagefmt_layer_check_mem (const void *data, size_t len, struct imagefmt_layer_info *info,
                          nook_error_t *err)
{
  if (imagefmt_archive_load (err) < 0)
    return -1;
  cleanup_reader struct archive *raw = raw_new ();
  if (archive_read_open_memory (raw, data, len) != ARCHIVE_OK)
    return nook_error_set (err, 0, "cannot read: %s", archive_error_string (raw));
  return check (raw, imagefmt_compression_detect (data, len), info, err);
}
