/* util/fs.c: see fs.h. */
#include "util/fs.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int
fs_open_in_root (int rootfd, const char *path, int flags, mode_t mode)
{
  struct open_how how = {
    .flags = (unsigned long long)(flags | O_CLOEXEC),
    .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  int fd;
  do
    fd = (int)syscall (SYS_openat2, rootfd, path, &how, sizeof how);
  while (fd < 0 && errno == EAGAIN);
  return fd;
}

int
fs_mkdir_p_in_root (int rootfd, const char *path, mode_t mode, nook_error_t *err)
{
  /* Most often it is all there already: one lookup, the same resolution. */
  int whole = fs_open_in_root (rootfd, path, O_PATH | O_DIRECTORY, 0);
  if (whole >= 0)
    return whole;
  cleanup_free char *copy = xstrdup (path);
  struct strbuf prefix = { 0 };
  cleanup_close int cur = fcntl (rootfd, F_DUPFD_CLOEXEC, 3);
  if (cur < 0)
    return nook_error_set (err, errno, "dup");
  char *save = NULL;
  for (char *comp = strtok_r (copy, "/", &save); comp; comp = strtok_r (NULL, "/", &save))
    {
      if (strcmp (comp, ".") == 0)
        continue;
      strbuf_appendc (&prefix, '/');
      strbuf_append (&prefix, comp);
      /* What exists resolves from the root, so symlinks and '..' stay inside
       * and mean what they mean in the container. */
      int next = fs_open_in_root (rootfd, prefix.buf, O_PATH | O_DIRECTORY, 0);
      if (next < 0 && errno == ENOENT && strcmp (comp, "..") != 0)
        {
          if (mkdirat (cur, comp, mode) < 0 && errno != EEXIST)
            {
              int e = errno;
              strbuf_free (&prefix);
              return nook_error_set (err, e, "mkdir '%s' (in '%s')", comp, path);
            }
          next = openat (cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
      if (next < 0)
        {
          int e = errno;
          strbuf_free (&prefix);
          return nook_error_set (err, e, "open directory '%s' (in '%s')", comp, path);
        }
      close (cur);
      cur = next;
    }
  strbuf_free (&prefix);
  return take_fd (&cur);
}

int
fs_mount_target_in_root (int rootfd, const char *path, bool is_dir, nook_error_t *err)
{
  if (is_dir)
    return fs_mkdir_p_in_root (rootfd, path, 0755, err);

  /* A file that exists, or a symlink to one, resolved inside the root (as
   * images link /etc/resolv.conf to ../run/...): mount on what it names. */
  int found = fs_open_in_root (rootfd, path, O_PATH, 0);
  if (found >= 0)
    {
      struct stat st;
      if (fstat (found, &st) == 0 && !S_ISDIR (st.st_mode))
        return found;
      close (found);
      return nook_error_set (err, EISDIR, "mount target '%s' is a directory", path);
    }
  /* Missing, or a dangling symlink: create what it names, still inside the root, and
   * mount on that (an fd of the new empty file names it as well as an O_PATH one). */
  int made = fs_open_in_root (rootfd, path, O_WRONLY | O_CREAT | O_NONBLOCK, 0644);
  if (made >= 0)
    return made;

  cleanup_free char *copy = xstrdup (path);
  char *slash = strrchr (copy, '/');
  const char *leaf = copy;
  cleanup_close int parent = -1;
  if (slash)
    {
      *slash = '\0';
      leaf = slash + 1;
      parent = fs_mkdir_p_in_root (rootfd, *copy ? copy : "/", 0755, err);
    }
  else
    parent = fcntl (rootfd, F_DUPFD_CLOEXEC, 3);
  if (parent < 0)
    return -1;
  if (*leaf == '\0' || strcmp (leaf, "..") == 0 || strcmp (leaf, ".") == 0)
    return nook_error_set (err, EINVAL, "invalid mount target '%s'", path);
  int fd = openat (parent, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    {
      int c = openat (parent, leaf, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (c < 0 && errno != EEXIST)
        return nook_error_set (err, errno, "create mount target '%s'", path);
      if (c >= 0)
        close (c);
      fd = openat (parent, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    }
  if (fd < 0)
    return nook_error_set (err, errno, "open mount target '%s'", path);
  struct stat st;
  if (fstat (fd, &st) == 0 && S_ISLNK (st.st_mode))
    {
      close (fd);
      return nook_error_set (err, ELOOP, "mount target '%s' is a symbolic link", path);
    }
  return fd;
}

int
fs_mkdir_p (const char *path, mode_t mode, nook_error_t *err)
{
  /* Most often it is there already: one system call. */
  if (mkdir (path, mode) == 0 || errno == EEXIST)
    return 0;
  cleanup_free char *p = xstrdup (path);
  for (char *s = p + 1; *s; s++)
    {
      if (*s != '/')
        continue;
      *s = '\0';
      if (mkdir (p, mode) < 0 && errno != EEXIST)
        return nook_error_set (err, errno, "mkdir '%s'", p);
      *s = '/';
    }
  if (mkdir (p, mode) < 0 && errno != EEXIST)
    return nook_error_set (err, errno, "mkdir '%s'", p);
  return 0;
}

int
fs_read_file_at (int dirfd, const char *path, size_t max, char **out, size_t *len,
                 nook_error_t *err)
{
  cleanup_close int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open '%s'", path);
  struct strbuf b = { 0 };
  char chunk[8192];
  for (;;)
    {
      ssize_t n = read (fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          strbuf_free (&b);
          return nook_error_set (err, errno, "read '%s'", path);
        }
      if (n == 0)
        break;
      if (b.len + (size_t)n > max)
        {
          strbuf_free (&b);
          return nook_error_set (err, EFBIG, "'%s' is larger than %zu bytes", path, max);
        }
      strbuf_appendn (&b, chunk, (size_t)n);
    }
  if (len)
    *len = b.len;
  *out = strbuf_steal (&b);
  return 0;
}

int
fs_write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      p += n;
      len -= (size_t)n;
    }
  return 0;
}

static int
write_replace (int dirfd, const char *name, const void *data, size_t len, mode_t mode, bool sync,
               nook_error_t *err)
{
  cleanup_free char *tmp = xasprintf ("%s.tmp-%d", name, (int)getpid ());
  cleanup_close int fd
      = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    return nook_error_set (err, errno, "create '%s'", tmp);
  if (fs_write_all (fd, data, len) < 0 || (sync && fsync (fd) < 0))
    {
      int e = errno;
      unlinkat (dirfd, tmp, 0);
      return nook_error_set (err, e, "write '%s'", tmp);
    }
  if (renameat (dirfd, tmp, dirfd, name) < 0)
    {
      int e = errno;
      unlinkat (dirfd, tmp, 0);
      return nook_error_set (err, e, "rename '%s' to '%s'", tmp, name);
    }
  return 0;
}

int
fs_write_atomic_at (int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                    nook_error_t *err)
{
  return write_replace (dirfd, name, data, len, mode, true, err);
}

int
fs_write_file_at (int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                  nook_error_t *err)
{
  return write_replace (dirfd, name, data, len, mode, false, err);
}

int
fs_dir_foreach (int dirfd, int (*fn) (int dirfd, const char *name, void *arg, nook_error_t *err),
                void *arg, nook_error_t *err)
{
  /* getdents64 on a dup (readdir's fdopendir would add an fstat and two fcntl): the
   * dup shares dirfd's offset, so a second walk of the same fd starts at 0 again. */
  cleanup_close int dup = fcntl (dirfd, F_DUPFD_CLOEXEC, 3);
  if (dup < 0)
    return nook_error_set (err, errno, "dup");
  if (lseek (dup, 0, SEEK_SET) < 0)
    return nook_error_set (err, errno, "rewind a directory");
  union
  {
    struct dirent64 first;
    char bytes[8192];
  } buf;
  for (;;)
    {
      ssize_t n = getdents64 (dup, buf.bytes, sizeof buf.bytes);
      if (n < 0)
        return nook_error_set (err, errno, "read a directory");
      if (n == 0)
        return 0;
      for (ssize_t off = 0; off < n;)
        {
          struct dirent64 *de = (struct dirent64 *)(buf.bytes + off);
          off += de->d_reclen;
          if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
            continue;
          int r = fn (dirfd, de->d_name, arg, err);
          if (r != 0)
            return r;
        }
    }
}

static int
rm_entry (int dirfd, const char *name, void *arg, nook_error_t *err)
{
  return fs_rm_rf_at (dirfd, name, err);
}

int
fs_rm_rf_at (int dirfd, const char *name, nook_error_t *err)
{
  if (unlinkat (dirfd, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return nook_error_set (err, errno, "remove '%s'", name);
  cleanup_close int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      /* A directory we may not read: try to make it ours to read. */
      if (errno == EACCES && fchmodat (dirfd, name, 0700, AT_SYMLINK_NOFOLLOW) == 0)
        fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return nook_error_set (err, errno, "open '%s'", name);
    }
  struct stat st;
  if (fstat (fd, &st) == 0 && (st.st_mode & 0700) != 0700)
    fchmod (fd, st.st_mode | 0700);
  if (fs_dir_foreach (fd, rm_entry, NULL, err) < 0)
    return nook_error_wrap (err, "in '%s'", name);
  if (unlinkat (dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return nook_error_set (err, errno, "remove directory '%s'", name);
  return 0;
}

void
fs_fd_path (int fd, char buf[static 32])
{
  snprintf (buf, 32, "/proc/self/fd/%d", fd);
}

/* Is dir (created 0700 if missing) a directory we can trust: not a symlink, ours, mode
 * 0700, short enough for the unix sockets nook may make in it?  NULL if so, else why not. */
static bool
too_long (const char *dir)
{
  return strlen (dir) + 1 + FS_RUNTIME_SOCKET_NAME_MAX >= 108;
}

static char *
untrusted_dir (const char *dir)
{
  uid_t uid = getuid ();
  if (too_long (dir))
    return xasprintf ("'%s' is too long for unix socket paths (108 bytes)", dir);
  /* Most often it is there and ours: one open (no symlink followed) and its fstat. */
  cleanup_close int fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    {
      if (mkdir (dir, 0700) < 0 && errno != EEXIST)
        return xasprintf ("cannot create '%s': %s", dir, strerror (errno));
      fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
  struct stat st;
  if (fd < 0)
    {
      int e = errno;
      if (lstat (dir, &st) < 0)
        return xasprintf ("cannot stat '%s': %s", dir, strerror (errno));
      if (S_ISLNK (st.st_mode))
        return xasprintf ("'%s' is a symlink", dir);
      if (!S_ISDIR (st.st_mode))
        return xasprintf ("'%s' is not a directory", dir);
      if (st.st_uid != uid)
        return xasprintf ("'%s' is owned by uid %u, not %u", dir, (unsigned)st.st_uid,
                          (unsigned)uid);
      return xasprintf ("cannot open '%s': %s", dir, strerror (e));
    }
  if (fstat (fd, &st) < 0)
    return xasprintf ("cannot open '%s': %s", dir, strerror (errno));
  if (st.st_uid != uid)
    return xasprintf ("'%s' is owned by uid %u, not %u", dir, (unsigned)st.st_uid, (unsigned)uid);
  if ((st.st_mode & 0077) != 0)
    return xasprintf ("'%s' has mode %04o, not 0700", dir, (unsigned)(st.st_mode & 07777));
  return NULL;
}

char *
fs_runtime_dir_why (char **why, nook_error_t *err)
{
  const char *xdg = getenv ("XDG_RUNTIME_DIR");
  bool use_xdg = xdg && *xdg == '/' && access (xdg, W_OK) == 0;
  cleanup_free char *dir
      = use_xdg ? xasprintf ("%s/nook", xdg) : xasprintf ("/tmp/nook-%u", (unsigned)getuid ());
  cleanup_free char *refused = untrusted_dir (dir);
  if (refused == NULL)
    {
      if (why)
        *why = xstrdup (use_xdg       ? "in $XDG_RUNTIME_DIR"
                        : xdg && *xdg ? "$XDG_RUNTIME_DIR is not an absolute writable directory"
                                      : "$XDG_RUNTIME_DIR is not set");
      return steal_pointer (&dir);
    }
  /* Another user may own (squat) /tmp/nook-UID: fall back to a private directory. */
  const char *state = getenv ("XDG_STATE_HOME"), *home = getenv ("HOME");
  cleanup_free char *fallback = NULL;
  cleanup_free char *base = NULL;
  if (state && *state == '/')
    base = xasprintf ("%s/nook", state);
  else if (home && *home == '/')
    base = xasprintf ("%s/.local/state/nook", home);
  cleanup_free char *bad = NULL;
  if (base == NULL)
    bad = xstrdup ("neither $XDG_STATE_HOME nor $HOME is an absolute path");
  else
    {
      fallback = xasprintf ("%s/run", base);
      nook_error_t e = NULL;
      if (too_long (fallback))
        bad = untrusted_dir (fallback); /* says so, before anything is created */
      else if (fs_mkdir_p (base, 0700, &e) < 0)
        {
          bad = nook_error_text (e);
          nook_error_free (&e);
        }
      else
        bad = untrusted_dir (fallback);
    }
  if (bad)
    {
      nook_error_set (err, EPERM, "no trusted runtime directory: %s; fallback: %s", refused, bad);
      return NULL;
    }
  if (why)
    *why = xasprintf ("fallback: %s", refused);
  return steal_pointer (&fallback);
}

static char *pinned_runtime_dir;

char *
fs_runtime_dir (nook_error_t *err)
{
  if (pinned_runtime_dir)
    return xstrdup (pinned_runtime_dir);
  return fs_runtime_dir_why (NULL, err);
}

void
fs_runtime_dir_pin (void)
{
  nook_error_t e = NULL;
  if (pinned_runtime_dir == NULL)
    pinned_runtime_dir = fs_runtime_dir_why (NULL, &e);
  nook_error_free (&e);
}
