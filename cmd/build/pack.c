/* cmd/build/pack.c: an upper dir turned into a reproducible layer.
 *
 * The walk runs in the store's user namespace (the upper dir holds files of the
 * container's ids): every entry is lstat'ed under an fd of its directory, never
 * followed; overlay's whiteouts (0:0 character devices, or files carrying the
 * overlay.whiteout xattr) become OCI `.wh.NAME` entries, opaque directories
 * (trusted./user.overlay.opaque = y) a `.wh..wh..opq` entry; no xattr but file
 * capabilities (as revision 2) goes into the layer; owners are numeric, mtimes
 * clamped to the build's epoch, entries sorted (imagefmt_layer_write_tar), gzip
 * without name or time.  The tar is written to an unnamed file of the store, then
 * put in as a blob and its diff ID computed. */
#include "cmd/build/build.h"
#include "imagefmt/digest.h"
#include "imagefmt/layer.h"
#include "imagefmt/store.h"
#include "imagefmt/store_blob.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/owner_record.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* ---- pure ---- */

enum build_pack_kind
build_pack_classify (mode_t mode, dev_t rdev, bool whiteout_xattr)
{
  if (S_ISCHR (mode) && rdev == makedev (0, 0))
    return BUILD_PACK_WHITEOUT;
  if (S_ISREG (mode) && whiteout_xattr)
    return BUILD_PACK_WHITEOUT;
  if (S_ISREG (mode) || S_ISDIR (mode) || S_ISLNK (mode) || S_ISFIFO (mode))
    return BUILD_PACK_ENTRY;
  return BUILD_PACK_SKIP;
}

bool
build_pack_opaque_value (const char *value, size_t len)
{
  return len >= 1 && value[0] == 'y';
}

bool
build_pack_xattr_kept (const char *name)
{
  return strcmp (name, "security.capability") == 0;
}

#define VFS_CAP_REVISION_MASK 0xFF000000u
#define VFS_CAP_REVISION_2 0x02000000u
#define VFS_CAP_REVISION_3 0x03000000u
#define VFS_CAP_FLAGS_EFFECTIVE 0x000001u

bool
build_pack_fcaps_v2 (const void *value, size_t len, unsigned char out[20])
{
  if (len != 20 && len != 24)
    return false;
  const unsigned char *v = value;
  uint32_t magic
      = (uint32_t)v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16 | (uint32_t)v[3] << 24;
  uint32_t rev = magic & VFS_CAP_REVISION_MASK;
  if (!((rev == VFS_CAP_REVISION_2 && len == 20) || (rev == VFS_CAP_REVISION_3 && len == 24)))
    return false;
  uint32_t m2 = VFS_CAP_REVISION_2 | (magic & VFS_CAP_FLAGS_EFFECTIVE);
  out[0] = (unsigned char)m2;
  out[1] = (unsigned char)(m2 >> 8);
  out[2] = (unsigned char)(m2 >> 16);
  out[3] = (unsigned char)(m2 >> 24);
  memcpy (out + 4, v + 4, 16);
  return true;
}

char *
build_pack_whiteout_path (const char *path)
{
  const char *slash = strrchr (path, '/');
  if (slash == NULL)
    return xasprintf (".wh.%s", path);
  return xasprintf ("%.*s/.wh.%s", (int)(slash - path), path, slash + 1);
}

/* ---- the walk (in the user namespace) ---- */

struct pack_entry
{
  char *path;
  char *link;
  mode_t mode;
  uid_t uid;
  gid_t gid;
  int64_t mtime;
  uint64_t size;
  dev_t dev;
  ino_t ino;
  nlink_t nlink;
  bool hardlink;
  unsigned char fcaps[20];
  bool has_fcaps;
};

struct pack_job
{
  int parentfd; /* b->tmpfd */
  const char *upper;
  int outfd;
  int64_t epoch;
  /* filled in the child, only its count comes back through the exit (see below) */
  struct pack_entry *e;
  size_t n, cap;
  int upperfd;
};

static struct pack_entry *
job_add (struct pack_job *j)
{
  if (j->n == j->cap)
    {
      j->cap = j->cap ? 2 * j->cap : 256;
      j->e = xreallocarray (j->e, j->cap, sizeof *j->e);
    }
  struct pack_entry *p = &j->e[j->n++];
  memset (p, 0, sizeof *p);
  return p;
}

static int walk (struct pack_job *j, int dirfd, const char *rel, nook_error_t *err);

static int
walk_entry (int dirfd, const char *name, void *arg, nook_error_t *err)
{
  struct pack_job *j = ((void **)arg)[0];
  const char *rel = ((void **)arg)[1];
  cleanup_free char *path = *rel ? xasprintf ("%s/%s", rel, name) : xstrdup (name);
  struct stat st;
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return nook_error_set (err, errno, "stat '%s'", path);
  bool wh_xattr = false;
  bool opaque = false;
  unsigned char caps[24];
  ssize_t ncaps = -1;
  struct owner_record rec = { 0 };
  int has_rec = 0;
  if (S_ISREG (st.st_mode) || S_ISDIR (st.st_mode))
    {
      cleanup_close int fd = openat (dirfd, name,
                                     O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
                                         | (S_ISDIR (st.st_mode) ? O_DIRECTORY : 0));
      if (fd >= 0)
        {
          char v[8];
          ssize_t n;
          has_rec = owner_record_get_fd (fd, &rec);
          if (has_rec < 0)
            return nook_error_set (err, errno, "read the owner recorded for '%s'", path);
          if (S_ISREG (st.st_mode))
            {
              wh_xattr = fgetxattr (fd, "user.overlay.whiteout", v, sizeof v) >= 0
                         || fgetxattr (fd, "trusted.overlay.whiteout", v, sizeof v) >= 0;
              ncaps = fgetxattr (fd, "security.capability", caps, sizeof caps);
            }
          else
            opaque = ((n = fgetxattr (fd, "user.overlay.opaque", v, sizeof v)) > 0
                      && build_pack_opaque_value (v, (size_t)n))
                     || ((n = fgetxattr (fd, "trusted.overlay.opaque", v, sizeof v)) > 0
                         && build_pack_opaque_value (v, (size_t)n));
        }
    }
  enum build_pack_kind k = build_pack_classify (st.st_mode, st.st_rdev, wh_xattr);
  if (k == BUILD_PACK_SKIP)
    return 0;
  struct pack_entry *p = job_add (j);
  p->mtime = st.st_mtime < j->epoch ? st.st_mtime : j->epoch;
  if (p->mtime < 0)
    p->mtime = 0;
  if (k == BUILD_PACK_WHITEOUT)
    {
      p->path = build_pack_whiteout_path (path);
      p->mode = S_IFREG;
      p->mtime = j->epoch;
      return 0;
    }
  p->path = xstrdup (path);
  p->mode = st.st_mode & (S_IFMT | 07777);
  p->uid = st.st_uid;
  p->gid = st.st_gid;
  if (has_rec > 0)
    {
      /* an owner the kernel could not set (a user without a subordinate range): as
         recorded by the credential emulation or COPY --chown (util/owner_record.h); the
         mode from the record where extraction had to widen a directory */
      p->uid = rec.uid;
      p->gid = rec.gid;
      p->mode = (st.st_mode & S_IFMT) | owner_record_mode (&rec, st.st_mode);
    }
  p->dev = st.st_dev;
  p->ino = st.st_ino;
  p->nlink = st.st_nlink;
  if (S_ISREG (st.st_mode))
    p->size = (uint64_t)st.st_size;
  if (ncaps > 0 && build_pack_fcaps_v2 (caps, (size_t)ncaps, p->fcaps))
    p->has_fcaps = true;
  if (S_ISLNK (st.st_mode))
    {
      char buf[4097];
      ssize_t n = readlinkat (dirfd, name, buf, sizeof buf - 1);
      if (n < 0)
        return nook_error_set (err, errno, "readlink '%s'", path);
      buf[n] = '\0';
      p->link = xstrdup (buf);
    }
  if (S_ISDIR (st.st_mode))
    {
      if (opaque)
        {
          struct pack_entry *o = job_add (j);
          o->path = xasprintf ("%s/.wh..wh..opq", path);
          o->mode = S_IFREG;
          o->mtime = j->epoch;
        }
      cleanup_close int sub = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0)
        return nook_error_set (err, errno, "open '%s'", path);
      return walk (j, sub, path, err);
    }
  return 0;
}

static int
walk (struct pack_job *j, int dirfd, const char *rel, nook_error_t *err)
{
  void *arg[2] = { j, (void *)rel };
  return fs_dir_foreach (dirfd, walk_entry, arg, err) < 0 ? -1 : 0;
}

static int
cmp_path (const void *a, const void *b)
{
  return strcmp (((const struct pack_entry *)a)->path, ((const struct pack_entry *)b)->path);
}

/* The child: walk, write the tar to outfd; exits 0 when something was written, and
 * reports an empty upper dir through ENODATA. */
static int
pack_fn (void *arg, nook_error_t *err)
{
  struct pack_job *j = arg;
  j->upperfd = openat (j->parentfd, j->upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (j->upperfd < 0)
    return nook_error_set (err, errno, "open upper dir '%s'", j->upper);
  if (walk (j, j->upperfd, "", err) < 0)
    return -1;
  if (j->n == 0)
    return nook_error_set (err, ENODATA, "empty");
  qsort (j->e, j->n, sizeof *j->e, cmp_path);
  struct imagefmt_tar_entry *te = xreallocarray (NULL, j->n, sizeof *te);
  char **srcs = xzalloc ((j->n + 1) * sizeof (char *));
  for (size_t i = 0; i < j->n; i++)
    {
      struct pack_entry *p = &j->e[i];
      te[i] = (struct imagefmt_tar_entry){ .path = p->path,
                                           .mode = p->mode,
                                           .uid = p->uid,
                                           .gid = p->gid,
                                           .linkname = p->link,
                                           .own_mtime = true,
                                           .mtime = p->mtime,
                                           .fcaps = p->has_fcaps ? p->fcaps : NULL,
                                           .fcaps_len = p->has_fcaps ? 20 : 0 };
      if (S_ISREG (p->mode) && p->nlink > 1)
        for (size_t k = 0; k < i; k++)
          if (S_ISREG (j->e[k].mode) && j->e[k].dev == p->dev && j->e[k].ino == p->ino
              && !j->e[k].hardlink)
            {
              p->hardlink = true;
              te[i].hardlink = true;
              te[i].linkname = j->e[k].path;
              break;
            }
      if (S_ISREG (p->mode) && !p->hardlink && p->size > 0)
        {
          srcs[i] = xasprintf ("/proc/self/fd/%d/%s", j->upperfd, p->path);
          te[i].src = srcs[i];
        }
    }
  int r = imagefmt_layer_write_tar (j->outfd, te, j->n, j->epoch, true, err);
  return r;
}

static int
rm_fn (void *arg, nook_error_t *err)
{
  struct pack_job *j = arg;
  return fs_rm_rf_at (j->parentfd, j->upper, err);
}

int
build_tmp_make (struct build *b, char **name, nook_error_t *err)
{
  unsigned char r[8];
  if (getrandom (r, sizeof r, 0) != sizeof r)
    return nook_error_set (err, errno, "getrandom");
  *name = xasprintf ("%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5], r[6],
                     r[7]);
  if (mkdirat (b->tmpfd, *name, 0755) < 0)
    {
      free (steal_pointer (name));
      return nook_error_set (err, errno, "create a directory in '%s'", b->tmpdir);
    }
  /* held while the step uses it: build_tmp_sweep leaves it alone */
  if (b->tmplock >= 0)
    close (b->tmplock);
  b->tmplock = openat (b->tmpfd, *name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (b->tmplock >= 0)
    flock (b->tmplock, LOCK_EX);
  return 0;
}

void
build_tmp_sweep (struct build *b)
{
  cleanup_dir DIR *d = NULL;
  int fd = openat (b->tmpfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      if (fd >= 0)
        close (fd);
      return;
    }
  struct dirent *de;
  time_t now = time (NULL);
  while ((de = readdir (d)) != NULL)
    {
      if (de->d_name[0] == '.' || strcmp (de->d_name, "empty") == 0 || strlen (de->d_name) != 16)
        continue;
      struct stat st;
      cleanup_close int l
          = openat (b->tmpfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      /* a minute old and nobody holds it: left by a build that was killed */
      if (l < 0 || fstat (l, &st) < 0 || now - st.st_mtime < 60 || flock (l, LOCK_EX | LOCK_NB) < 0)
        continue;
      build_tmp_remove (b, de->d_name);
    }
}

void
build_tmp_remove (struct build *b, const char *name)
{
  if (b->tmplock >= 0)
    {
      close (b->tmplock);
      b->tmplock = -1;
    }
  struct pack_job j = { .parentfd = b->tmpfd, .upper = name };
  cleanup_error nook_error_t e = NULL;
  if (faccessat (b->tmpfd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
    return;
  if (imagefmt_store_call (b->store, rm_fn, &j, &e) < 0)
    log_warn ("remove '%s/%s': %s", b->tmpdir, name, e->msg);
}

static int
copy_to_blob (struct build *b, int fd, const char *digest, nook_error_t *err)
{
  if (imagefmt_store_has_blob (b->store, digest))
    return 0;
  struct imagefmt_blob_writer *w = NULL;
  if (lseek (fd, 0, SEEK_SET) < 0 || imagefmt_blob_writer_open (b->store, digest, -1, &w, err) < 0)
    return -1;
  char buf[65536];
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          imagefmt_blob_writer_abort (w);
          return nook_error_set (err, errno, "read the layer tar");
        }
      if (n == 0)
        break;
      if (imagefmt_blob_writer_write (w, buf, (size_t)n, err) < 0)
        {
          imagefmt_blob_writer_abort (w);
          return -1;
        }
    }
  return imagefmt_blob_writer_commit (w, err);
}

int
build_pack_upper (struct build *b, const char *upper, char **blob, char **diff_id, bool *empty,
                  nook_error_t *err)
{
  *blob = *diff_id = NULL;
  *empty = false;
  cleanup_close int out = openat (b->tmpfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (out < 0)
    return nook_error_set (err, errno, "create a temporary file in '%s'", b->tmpdir);
  struct pack_job j = { .parentfd = b->tmpfd, .upper = upper, .outfd = out, .epoch = b->epoch };
  cleanup_error nook_error_t pe = NULL;
  if (imagefmt_store_call (b->store, pack_fn, &j, &pe) < 0)
    {
      if (pe->code == ENODATA && strcmp (pe->msg, "empty") == 0)
        {
          *empty = true;
          return 0;
        }
      *err = steal_pointer (&pe);
      return nook_error_wrap (err, "pack the layer");
    }
  if (lseek (out, 0, SEEK_SET) < 0)
    return nook_error_set (err, errno, "seek");
  cleanup_free char *d = imagefmt_digest_fd (out, err);
  if (d == NULL || copy_to_blob (b, out, d, err) < 0)
    return -1;
  uint64_t usize = 0;
  if (imagefmt_store_blob_diff_id (b->store, d, diff_id, &usize, err) < 0)
    return -1;
  *blob = steal_pointer (&d);
  return 0;
}
