/* imagefmt/export.c: see export.h. */
#include "imagefmt/export.h"
#include "util/owner_record.h"
#include "imagefmt/archive_dl.h"
#include "imagefmt/internal.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <dirent.h>
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
#define MAX_DEPTH 512

struct ex
{
  struct archive *a;
  const char *skip_top;
};

static bool
is_whiteout (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && st->st_rdev == makedev (0, 0);
}

static bool
is_opaque (int fd)
{
  char v[4];
  char p[32];
  snprintf (p, sizeof p, "/proc/self/fd/%d", fd);
  ssize_t n = getxattr (p, "user.overlay.opaque", v, sizeof v);
  if (n == 1 && v[0] == 'y')
    return true;
  n = getxattr (p, "trusted.overlay.opaque", v, sizeof v);
  if (n == 1 && v[0] == 'y')
    return true;
  n = getxattr (p, "user.fuseoverlayfs.opaque", v, sizeof v);
  if (n == 1 && v[0] == 'y')
    return true;
  return faccessat (fd, WH_OPAQUE, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

struct found
{
  char *name;
  size_t layer; /* index into the fds (0 = top) */
};

static int
cmp_found (const void *a, const void *b)
{
  return strcmp (((const struct found *)a)->name, ((const struct found *)b)->name);
}

/* Names visible in this directory: each from the topmost layer that has it. */
static struct found *
visible (int *fds, size_t n, bool top_is_root, const char *skip_top, size_t *count)
{
  char **seen = xzalloc (sizeof (char *));
  struct found *f = NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (fds[i] < 0)
        continue;
      int dup = fcntl (fds[i], F_DUPFD_CLOEXEC, 3);
      DIR *d = dup >= 0 ? fdopendir (dup) : NULL;
      struct dirent *de;
      if (d == NULL && dup >= 0)
        close (dup);
      if (d)
        rewinddir (d); /* the dup shares the offset of fds[i] */
      while (d && (de = readdir (d)) != NULL)
        {
          const char *name = de->d_name;
          struct stat st;
          if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0 || strcmp (name, WH_OPAQUE) == 0)
            continue;
          if (top_is_root && i == 0 && skip_top && strcmp (name, skip_top) == 0)
            continue;
          if (str_has_prefix (name, WH_PREFIX))
            {
              if (!strv_contains (seen, name + strlen (WH_PREFIX)))
                strv_push (&seen, name + strlen (WH_PREFIX));
              continue;
            }
          if (strv_contains (seen, name))
            continue;
          strv_push (&seen, name);
          if (fstatat (fds[i], name, &st, AT_SYMLINK_NOFOLLOW) < 0 || is_whiteout (&st))
            continue;
          f = xreallocarray (f, k + 1, sizeof *f);
          f[k].name = xstrdup (name);
          f[k].layer = i;
          k++;
        }
      if (d)
        closedir (d);
      if (is_opaque (fds[i]))
        break;
    }
  strv_free (seen);
  if (k)
    qsort (f, k, sizeof *f, cmp_found);
  *count = k;
  return f;
}

/* The owner a tar entry gets: the recorded one (util/owner_record.h: the
 * credential emulation's user.nook.owner, a layer's override_stat) or the
 * file's own. */
static void
owner (int fd, const struct stat *st, uid_t *uid, gid_t *gid, mode_t *mode)
{
  struct owner_record r;
  *uid = st->st_uid;
  *gid = st->st_gid;
  *mode = st->st_mode & 07777;
  if (S_ISLNK (st->st_mode) || owner_record_get_fd (fd, &r) != 1)
    return;
  *uid = r.uid;
  *gid = r.gid;
  *mode = owner_record_mode (&r, st->st_mode);
}

static int
write_entry (struct ex *x, int dirfd, const char *name, const char *path, const struct stat *st,
             nook_error_t *err)
{
  cleanup_close int fd = -1;
  char target[4097];
  if (S_ISREG (st->st_mode))
    fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  else
    fd = openat (dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open '%s'", path);
  uid_t uid;
  gid_t gid;
  mode_t mode;
  owner (fd, st, &uid, &gid, &mode);
  struct archive_entry *e = archive_entry_new ();
  if (e == NULL)
    oom ();
  cleanup_free char *p = S_ISDIR (st->st_mode) ? xasprintf ("%s/", path) : xstrdup (path);
  archive_entry_set_pathname (e, p);
  archive_entry_set_mode (e, (st->st_mode & S_IFMT) | mode);
  archive_entry_set_uid (e, uid);
  archive_entry_set_gid (e, gid);
  archive_entry_set_mtime (e, st->st_mtim.tv_sec, 0);
  archive_entry_set_size (e, S_ISREG (st->st_mode) ? st->st_size : 0);
  if (S_ISLNK (st->st_mode))
    {
      ssize_t n = readlinkat (dirfd, name, target, sizeof target - 1);
      if (n < 0)
        {
          archive_entry_free (e);
          return nook_error_set (err, errno, "read link '%s'", path);
        }
      target[n] = '\0';
      archive_entry_set_symlink (e, target);
    }
  if (S_ISCHR (st->st_mode) || S_ISBLK (st->st_mode))
    {
      archive_entry_set_rdevmajor (e, major (st->st_rdev));
      archive_entry_set_rdevminor (e, minor (st->st_rdev));
    }
  int r = archive_write_header (x->a, e);
  archive_entry_free (e);
  if (r != ARCHIVE_OK)
    return nook_error_set (err, EIO, "write '%s': %s", path, archive_error_string (x->a));
  if (!S_ISREG (st->st_mode))
    return 0;
  char buf[1 << 16];
  off_t left = st->st_size;
  while (left > 0)
    {
      ssize_t n = read (fd, buf, sizeof buf < (size_t)left ? sizeof buf : (size_t)left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return nook_error_set (err, n < 0 ? errno : EIO, "read '%s' (it changed while exported)",
                               path);
      if (archive_write_data (x->a, buf, (size_t)n) != n)
        return nook_error_set (err, EIO, "write '%s': %s", path, archive_error_string (x->a));
      left -= n;
    }
  return 0;
}

static int export_dir (struct ex *x, int *fds, size_t n, const char *prefix, int depth,
                       nook_error_t *err);

static int
export_entry (struct ex *x, int *fds, size_t n, const struct found *f, const char *prefix,
              int depth, nook_error_t *err)
{
  struct stat st;
  cleanup_free char *path = *prefix ? xasprintf ("%s/%s", prefix, f->name) : xstrdup (f->name);
  if (fstatat (fds[f->layer], f->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return nook_error_set (err, errno, "stat '%s'", path);
  if (write_entry (x, fds[f->layer], f->name, path, &st, err) < 0)
    return -1;
  if (!S_ISDIR (st.st_mode))
    return 0;
  if (depth >= MAX_DEPTH)
    return nook_error_set (err, ELOOP, "'%s': directories nested too deep", path);
  /* The directory's content: from its layer down to the first layer where the name is
   * not a directory (or is whited out). */
  int *sub = xzalloc ((n + 1) * sizeof *sub);
  for (size_t i = 0; i < n; i++)
    sub[i] = -1;
  for (size_t i = f->layer; i < n; i++)
    {
      struct stat s2;
      if (fds[i] < 0)
        continue;
      if (i > f->layer)
        {
          cleanup_free char *wh = xasprintf (WH_PREFIX "%s", f->name);
          if (faccessat (fds[i], wh, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
            break;
        }
      if (fstatat (fds[i], f->name, &s2, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (!S_ISDIR (s2.st_mode))
        break;
      sub[i] = openat (fds[i], f->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub[i] < 0)
        {
          int e = errno;
          for (size_t k = 0; k < n; k++)
            if (sub[k] >= 0)
              close (sub[k]);
          free (sub);
          return nook_error_set (err, e, "open directory '%s'", path);
        }
    }
  int r = export_dir (x, sub, n, path, depth + 1, err);
  for (size_t k = 0; k < n; k++)
    if (sub[k] >= 0)
      close (sub[k]);
  free (sub);
  return r;
}

static int
export_dir (struct ex *x, int *fds, size_t n, const char *prefix, int depth, nook_error_t *err)
{
  size_t count = 0;
  struct found *f = visible (fds, n, depth == 0, x->skip_top, &count);
  int r = 0;
  for (size_t i = 0; i < count && r == 0; i++)
    r = export_entry (x, fds, n, &f[i], prefix, depth, err);
  for (size_t i = 0; i < count; i++)
    free (f[i].name);
  free (f);
  return r;
}

struct job
{
  char *const *dirs;
  const char *skip_top;
  int outfd;
};

static void
free_writep (struct archive **a)
{
  if (*a)
    archive_write_free (*a);
}

static int
job_export (void *arg, nook_error_t *err)
{
  struct job *j = arg;
  size_t n = strv_len (j->dirs);
  __attribute__ ((cleanup (free_writep))) struct archive *a = archive_write_new ();
  struct ex x = { .a = a, .skip_top = j->skip_top };
  if (a == NULL)
    oom ();
  int *fds = xzalloc ((n + 1) * sizeof *fds);
  int r = 0;
  /* fds[0] is the top: the order overlay reads them. */
  for (size_t i = 0; i < n; i++)
    {
      fds[i] = open (j->dirs[n - 1 - i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fds[i] < 0 && r == 0)
        r = nook_error_set (err, errno, "open '%s'", j->dirs[n - 1 - i]);
    }
  if (r == 0
      && (archive_write_set_format_pax_restricted (a) != ARCHIVE_OK
          || archive_write_set_bytes_in_last_block (a, 1) != ARCHIVE_OK
          || archive_write_open_fd (a, j->outfd) != ARCHIVE_OK))
    r = nook_error_set (err, EIO, "write tar: %s", archive_error_string (a));
  if (r == 0)
    r = export_dir (&x, fds, n, "", 0, err);
  if (r == 0 && archive_write_close (a) != ARCHIVE_OK)
    r = nook_error_set (err, EIO, "write tar: %s", archive_error_string (a));
  for (size_t i = 0; i < n; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  free (fds);
  return r < 0 ? -1 : 0;
}

int
imagefmt_export_tree (struct imagefmt_store *s, char *const *dirs, const char *skip_top, int outfd,
                      nook_error_t *err)
{
  struct job j = { .dirs = dirs, .skip_top = skip_top, .outfd = outfd };
  if (imagefmt_archive_load (err) < 0)
    return -1;
  if (s->hooks.call)
    return s->hooks.call (s->hooks.data, job_export, &j, err);
  return job_export (&j, err);
}
