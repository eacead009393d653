/* sandbox/access.c: see access.h. */
#include "sandbox/access.h"
#include "sandbox/internal.h"
#include "sandbox/mount.h"
#include "sandbox/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct stopped_arg
{
  const struct nook_spec *spec;
  int (*fn) (int rootfd, void *arg, nook_error_t *err);
  void *arg;
};

/* The etc files of a run over the image's (only where the image has a regular file). */
static int
bind_etc (const struct nook_spec *spec, int rootfd, nook_error_t *err)
{
  static const char *const etc[] = { "hosts", "resolv.conf", "hostname" };
  for (size_t i = 0; i < ARRAY_SIZE (etc); i++)
    {
      cleanup_free char *src = xasprintf ("%s/etc/%s", spec->container_dir, etc[i]);
      cleanup_free char *dst = xasprintf ("/etc/%s", etc[i]);
      cleanup_close int d = fs_open_in_root (rootfd, dst, O_PATH | O_NOFOLLOW, 0);
      struct stat st;
      if (d < 0 || fstat (d, &st) < 0 || !S_ISREG (st.st_mode))
        continue;
      char dp[32];
      fs_fd_path (d, dp);
      if (mount (src, dp, NULL, MS_BIND, NULL) < 0)
        return nook_error_set (err, errno, "bind '%s' on '%s'", src, dst);
    }
  return 0;
}

/* In a user namespace of ours: a mount namespace, the rootfs mounted on merged/. */
static int
stopped_fn (void *data, nook_error_t *err)
{
  struct stopped_arg *a = data;
  const struct nook_spec *spec = a->spec;
  prctl (PR_SET_DUMPABLE, 0);
  if (unshare (CLONE_NEWNS) < 0)
    return nook_error_set (err, errno, "unshare(CLONE_NEWNS)");
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return nook_error_set (err, errno, "make mounts private");
  if (sandbox_etc_files (spec, err) < 0)
    return -1;
  cleanup_free char *merged = xasprintf ("%s/merged", spec->container_dir);
  pid_t daemon = -1;
  if (sandbox_rootfs_mount (spec, merged, &daemon, err) < 0)
    return -1;
  int r = -1;
  cleanup_close int rootfd = open (merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    nook_error_set (err, errno, "open '%s'", merged);
  else if (bind_etc (spec, rootfd, err) == 0)
    {
      close (rootfd);
      rootfd = open (merged, O_PATH | O_DIRECTORY | O_CLOEXEC); /* above the binds */
      r = rootfd < 0 ? nook_error_set (err, errno, "open '%s'", merged)
                     : a->fn (rootfd, a->arg, err);
    }
  if (daemon > 0)
    {
      kill (daemon, SIGTERM);
      waitpid (daemon, NULL, 0);
    }
  return r;
}

int
sandbox_container_call (const pid_t *pids, size_t n_pids, const struct nook_spec *spec,
                        int (*fn) (int rootfd, void *arg, nook_error_t *err), void *arg,
                        nook_error_t *err)
{
  if (n_pids == 0)
    {
      struct stopped_arg a = { .spec = spec, .fn = fn, .arg = arg };
      return sandbox_userns_call (&spec->ids, stopped_fn, &a, err);
    }
  /* the namespaces of a process we may open (not nook's init: its memory is the host's) */
  cleanup_close int userns = -1, mntns = -1;
  int e = ESRCH;
  for (size_t i = 0; i < n_pids && mntns < 0; i++)
    {
      char p[64];
      snprintf (p, sizeof p, "/proc/%d/ns/user", (int)pids[i]);
      int u = open (p, O_RDONLY | O_CLOEXEC);
      snprintf (p, sizeof p, "/proc/%d/ns/mnt", (int)pids[i]);
      int m = u >= 0 ? open (p, O_RDONLY | O_CLOEXEC) : -1;
      if (m < 0)
        {
          e = errno;
          if (u >= 0)
            close (u);
          continue;
        }
      userns = u;
      mntns = m;
    }
  if (mntns < 0)
    return nook_error_set (err, e, "enter the container's namespaces");
  int errp[2];
  if (pipe2 (errp, O_CLOEXEC) < 0)
    return nook_error_set (err, errno, "pipe2");
  fflush (NULL);
  pid_t pid = fork ();
  if (pid < 0)
    {
      close (errp[0]);
      close (errp[1]);
      return nook_error_set (err, errno, "fork");
    }
  if (pid == 0)
    {
      nook_error_t cerr = NULL;
      close (errp[0]);
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      /* no ptrace of this process by the container's, before joining them */
      prctl (PR_SET_DUMPABLE, 0);
      struct stat self, target;
      bool same_user = stat ("/proc/self/ns/user", &self) == 0 && fstat (userns, &target) == 0
                       && self.st_ino == target.st_ino;
      if (!same_user && setns (userns, CLONE_NEWUSER) < 0)
        nook_error_set (&cerr, errno, "join the container's user namespace");
      else if (setns (mntns, CLONE_NEWNS) < 0)
        nook_error_set (&cerr, errno, "join the container's mount namespace");
      else
        {
          int rootfd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
          if (rootfd < 0)
            nook_error_set (&cerr, errno, "open the container's root");
          else
            fn (rootfd, arg, &cerr);
        }
      if (cerr)
        {
          errpipe_send (errp[1], cerr);
          _exit (1);
        }
      _exit (0);
    }
  close (errp[1]);
  int rc = errpipe_recv (errp[0], err) != 0 ? -1 : 0;
  close (errp[0]);
  int st;
  while (waitpid (pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (rc == 0 && (!WIFEXITED (st) || WEXITSTATUS (st) != 0))
    rc = nook_error_set (err, 0, "the helper in the container's namespaces failed");
  return rc;
}
