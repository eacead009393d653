/* util/owner_record.c: see owner_record.h. */
#include "util/owner_record.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static bool
parse_u32 (const char **p, const char *end, uint32_t *out)
{
  uint64_t v = 0;
  const char *s = *p;
  if (s == end || *s < '0' || *s > '9')
    return false;
  for (; s < end && *s >= '0' && *s <= '9'; s++)
    {
      v = v * 10 + (uint64_t)(*s - '0');
      if (v > UINT32_MAX - 1) /* (uid_t)-1 is no id */
        return false;
    }
  *p = s;
  *out = (uint32_t)v;
  return true;
}

bool
owner_record_parse (const char *s, size_t len, uid_t *uid, gid_t *gid)
{
  const char *p = s, *end = s + len;
  uint32_t u, g;
  if (!parse_u32 (&p, end, &u) || p == end || *p++ != ':' || !parse_u32 (&p, end, &g) || p != end)
    return false;
  *uid = u;
  *gid = g;
  return true;
}

bool
owner_record_parse_override (const char *s, size_t len, uid_t *uid, gid_t *gid, mode_t *mode)
{
  const char *p = s, *end = s + len;
  uint32_t u, g;
  if (!parse_u32 (&p, end, &u) || p == end || *p++ != ':' || !parse_u32 (&p, end, &g) || p == end
      || *p++ != ':' || p == end)
    return false;
  unsigned m = 0;
  for (; p < end; p++)
    {
      if (*p < '0' || *p > '7' || m > 0177777)
        return false;
      m = m * 8 + (unsigned)(*p - '0');
    }
  *uid = u;
  *gid = g;
  *mode = (mode_t)(m & 07777);
  return true;
}

static ssize_t
get (int fd, const char *name, char *buf, size_t size)
{
  char p[40];
  snprintf (p, sizeof p, "/proc/self/fd/%d", fd);
  return getxattr (p, name, buf, size);
}

static bool
no_record_errno (int e)
{
  return e == ENODATA || e == ENOTSUP || e == EPERM || e == ENOENT || e == ERANGE;
}

int
owner_record_get_fd (int fd, struct owner_record *r)
{
  char buf[64], names[512], p[40];
  int found = 0;
  memset (r, 0, sizeof *r);
  /* Most files have no xattr at all: one listxattr says so (a stat of the
   * credential emulation pays for this on every file). */
  snprintf (p, sizeof p, "/proc/self/fd/%d", fd);
  ssize_t ln = listxattr (p, names, sizeof names);
  if (ln == 0 || (ln < 0 && no_record_errno (errno) && errno != ERANGE))
    return 0;
  if (ln > 0 && !memmem (names, (size_t)ln, OWNER_RECORD_XATTR, sizeof OWNER_RECORD_XATTR)
      && !memmem (names, (size_t)ln, OWNER_OVERRIDE_XATTR, sizeof OWNER_OVERRIDE_XATTR))
    return 0;
  ssize_t n = get (fd, OWNER_OVERRIDE_XATTR, buf, sizeof buf);
  if (n > 0 && owner_record_parse_override (buf, (size_t)n, &r->uid, &r->gid, &r->mode))
    found = r->has_mode = true;
  else if (n < 0 && errno != ENODATA && errno != ERANGE)
    return no_record_errno (errno) ? 0 : -1; /* no user xattrs on this file at all */
  n = get (fd, OWNER_RECORD_XATTR, buf, sizeof buf);
  if (n > 0 && owner_record_parse (buf, (size_t)n, &r->uid, &r->gid))
    found = 1;
  else if (n < 0 && !no_record_errno (errno))
    return -1;
  return found;
}

int
owner_record_get_at (int dirfd, const char *path, struct owner_record *r)
{
  int fd = openat (dirfd, path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int ret = owner_record_get_fd (fd, r);
  int e = errno;
  close (fd);
  errno = e;
  return ret;
}

mode_t
owner_record_mode (const struct owner_record *r, mode_t real)
{
  real &= 07777;
  if (r->has_mode && real != r->mode && real == (r->mode | 0700))
    return r->mode;
  return real;
}

int
owner_record_set_fd (int fd, uid_t uid, gid_t gid)
{
  char p[40], v[32];
  snprintf (p, sizeof p, "/proc/self/fd/%d", fd);
  int n = snprintf (v, sizeof v, "%" PRIu32 ":%" PRIu32, (uint32_t)uid, (uint32_t)gid);
  return setxattr (p, OWNER_RECORD_XATTR, v, (size_t)n, 0);
}

int
owner_record_clear_fd (int fd)
{
  char p[40];
  snprintf (p, sizeof p, "/proc/self/fd/%d", fd);
  if (removexattr (p, OWNER_RECORD_XATTR) < 0 && errno != ENODATA)
    return -1;
  return 0;
}

bool
owner_record_xattr_private (const char *name)
{
  return strcmp (name, OWNER_RECORD_XATTR) == 0 || strcmp (name, OWNER_OVERRIDE_XATTR) == 0
         || strncmp (name, "user.overlay.", 13) == 0 || strncmp (name, "trusted.overlay.", 16) == 0;
}
