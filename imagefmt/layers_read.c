/* imagefmt/layers_read.c: an image's file read through its unpacked layers, as overlay
 * shows it to the container (see imagefmt_layers_read_file in layer.h).
 *
 * The path is resolved one component at a time in the union of the layers, the way
 * overlayfs looks names up: in a directory, the topmost layer that has the name gives
 * it; a whiteout (a 0:0 character device, or the .wh.NAME file nook writes where mknod
 * is refused) hides it and everything below; a directory merges with the same
 * directory of the layers below it, down to the first that is opaque
 * (user.overlay.opaque, trusted.overlay.opaque or a .wh..wh..opq file) or that has
 * something else there.  Symlinks are followed in the union (a link in one layer may
 * name a file of another: Debian's /etc/os-release), absolute ones from the image's
 * root, and '..' stops at that root, as RESOLVE_IN_ROOT would.  Inside one layer
 * every open is of a single name, O_NOFOLLOW, under an fd of a directory already
 * resolved: nothing outside the layers is ever reached.  The file found is opened
 * O_NONBLOCK and must be regular (util/fs_read.h). */
#include "imagefmt/layer.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/fs_read.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define MAX_SYMLINKS 40
#define MAX_DEPTH 256

/* One directory of the union: the layers that make it, each as an fd (-1 where that
 * layer does not have it), topmost first. */
struct udir
{
  int *fd;
  size_t n;
};

static void
udir_close (struct udir *d)
{
  for (size_t i = 0; i < d->n; i++)
    if (d->fd[i] >= 0)
      close (d->fd[i]);
  free (d->fd);
  d->fd = NULL;
  d->n = 0;
}

static bool
is_whiteout (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && st->st_rdev == makedev (0, 0);
}

static bool
has_name (int dirfd, const char *name)
{
  struct stat st;
  return fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static bool
is_opaque (int dirfd)
{
  char p[32], v[2];
  fs_fd_path (dirfd, p);
  for (int i = 0; i < 2; i++)
    {
      const char *key = i ? "trusted.overlay.opaque" : "user.overlay.opaque";
      if (getxattr (p, key, v, sizeof v) == 1 && v[0] == 'y')
        return true;
    }
  return has_name (dirfd, WH_OPAQUE);
}

/* Does this layer's directory have the .wh.NAME whiteout of name? */
static bool
has_wh_file (int dirfd, const char *name)
{
  cleanup_free char *wh = xasprintf (WH_PREFIX "%s", name);
  return has_name (dirfd, wh);
}

/* The union directory name inside dir: its layers, from the topmost that has it as a
 * directory down to the first opaque one or the first with a whiteout or a non-directory
 * there. */
static void
udir_child (const struct udir *dir, size_t from, const char *name, struct udir *out)
{
  out->fd = xreallocarray (NULL, dir->n, sizeof *out->fd);
  out->n = 0;
  for (size_t i = from; i < dir->n; i++)
    {
      if (dir->fd[i] < 0)
        continue;
      struct stat st;
      if (fstatat (dir->fd[i], name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (has_wh_file (dir->fd[i], name))
            break;
          continue;
        }
      if (!S_ISDIR (st.st_mode)) /* a whiteout, or a file: nothing below shows */
        break;
      int fd = openat (dir->fd[i], name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        break;
      out->fd[out->n++] = fd;
      if (is_opaque (fd))
        break;
    }
}

/* Where name is found in dir: its layer index (st set), or -1 (missing or hidden). */
static ssize_t
udir_find (const struct udir *dir, const char *name, struct stat *st)
{
  if (strncmp (name, WH_PREFIX, strlen (WH_PREFIX)) == 0)
    return -1; /* whiteouts and opaque markers are not files of the image */
  for (size_t i = 0; i < dir->n; i++)
    {
      if (dir->fd[i] < 0)
        continue;
      /* A name this layer has is its own (a whiteout hides it); one it lacks may be
       * whited out here (.wh.NAME), else it is looked for below. */
      if (fstatat (dir->fd[i], name, st, AT_SYMLINK_NOFOLLOW) == 0)
        return is_whiteout (st) ? -1 : (ssize_t)i;
      if (has_wh_file (dir->fd[i], name))
        return -1;
    }
  return -1;
}

/* The resolution: a stack of union directories, the root at 0. */
struct walk
{
  struct udir stack[MAX_DEPTH];
  size_t depth; /* stack[depth - 1] is the current directory */
  int links;
};

static void
walk_free (struct walk *w)
{
  while (w->depth > 0)
    udir_close (&w->stack[--w->depth]);
}

static int
walk_root (struct walk *w, char *const *dirs, nook_error_t *err)
{
  size_t n = strv_len (dirs);
  struct udir *root = &w->stack[0];
  root->fd = xreallocarray (NULL, n ? n : 1, sizeof *root->fd);
  root->n = 0;
  w->depth = 1;
  for (size_t i = n; i-- > 0;)
    {
      int fd = open (dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        return nook_error_set (err, errno, "open layer '%s'", dirs[i]);
      root->fd[root->n++] = fd;
    }
  return 0;
}

/* Back to the root, for an absolute symlink. */
static void
walk_to_root (struct walk *w)
{
  while (w->depth > 1)
    udir_close (&w->stack[--w->depth]);
}

/* Resolve path (relative to the current directory); on success the last component is
 * found in layer *layer of the current directory, named *leaf (caller frees), st set. */
static int
walk_path (struct walk *w, const char *path, ssize_t *layer, char **leaf, struct stat *st,
           const char *orig, nook_error_t *err)
{
  cleanup_free char *rest = xstrdup (path);
  char *p = rest;
  for (;;)
    {
      while (*p == '/')
        p++;
      char *slash = strchr (p, '/');
      if (slash)
        *slash = '\0';
      char *name = p;
      p = slash ? slash + 1 : p + strlen (p);
      bool last = strspn (p, "/") == strlen (p);
      if (*name == '\0' || strcmp (name, ".") == 0)
        {
          if (!last)
            continue;
          return nook_error_set (err, 0, "%s: not a regular file (directory)", orig);
        }
      if (strcmp (name, "..") == 0)
        {
          if (w->depth > 1)
            udir_close (&w->stack[--w->depth]);
          if (!last)
            continue;
          return nook_error_set (err, 0, "%s: not a regular file (directory)", orig);
        }
      struct udir *cur = &w->stack[w->depth - 1];
      ssize_t i = udir_find (cur, name, st);
      if (i < 0)
        return nook_error_set (err, ENOENT, "%s", orig);
      if (S_ISLNK (st->st_mode))
        {
          if (++w->links > MAX_SYMLINKS)
            return nook_error_set (err, ELOOP, "open %s", orig);
          char target[PATH_MAX];
          ssize_t n = readlinkat (cur->fd[i], name, target, sizeof target - 1);
          if (n < 0)
            return nook_error_set (err, errno, "open %s", orig);
          target[n] = '\0';
          if (target[0] == '/')
            walk_to_root (w);
          /* The link's target, then what was left of the path. */
          cleanup_free char *next = xasprintf ("%s/%s", target, p);
          return walk_path (w, next, layer, leaf, st, orig, err);
        }
      if (S_ISDIR (st->st_mode) && !last)
        {
          if (w->depth == MAX_DEPTH)
            return nook_error_set (err, ENAMETOOLONG, "open %s", orig);
          udir_child (cur, (size_t)i, name, &w->stack[w->depth++]);
          continue;
        }
      if (!last)
        return nook_error_set (err, ENOTDIR, "open %s", orig);
      *layer = i;
      *leaf = xstrdup (name);
      return 0;
    }
}

static int
read_found (struct walk *w, const char *path, size_t max, char **out, size_t *len,
            nook_error_t *err)
{
  cleanup_free char *leaf = NULL;
  ssize_t layer = -1;
  struct stat st;
  if (walk_path (w, path, &layer, &leaf, &st, path, err) < 0)
    return -1;
  if (!S_ISREG (st.st_mode))
    return nook_error_set (err, 0, "%s: not a regular file (%s)", path, fs_kind_name (st.st_mode));
  int dirfd = w->stack[w->depth - 1].fd[layer];
  cleanup_close int fd = openat (dirfd, leaf, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open %s", path);
  return fs_read_fd (fd, path, max, false, out, len, err);
}

int
imagefmt_layers_read_file (char *const *dirs, const char *path, size_t max, char **out, size_t *len,
                           nook_error_t *err)
{
  struct walk *w = xzalloc (sizeof *w);
  int r = walk_root (w, dirs, err);
  if (r == 0)
    r = read_found (w, path, max, out, len, err);
  walk_free (w);
  free (w);
  return r;
}
