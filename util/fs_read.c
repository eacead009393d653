/* util/fs_read.c: see fs_read.h. */
#include "util/fs_read.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *
fs_kind_name (mode_t mode)
{
  switch (mode & S_IFMT)
    {
    case S_IFREG:
      return "regular file";
    case S_IFDIR:
      return "directory";
    case S_IFIFO:
      return "fifo";
    case S_IFCHR:
      return "character device";
    case S_IFBLK:
      return "block device";
    case S_IFSOCK:
      return "socket";
    case S_IFLNK:
      return "symbolic link";
    default:
      return "unknown file type";
    }
}

static int
not_regular (nook_error_t *err, const char *name, mode_t mode)
{
  return nook_error_set (err, 0, "%s: not a regular file (%s)", name, fs_kind_name (mode));
}

static int
too_large (nook_error_t *err, const char *name, size_t max)
{
  return nook_error_set (err, 0, "%s: larger than %zu bytes", name, max);
}

int
fs_open_regular_in_root (int rootfd, const char *path, struct stat *st, nook_error_t *err)
{
  struct stat local;
  if (st == NULL)
    st = &local;
  memset (st, 0, sizeof *st);
  cleanup_close int fd = fs_open_in_root (rootfd, path, O_RDONLY | O_NONBLOCK, 0);
  if (fd < 0)
    {
      int e = errno;
      if (e == ENOENT)
        return nook_error_set (err, ENOENT, "%s", path);
      /* Say what is there when it cannot be opened (a device without a driver, an
       * overlay whiteout, a socket). */
      cleanup_close int p = fs_open_in_root (rootfd, path, O_PATH, 0);
      if (p >= 0 && fstat (p, st) == 0 && !S_ISREG (st->st_mode))
        return not_regular (err, path, st->st_mode);
      memset (st, 0, sizeof *st);
      return nook_error_set (err, e, "open %s", path);
    }
  if (fstat (fd, st) < 0)
    return nook_error_set (err, errno, "stat %s", path);
  if (!S_ISREG (st->st_mode))
    return not_regular (err, path, st->st_mode);
  return take_fd (&fd);
}

/* One read of at most `room` bytes into b; for a stream, wait (poll) first: a FIFO
 * opened O_NONBLOCK reports no hang-up before it has seen a writer, so this waits
 * for one as a blocking open would, and never misses data a quick writer left. */
static ssize_t
read_some (int fd, bool stream, char *buf, size_t room)
{
  for (;;)
    {
      if (stream)
        {
          struct pollfd p = { .fd = fd, .events = POLLIN };
          if (poll (&p, 1, -1) < 0)
            {
              if (errno == EINTR)
                continue;
              return -1;
            }
        }
      ssize_t n = read (fd, buf, room);
      if (n < 0 && (errno == EINTR || (stream && errno == EAGAIN)))
        continue;
      return n;
    }
}

int
fs_read_fd (int fd, const char *name, size_t max, bool streams, char **out, size_t *len,
            nook_error_t *err)
{
  struct stat st;
  if (fstat (fd, &st) < 0)
    return nook_error_set (err, errno, "stat %s", name);
  bool stream = S_ISFIFO (st.st_mode);
  if (!S_ISREG (st.st_mode) && !(streams && stream))
    return not_regular (err, name, st.st_mode);
  if (S_ISREG (st.st_mode) && (uint64_t)st.st_size > max)
    return too_large (err, name, max);
  struct strbuf b = { 0 };
  char chunk[16384];
  for (;;)
    {
      /* One byte more than allowed tells a file of exactly max bytes from a larger one. */
      size_t room = max - b.len + 1 < sizeof chunk ? max - b.len + 1 : sizeof chunk;
      ssize_t n = read_some (fd, stream, chunk, room);
      if (n < 0)
        {
          int e = errno;
          strbuf_free (&b);
          return nook_error_set (err, e, "read %s", name);
        }
      if (n == 0)
        break;
      if (b.len + (size_t)n > max)
        {
          strbuf_free (&b);
          return too_large (err, name, max);
        }
      strbuf_appendn (&b, chunk, (size_t)n);
    }
  if (len)
    *len = b.len;
  *out = strbuf_steal (&b);
  return 0;
}

int
fs_read_in_root (int rootfd, const char *path, size_t max, char **out, size_t *len,
                 nook_error_t *err)
{
  cleanup_close int fd = fs_open_regular_in_root (rootfd, path, NULL, err);
  if (fd < 0)
    return -1;
  return fs_read_fd (fd, path, max, false, out, len, err);
}

int
fs_read_user_file (const char *path, size_t max, char **out, size_t *len, nook_error_t *err)
{
  /* Looked at before it is opened: opening a device can have effects. */
  cleanup_close int p = open (path, O_PATH | O_CLOEXEC);
  struct stat st;
  if (p < 0)
    return nook_error_set (err, errno, "open %s", path);
  if (fstat (p, &st) < 0)
    return nook_error_set (err, errno, "stat %s", path);
  if (!S_ISREG (st.st_mode) && !S_ISFIFO (st.st_mode))
    return nook_error_set (err, 0, "%s: not a regular file or pipe (%s)", path,
                           fs_kind_name (st.st_mode));
  char fdpath[32];
  fs_fd_path (p, fdpath);
  cleanup_close int fd = open (fdpath, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open %s", path);
  return fs_read_fd (fd, path, max, true, out, len, err);
}
