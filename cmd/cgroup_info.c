/* cmd/cgroup_info.c: see cgroup_info.h. */
#include "cmd/cgroup_info.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the n-th (0-based) space-separated field of line [s, end) */
static const char *
field (const char *s, const char *end, int n, size_t *len)
{
  for (int i = 0; s < end; i++)
    {
      const char *e = memchr (s, ' ', (size_t)(end - s));
      if (e == NULL)
        e = end;
      if (i == n)
        {
          *len = (size_t)(e - s);
          return s;
        }
      s = e + 1;
    }
  return NULL;
}

char *
cgroup2_dir_of (const char *self_cgroup, const char *mountinfo)
{
  const char *path = NULL;
  size_t plen = 0;
  for (const char *l = self_cgroup; l && *l;)
    {
      const char *e = strchrnul (l, '\n');
      if (strncmp (l, "0::", 3) == 0)
        {
          path = l + 3;
          plen = (size_t)(e - path);
        }
      l = *e ? e + 1 : e;
    }
  if (path == NULL || plen == 0 || path[0] != '/')
    return NULL;
  for (const char *l = mountinfo; l && *l;)
    {
      const char *e = strchrnul (l, '\n');
      const char *dash = NULL;
      for (const char *p = l; p + 3 <= e; p++)
        if (memcmp (p, " - ", 3) == 0)
          {
            dash = p + 3;
            break;
          }
      size_t tlen = 0, rlen = 0, mlen = 0;
      const char *type = dash ? field (dash, e, 0, &tlen) : NULL;
      const char *root = field (l, e, 3, &rlen);
      const char *mnt = field (l, e, 4, &mlen);
      if (type && root && mnt && tlen == 7 && memcmp (type, "cgroup2", 7) == 0)
        {
          /* the cgroup must lie under the mount's root */
          bool top = rlen == 1 && root[0] == '/';
          if (top
              || (plen >= rlen && memcmp (path, root, rlen) == 0
                  && (plen == rlen || path[rlen] == '/')))
            {
              const char *rest = top ? path : path + rlen;
              size_t rest_len = top ? plen : plen - rlen;
              if (rest_len == 1 && rest[0] == '/')
                rest_len = 0;
              return xasprintf ("%.*s%.*s", (int)mlen, mnt, (int)rest_len, rest);
            }
        }
      l = *e ? e + 1 : e;
    }
  return NULL;
}

char *
cgroup_delegated_dir (char **why)
{
  cleanup_free char *cg = NULL, *mi = NULL;
  cleanup_error nook_error_t e = NULL;
  size_t len;
  *why = NULL;
  if (fs_read_file_at (AT_FDCWD, "/proc/self/cgroup", 1 << 16, &cg, &len, &e) < 0
      || fs_read_file_at (AT_FDCWD, "/proc/self/mountinfo", 1 << 22, &mi, &len, &e) < 0)
    {
      *why = xasprintf ("cannot read this process's cgroup: %s", e->msg);
      return NULL;
    }
  char *dir = cgroup2_dir_of (cg, mi);
  if (dir == NULL)
    {
      *why = xstrdup ("no cgroup v2 holds this process");
      return NULL;
    }
  cleanup_free char *procs = xasprintf ("%s/cgroup.procs", dir);
  if (access (dir, W_OK) != 0 || access (procs, W_OK) != 0)
    {
      *why = xasprintf ("this process's cgroup v2, %s, is not writable by this user (not "
                        "delegated)",
                        dir);
      free (dir);
      return NULL;
    }
  return dir;
}
