/* imagefmt/layer.c: see layer.h.
 *
 * libarchive reads the entries; every write goes through an fd of the parent
 * directory (resolved under the destination with openat2 RESOLVE_IN_ROOT, or created
 * one component at a time) and a single-component, O_NOFOLLOW leaf.  Names with
 * ".." are refused outright; absolute symlinks are data, and a later entry written
 * "through" one is resolved inside the destination, as the kernel would resolve it
 * in the container. */
#include "imagefmt/layer.h"
#include "imagefmt/archive_dl.h"
#include "imagefmt/layer_stream.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define WH_META ".wh..wh."
#define OVERRIDE_XATTR "user.containers.override_stat"

struct deferred_dir
{
  char *path;
  mode_t mode;
  struct timespec mtime;
};

struct xctx
{
  int destfd;
  struct imagefmt_layer_stats *st;
  struct deferred_dir *dirs;
  size_t ndirs, capdirs, dir_bytes;
};

#define IMAGEFMT_LAYER_MAX_DIR_BYTES (64u << 20)

static void
cleanup_archivep (struct archive **a)
{
  if (*a)
    archive_read_free (*a);
}
#define cleanup_archive_read __attribute__ ((cleanup (cleanup_archivep)))

/* "./a//b/" -> "a/b"; "" is the root.  ".." anywhere is refused. */
static int
clean_path (const char *in, char **out, nook_error_t *err)
{
  if (in == NULL)
    return nook_error_set (err, EINVAL, "tar entry without a name");
  size_t len = strlen (in);
  if (len > IMAGEFMT_LAYER_MAX_PATH)
    return nook_error_set (err, ENAMETOOLONG, "tar entry name longer than %d bytes: '%.80s...'",
                           IMAGEFMT_LAYER_MAX_PATH, in);
  struct strbuf b = { 0 };
  const char *p = in;
  while (*p)
    {
      while (*p == '/')
        p++;
      const char *end = strchrnul (p, '/');
      size_t n = (size_t)(end - p);
      if (n == 2 && p[0] == '.' && p[1] == '.')
        {
          strbuf_free (&b);
          return nook_error_set (err, EINVAL, "tar entry '%s' contains '..'", in);
        }
      if (n > 0 && !(n == 1 && p[0] == '.'))
        {
          if (n > 255)
            {
              strbuf_free (&b);
              return nook_error_set (err, ENAMETOOLONG, "tar entry '%.200s': component too long",
                                     in);
            }
          if (b.len)
            strbuf_appendc (&b, '/');
          strbuf_appendn (&b, p, n);
        }
      p = end;
    }
  *out = strbuf_steal (&b);
  return 0;
}

/* An O_PATH fd of directory `rel` under destfd, creating missing components. */
static int
open_parent (int destfd, const char *rel, nook_error_t *err)
{
  if (*rel == '\0')
    {
      int fd = fcntl (destfd, F_DUPFD_CLOEXEC, 3);
      if (fd < 0)
        return nook_error_set (err, errno, "dup");
      return fd;
    }
  int fd = fs_open_in_root (destfd, rel, O_PATH | O_DIRECTORY, 0);
  if (fd >= 0)
    return fd;
  if (errno != ENOENT)
    return nook_error_set (err, errno, "open directory '%s' in layer", rel);
  return fs_mkdir_p_in_root (destfd, rel, 0755, err);
}

/* Remove whatever is at parent/leaf unless both it and the new entry are
 * directories (returns 1: kept).  Returns 2 when what it removed was a
 * whiteout of this layer: a directory made in its place must be opaque, or
 * the lower layers' entries the whiteout hid would show through it. */
static int
clear_leaf (int parent, const char *leaf, bool keep_dir, const char *rel, nook_error_t *err)
{
  struct stat st;
  if (fstatat (parent, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return nook_error_set (err, errno, "stat '%s' in layer", rel);
    }
  if (S_ISDIR (st.st_mode))
    {
      if (keep_dir)
        return 1;
      return fs_rm_rf_at (parent, leaf, err);
    }
  if (unlinkat (parent, leaf, 0) < 0 && errno != ENOENT)
    return nook_error_set (err, errno, "replace '%s' in layer", rel);
  return S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0) ? 2 : 0;
}

static bool
xattr_allowed (const char *name)
{
  /* An allowlist: a tarball's user.* xattrs, file capabilities and ACLs.
   * Overlay and fuse-overlayfs metadata and our ownership record come from
   * us, never from a tarball. */
  if (str_has_prefix (name, "user."))
    return !(str_has_prefix (name, "user.overlay.") || str_has_prefix (name, "user.fuseoverlayfs.")
             || str_has_prefix (name, "user.containers.") || str_has_prefix (name, "user.nook."));
  return strcmp (name, "security.capability") == 0 || str_has_prefix (name, "system.posix_acl_");
}

/* Owner, mode (final for non-directories), xattrs of an entry just created. */
static int
apply_meta (struct xctx *x, int parent, const char *leaf, struct archive_entry *e, bool isdir,
            const char *rel, nook_error_t *err)
{
  cleanup_close int fd = openat (parent, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open '%s' in layer", rel);
  struct stat st;
  if (fstat (fd, &st) < 0)
    return nook_error_set (err, errno, "stat '%s' in layer", rel);
  bool islnk = S_ISLNK (st.st_mode);
  char p[32];
  fs_fd_path (fd, p);
  uid_t uid = (uid_t)archive_entry_uid (e);
  gid_t gid = (gid_t)archive_entry_gid (e);
  mode_t mode = archive_entry_perm (e) & 07777;
  bool override = false;
  if (fchownat (fd, "", uid, gid, AT_EMPTY_PATH) < 0)
    {
      if (errno != EPERM && errno != EINVAL)
        return nook_error_set (err, errno, "chown '%s' in layer to %u:%u", rel, (unsigned)uid,
                               (unsigned)gid);
      override = true;
      x->st->chown_failed++;
    }
  if (!islnk)
    {
      if (chmod (p, isdir ? (mode | 0700) : mode) < 0)
        return nook_error_set (err, errno, "chmod '%s' in layer", rel);
      if (override)
        {
          char buf[64];
          int n = snprintf (buf, sizeof buf, "%u:%u:0%o", (unsigned)uid, (unsigned)gid,
                            (unsigned)mode);
          if (setxattr (p, OVERRIDE_XATTR, buf, (size_t)n, 0) < 0)
            log_debug ("layer: cannot record owner of '%s' in %s: %s", rel, OVERRIDE_XATTR,
                       strerror (errno));
        }
      const char *name;
      const void *value;
      size_t size;
      archive_entry_xattr_reset (e);
      while (archive_entry_xattr_next (e, &name, &value, &size) == ARCHIVE_OK)
        if (name && xattr_allowed (name) && setxattr (p, name, value, size, 0) < 0)
          log_debug ("layer: xattr %s on '%s' not set: %s", name, rel, strerror (errno));
    }
  if (!isdir)
    {
      struct timespec ts[2]
          = { { .tv_sec = archive_entry_mtime (e), .tv_nsec = archive_entry_mtime_nsec (e) },
              { .tv_sec = archive_entry_mtime (e), .tv_nsec = archive_entry_mtime_nsec (e) } };
      if (ts[0].tv_nsec < 0 || ts[0].tv_nsec >= 1000000000)
        ts[0].tv_nsec = ts[1].tv_nsec = 0;
      if (utimensat (parent, leaf, ts, AT_SYMLINK_NOFOLLOW) < 0)
        log_debug ("layer: mtime of '%s' not set: %s", rel, strerror (errno));
    }
  return 0;
}

static int
write_data (struct archive *a, int fd, struct xctx *x, const char *rel, int64_t size,
            nook_error_t *err)
{
  const void *buf;
  size_t n;
  la_int64_t off;
  int r;
  while ((r = archive_read_data_block (a, &buf, &n, &off)) == ARCHIVE_OK)
    {
      uint64_t total;
      if (off < 0 || __builtin_add_overflow (x->st->bytes, (uint64_t)n, &total)
          || total > IMAGEFMT_LAYER_MAX_BYTES)
        return nook_error_set (err, EFBIG, "layer too large at '%s'", rel);
      x->st->bytes = total;
      const char *q = buf;
      while (n > 0)
        {
          ssize_t w = pwrite (fd, q, n, off);
          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            return nook_error_set (err, errno, "write '%s' in layer", rel);
          q += w;
          n -= (size_t)w;
          off += w;
        }
    }
  if (r != ARCHIVE_EOF)
    return nook_error_set (err, archive_errno (a) > 0 ? archive_errno (a) : EIO,
                           "read data of '%s': %s", rel, archive_error_string (a));
  if (size > 0 && ftruncate (fd, size) < 0)
    return nook_error_set (err, errno, "size '%s' in layer", rel);
  return 0;
}

static int
whiteout (struct xctx *x, const char *dir, const char *name, const char *rel, nook_error_t *err)
{
  if (*name == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return nook_error_set (err, EINVAL, "invalid whiteout '%s' in layer", rel);
  cleanup_close int parent = open_parent (x->destfd, dir, err);
  if (parent < 0)
    return -1;
  if (clear_leaf (parent, name, false, rel, err) < 0)
    return -1;
  if (mknodat (parent, name, S_IFCHR | 0000, makedev (0, 0)) == 0)
    return 0;
  if (errno != EPERM)
    return nook_error_set (err, errno, "create whiteout for '%s'", rel);
  /* The fuse-overlayfs form. */
  cleanup_free char *wh = xasprintf (WH_PREFIX "%s", name);
  int fd = openat (parent, wh, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0000);
  if (fd < 0 && errno != EEXIST)
    return nook_error_set (err, errno, "create whiteout file for '%s'", rel);
  if (fd >= 0)
    close (fd);
  return 0;
}

static int
opaque (struct xctx *x, const char *dir, const char *rel, nook_error_t *err)
{
  cleanup_close int fd = open_parent (x->destfd, dir, err);
  if (fd < 0)
    return -1;
  char p[32];
  fs_fd_path (fd, p);
  if (setxattr (p, "trusted.overlay.opaque", "y", 1, 0) < 0)
    log_debug ("layer: trusted.overlay.opaque on '%s' not set: %s", rel, strerror (errno));
  if (setxattr (p, "user.overlay.opaque", "y", 1, 0) == 0)
    return 0;
  /* No user xattrs here: leave the marker fuse-overlayfs reads. */
  int f = openat (fd, WH_OPAQUE, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0000);
  if (f < 0)
    return nook_error_set (err, errno, "mark '%s' opaque", rel);
  close (f);
  return 0;
}

static int
defer_dir (struct xctx *x, const char *rel, struct archive_entry *e, nook_error_t *err)
{
  /* The same directory again (a tar may repeat entries): its last header
   * wins, in the same record.  And the records are bounded: a small hostile
   * tar must not make us hold gigabytes of paths. */
  struct deferred_dir *d = x->ndirs ? &x->dirs[x->ndirs - 1] : NULL;
  if (d == NULL || strcmp (d->path, rel) != 0)
    {
      size_t len = strlen (rel) + 1;
      if (x->dir_bytes + len > IMAGEFMT_LAYER_MAX_DIR_BYTES)
        return nook_error_set (err, EFBIG, "layer has more than %u bytes of directory names",
                               IMAGEFMT_LAYER_MAX_DIR_BYTES);
      x->dir_bytes += len;
      d = NULL;
    }
  if (d)
    goto fill;
  if (x->ndirs == x->capdirs)
    {
      x->capdirs = x->capdirs ? 2 * x->capdirs : 64;
      x->dirs = xreallocarray (x->dirs, x->capdirs, sizeof *x->dirs);
    }
  d = &x->dirs[x->ndirs++];
  d->path = xstrdup (rel);
fill:
  d->mode = archive_entry_perm (e) & 07777;
  d->mtime.tv_sec = archive_entry_mtime (e);
  d->mtime.tv_nsec = archive_entry_mtime_nsec (e);
  if (d->mtime.tv_nsec < 0 || d->mtime.tv_nsec >= 1000000000)
    d->mtime.tv_nsec = 0;
  return 0;
}

static int
create_entry (struct xctx *x, struct archive *a, struct archive_entry *e, const char *rel,
              int parent, const char *leaf, nook_error_t *err)
{
  mode_t type = archive_entry_filetype (e);
  const char *hl = archive_entry_hardlink (e);
  if (hl)
    {
      cleanup_free char *target = NULL;
      if (clean_path (hl, &target, err) < 0)
        return -1;
      cleanup_close int tfd = fs_open_in_root (x->destfd, target, O_PATH | O_NOFOLLOW, 0);
      struct stat st;
      if (tfd < 0 || fstat (tfd, &st) < 0)
        return nook_error_set (err, errno, "hardlink '%s' to '%s': target not in the layer", rel,
                               hl);
      if (S_ISDIR (st.st_mode))
        return nook_error_set (err, EPERM, "hardlink '%s' to directory '%s'", rel, hl);
      if (clear_leaf (parent, leaf, false, rel, err) < 0)
        return -1;
      char p[32];
      fs_fd_path (tfd, p);
      if (linkat (AT_FDCWD, p, parent, leaf, AT_SYMLINK_FOLLOW) < 0)
        return nook_error_set (err, errno, "hardlink '%s' to '%s'", rel, hl);
      return 0;
    }
  int keep = clear_leaf (parent, leaf, type == AE_IFDIR, rel, err);
  if (keep < 0)
    return -1;
  switch (type)
    {
    case AE_IFREG:
      {
        int64_t size = archive_entry_size (e);
        if (size < 0)
          return nook_error_set (err, EINVAL, "tar entry '%s' has a negative size", rel);
        cleanup_close int fd
            = openat (parent, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
          return nook_error_set (err, errno, "create '%s' in layer", rel);
        if (write_data (a, fd, x, rel, size, err) < 0)
          return -1;
        break;
      }
    case AE_IFDIR:
      if (keep != 1 && mkdirat (parent, leaf, 0700) < 0)
        return nook_error_set (err, errno, "mkdir '%s' in layer", rel);
      if (keep == 2 && opaque (x, rel, rel, err) < 0)
        return -1;
      if (defer_dir (x, rel, e, err) < 0)
        return -1;
      break;
    case AE_IFLNK:
      {
        const char *t = archive_entry_symlink (e);
        if (t == NULL || *t == '\0' || strlen (t) > IMAGEFMT_LAYER_MAX_PATH)
          return nook_error_set (err, EINVAL, "symlink '%s' with an empty or too long target", rel);
        if (symlinkat (t, parent, leaf) < 0)
          return nook_error_set (err, errno, "symlink '%s' in layer", rel);
        break;
      }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
      {
        dev_t dev = makedev (archive_entry_rdevmajor (e), archive_entry_rdevminor (e));
        if (mknodat (parent, leaf, type | (archive_entry_perm (e) & 0777), dev) < 0)
          {
            if (errno == EPERM && type != AE_IFIFO)
              {
                log_debug ("layer: device '%s' skipped: %s", rel, strerror (errno));
                x->st->skipped++;
                return 0;
              }
            return nook_error_set (err, errno, "mknod '%s' in layer", rel);
          }
        break;
      }
    default:
      log_debug ("layer: '%s' of type 0%o skipped", rel, (unsigned)type);
      x->st->skipped++;
      return 0;
    }
  return apply_meta (x, parent, leaf, e, type == AE_IFDIR, rel, err);
}

static int
extract_entry (struct xctx *x, struct archive *a, struct archive_entry *e, nook_error_t *err)
{
  cleanup_free char *rel = NULL;
  if (clean_path (archive_entry_pathname (e), &rel, err) < 0)
    return -1;
  if (*rel == '\0')
    return 0; /* the root itself: the destination keeps its own owner and mode */
  char *slash = strrchr (rel, '/');
  cleanup_free char *dir = slash ? xstrndup (rel, (size_t)(slash - rel)) : xstrdup ("");
  const char *leaf = slash ? slash + 1 : rel;
  if (str_has_prefix (leaf, WH_PREFIX))
    {
      if (strcmp (leaf, WH_OPAQUE) == 0)
        return opaque (x, dir, rel, err);
      if (str_has_prefix (leaf, WH_META))
        return 0; /* aufs metadata (.wh..wh.plnk, ...) */
      return whiteout (x, dir, leaf + strlen (WH_PREFIX), rel, err);
    }
  cleanup_close int parent = open_parent (x->destfd, dir, err);
  if (parent < 0)
    return -1;
  return create_entry (x, a, e, rel, parent, leaf, err);
}

static int
finish_dirs (struct xctx *x, nook_error_t *err)
{
  for (size_t i = x->ndirs; i-- > 0;)
    {
      struct deferred_dir *d = &x->dirs[i];
      cleanup_close int fd
          = fs_open_in_root (x->destfd, d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
      if (fd < 0)
        continue; /* replaced by a later entry */
      if (fchmod (fd, d->mode) < 0)
        return nook_error_set (err, errno, "chmod directory '%s' in layer", d->path);
      struct timespec ts[2] = { d->mtime, d->mtime };
      if (futimens (fd, ts) < 0)
        log_debug ("layer: mtime of '%s' not set: %s", d->path, strerror (errno));
    }
  return 0;
}

static struct archive *
reader_new (void)
{
  struct archive *a = archive_read_new ();
  if (a == NULL)
    oom ();
  archive_read_support_filter_gzip (a);
  archive_read_support_filter_zstd (a);
  archive_read_support_filter_xz (a);
  archive_read_support_format_tar (a);
  return a;
}

static int
extract (struct archive *a, int destfd, struct imagefmt_layer_stats *stats, nook_error_t *err)
{
  struct imagefmt_layer_stats local = { 0 };
  struct xctx x = { .destfd = destfd, .st = stats ? stats : &local };
  struct archive_entry *e;
  int r, ret = 0;
  while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    {
      if (++x.st->entries > IMAGEFMT_LAYER_MAX_ENTRIES)
        {
          ret = nook_error_set (err, EFBIG, "layer has more than %d entries",
                                IMAGEFMT_LAYER_MAX_ENTRIES);
          break;
        }
      if (extract_entry (&x, a, e, err) < 0)
        {
          ret = -1;
          break;
        }
    }
  if (ret == 0 && r != ARCHIVE_EOF)
    ret = nook_error_set (err, archive_errno (a) > 0 ? archive_errno (a) : EINVAL,
                          "read layer tar: %s", archive_error_string (a));
  if (ret == 0)
    ret = finish_dirs (&x, err);
  for (size_t i = 0; i < x.ndirs; i++)
    free (x.dirs[i].path);
  free (x.dirs);
  return ret;
}

int
imagefmt_layer_extract_digest (int fd, int destfd, struct imagefmt_layer_stats *stats,
                               char **diff_id, uint64_t *size, nook_error_t *err)
{
  struct imagefmt_layer_stream *st;
  if (imagefmt_layer_stream_open_fd (fd, &st, err) < 0)
    return nook_error_wrap (err, "open layer tar");
  struct archive *a = imagefmt_layer_stream_tar (st, err);
  int ret = a ? extract (a, destfd, stats, err) : -1;
  if (ret < 0 && a && imagefmt_layer_stream_failure (st))
    {
      nook_error_free (err);
      ret = nook_error_set (err, EINVAL, "read layer: corrupt compressed stream: %s",
                            imagefmt_layer_stream_failure (st));
    }
  if (ret == 0)
    ret = imagefmt_layer_stream_finish (st, diff_id, size, err);
  imagefmt_layer_stream_free (st);
  return ret;
}

int
imagefmt_layer_extract (int fd, int destfd, struct imagefmt_layer_stats *stats, nook_error_t *err)
{
  return imagefmt_layer_extract_digest (fd, destfd, stats, NULL, NULL, err);
}

int
imagefmt_layer_extract_mem (const void *data, size_t len, int destfd,
                            struct imagefmt_layer_stats *stats, nook_error_t *err)
{
  if (imagefmt_archive_load (err) < 0)
    return -1;
  cleanup_archive_read struct archive *a = reader_new ();
  if (archive_read_open_memory (a, data, len) != ARCHIVE_OK)
    return nook_error_set (err, EINVAL, "open layer tar: %s", archive_error_string (a));
  return extract (a, destfd, stats, err);
}

int
imagefmt_layer_validate (int fd, uint64_t *entries, nook_error_t *err)
{
  if (imagefmt_archive_load (err) < 0)
    return -1;
  cleanup_archive_read struct archive *a = reader_new ();
  if (archive_read_open_fd (a, fd, 65536) != ARCHIVE_OK)
    return nook_error_set (err, 0, "not a tar archive: %s", archive_error_string (a));
  struct archive_entry *e;
  uint64_t n = 0;
  int r;
  while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    {
      cleanup_free char *rel = NULL;
      if (++n > IMAGEFMT_LAYER_MAX_ENTRIES)
        return nook_error_set (err, EFBIG, "more than %d entries", IMAGEFMT_LAYER_MAX_ENTRIES);
      if (clean_path (archive_entry_pathname (e), &rel, err) < 0)
        return -1;
      if (archive_entry_size (e) < 0)
        return nook_error_set (err, EINVAL, "tar entry '%s' has a negative size", rel);
    }
  if (r != ARCHIVE_EOF)
    return nook_error_set (err, EINVAL, "not a valid tar archive: %s", archive_error_string (a));
  if (entries)
    *entries = n;
  return 0;
}

/* ---- the reproducible writer ---- */

static int
cmp_entry (const void *a, const void *b)
{
  const struct imagefmt_tar_entry *const *x = a, *const *y = b;
  return strcmp ((*x)->path, (*y)->path);
}

static void
cleanup_writep (struct archive **a)
{
  if (*a)
    archive_write_free (*a);
}

static int
write_file_data (struct archive *a, const struct imagefmt_tar_entry *en, int srcfd,
                 nook_error_t *err)
{
  if (srcfd < 0)
    {
      if (en->size && archive_write_data (a, en->data, en->size) != (la_ssize_t)en->size)
        return nook_error_set (err, EIO, "write tar '%s': %s", en->path, archive_error_string (a));
      return 0;
    }
  char buf[65536];
  for (;;)
    {
      ssize_t n = read (srcfd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return nook_error_set (err, errno, "read '%s'", en->src);
      if (n == 0)
        return 0;
      if (archive_write_data (a, buf, (size_t)n) != n)
        return nook_error_set (err, EIO, "write tar '%s': %s", en->path, archive_error_string (a));
    }
}

static int
write_one (struct archive *a, const struct imagefmt_tar_entry *en, int64_t mtime, nook_error_t *err)
{
  cleanup_close int srcfd = -1;
  int64_t size = 0;
  if (S_ISREG (en->mode) && !en->hardlink)
    {
      size = (int64_t)en->size;
      if (en->src)
        {
          struct stat st;
          srcfd = open (en->src, O_RDONLY | O_CLOEXEC);
          if (srcfd < 0 || fstat (srcfd, &st) < 0)
            return nook_error_set (err, errno, "open '%s'", en->src);
          size = st.st_size;
        }
    }
  struct archive_entry *e = archive_entry_new ();
  if (e == NULL)
    oom ();
  archive_entry_set_pathname (e, en->path);
  archive_entry_set_mode (e, en->mode);
  archive_entry_set_uid (e, en->uid);
  archive_entry_set_gid (e, en->gid);
  archive_entry_set_mtime (e, en->own_mtime ? en->mtime : mtime, 0);
  if (en->fcaps && en->fcaps_len)
    archive_entry_xattr_add_entry (e, "security.capability", en->fcaps, en->fcaps_len);
  if (en->hardlink)
    archive_entry_set_hardlink (e, en->linkname);
  else if (S_ISLNK (en->mode))
    archive_entry_set_symlink (e, en->linkname);
  archive_entry_set_size (e, size);
  int r = archive_write_header (a, e);
  archive_entry_free (e);
  if (r != ARCHIVE_OK)
    return nook_error_set (err, EIO, "write tar header '%s': %s", en->path,
                           archive_error_string (a));
  if (size > 0)
    return write_file_data (a, en, srcfd, err);
  return 0;
}

int
imagefmt_layer_write_tar (int outfd, const struct imagefmt_tar_entry *entries, size_t n,
                          int64_t mtime, bool gzip, nook_error_t *err)
{
  if (imagefmt_archive_load (err) < 0)
    return -1;
  __attribute__ ((cleanup (cleanup_writep))) struct archive *a = archive_write_new ();
  cleanup_free const struct imagefmt_tar_entry **sorted
      = xreallocarray (NULL, n ? n : 1, sizeof *sorted);
  if (a == NULL)
    oom ();
  for (size_t i = 0; i < n; i++)
    sorted[i] = &entries[i];
  qsort (sorted, n, sizeof *sorted, cmp_entry);
  if (archive_write_set_format_pax_restricted (a) != ARCHIVE_OK)
    return nook_error_set (err, EIO, "tar writer: %s", archive_error_string (a));
  if (gzip
      && (archive_write_add_filter_gzip (a) != ARCHIVE_OK
          || archive_write_set_options (a, "gzip:!timestamp") != ARCHIVE_OK))
    return nook_error_set (err, EIO, "tar writer gzip: %s", archive_error_string (a));
  if (archive_write_open_fd (a, outfd) != ARCHIVE_OK)
    return nook_error_set (err, EIO, "tar writer: %s", archive_error_string (a));
  for (size_t i = 0; i < n; i++)
    if (write_one (a, sorted[i], mtime, err) < 0)
      return -1;
  if (archive_write_close (a) != ARCHIVE_OK)
    return nook_error_set (err, EIO, "finish tar: %s", archive_error_string (a));
  return 0;
}
