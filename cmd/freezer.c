/* cmd/freezer.c: see freezer.h. */
#include "cmd/freezer.h"
#include "cmd/cgroup_info.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define V1_ROOT "/sys/fs/cgroup/freezer"

static bool
has_file (const char *dir, const char *name, int mode)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, name);
  return access (p, mode) == 0;
}

/* 2 (cgroup.freeze), 1 (freezer.state), or 0 */
static int
kind_of (const char *dir)
{
  if (has_file (dir, "cgroup.freeze", F_OK))
    return 2;
  if (has_file (dir, "freezer.state", F_OK))
    return 1;
  return 0;
}

static bool
writable (const char *dir)
{
  return access (dir, W_OK | X_OK) == 0 && has_file (dir, "cgroup.procs", W_OK);
}

int
freezer_find (struct freezer *out, char **why)
{
  *why = NULL;
  out->dir = NULL;
  const char *env = getenv ("NOOK_CGROUP");
  if (env && strcmp (env, "none") == 0)
    {
      *why = xstrdup ("NOOK_CGROUP=none");
      return -1;
    }
  if (env && *env)
    {
      int v = kind_of (env);
      if (v == 0 || !writable (env))
        {
          *why = xasprintf ("NOOK_CGROUP=%s is not a cgroup with a freezer writable by this user",
                            env);
          return -1;
        }
      out->version = v;
      out->dir = xstrdup (env);
      return 0;
    }
  cleanup_free char *why2 = NULL;
  char *own = cgroup_delegated_dir (&why2);
  if (own && has_file (own, "cgroup.freeze", F_OK))
    {
      out->version = 2;
      out->dir = own;
      return 0;
    }
  if (own)
    {
      free (why2);
      why2 = xasprintf ("this process's cgroup v2, %s, has no cgroup.freeze", own);
      free (own);
    }
  struct passwd *pw = getpwuid (geteuid ());
  cleanup_free char *v1 = pw ? xasprintf (V1_ROOT "/nook-%s", pw->pw_name) : NULL;
  if (v1 && kind_of (v1) == 1 && writable (v1))
    {
      out->version = 1;
      out->dir = xstrdup (v1);
      return 0;
    }
  *why = xasprintf ("%s; %s is not a v1 freezer cgroup writable by this user; NOOK_CGROUP is not "
                    "set",
                    why2, v1 ? v1 : V1_ROOT "/nook-$USER");
  return -1;
}

void
freezer_name (const struct freezer *base, const char *id, struct freezer *out)
{
  out->version = base->version;
  out->dir = xasprintf ("%s/nook-%s", base->dir, id);
}

int
freezer_make (struct freezer *cg, nook_error_t *err)
{
  if (mkdir (cg->dir, 0755) < 0 && errno != EEXIST)
    {
      int e = errno;
      nook_error_set (err, e, "create the container's cgroup %s", cg->dir);
      freezer_free (cg);
      return -1;
    }
  return 0;
}

int
freezer_open_procs (const struct freezer *cg, nook_error_t *err)
{
  return freezer_open_join (cg->dir, cg->version, err);
}

int
freezer_open_clone_dir (const struct freezer *cg)
{
  return cg->version == 2 ? open (cg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
}

int
freezer_open_join (const char *dir, int version, nook_error_t *err)
{
  if (version == 0)
    {
      /* (v1 has a tasks file, v2 none) */
      cleanup_free char *t = xasprintf ("%s/tasks", dir);
      version = access (t, F_OK) == 0 ? 1 : 2;
    }
  /* v1: a single-threaded process writing "0" to tasks moves itself (its one thread)
   * without the threadgroup lock that a cgroup.procs write takes, whose writer waits an
   * RCU grace period: 0.03 ms instead of 8-18 ms here, on every container's start.  (v2's
   * cgroup.threads cannot leave a domain: cgroup.procs there.) */
  cleanup_free char *p = xasprintf ("%s/%s", dir, version == 1 ? "tasks" : "cgroup.procs");
  int fd = open (p, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open %s", p);
  return fd;
}

static int
write_file (const char *path, const char *s, nook_error_t *err)
{
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, s, strlen (s)) < 0)
    return nook_error_set (err, errno, "write %s", path);
  return 0;
}

static bool
is_frozen (const struct freezer *cg)
{
  cleanup_free char *p
      = xasprintf ("%s/%s", cg->dir, cg->version == 2 ? "cgroup.events" : "freezer.state");
  cleanup_free char *s = NULL;
  cleanup_error nook_error_t e = NULL;
  size_t len;
  if (fs_read_file_at (AT_FDCWD, p, 4096, &s, &len, &e) < 0)
    return false;
  return cg->version == 2 ? strstr (s, "frozen 1") != NULL : str_has_prefix (s, "FROZEN");
}

int
freezer_set (const struct freezer *cg, bool frozen, nook_error_t *err)
{
  cleanup_free char *p
      = xasprintf ("%s/%s", cg->dir, cg->version == 2 ? "cgroup.freeze" : "freezer.state");
  const char *val = cg->version == 2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED");
  if (write_file (p, val, err) < 0)
    return -1;
  if (!frozen)
    return 0;
  /* until FROZEN: v1 may stay FREEZING (a task in an uninterruptible sleep), and
   * the kernel's documentation says to write FROZEN again meanwhile */
  for (int i = 0; i < 10000; i++)
    {
      if (is_frozen (cg))
        return 0;
      struct timespec ts = { 0, 1000000 };
      nanosleep (&ts, NULL);
      cleanup_error nook_error_t e = NULL;
      if (cg->version == 1 && i % 100 == 99)
        write_file (p, val, &e);
    }
  cleanup_error nook_error_t e = NULL;
  write_file (p, cg->version == 2 ? "0" : "THAWED", &e);
  return nook_error_set (err, 0, "the freezer of %s did not reach FROZEN in 10 s", cg->dir);
}

void
freezer_remove (struct freezer *cg)
{
  if (cg->dir == NULL)
    return;
  /* (a process that exited still counts until it is reaped) */
  for (int i = 0; i < 5000 && rmdir (cg->dir) < 0 && errno == EBUSY; i++)
    {
      struct timespec ts = { 0, 1000000 };
      nanosleep (&ts, NULL);
    }
  int e = errno;
  if (access (cg->dir, F_OK) == 0)
    log_warn ("could not remove the container's cgroup %s: %s", cg->dir, strerror (e));
  freezer_free (cg);
}

void
freezer_free (struct freezer *f)
{
  free (f->dir);
  f->dir = NULL;
}
