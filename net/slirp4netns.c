/* net/slirp4netns.c: see slirp4netns.h. */
#include "net/slirp4netns.h"
#include "util/cleanup.h"
#include "util/util.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

char *
net_slirp4netns_find (void)
{
  const char *path = getenv ("PATH");
  cleanup_free char *copy = xstrdup (path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
  char *save = NULL;
  for (char *d = strtok_r (copy, ":", &save); d; d = strtok_r (NULL, ":", &save))
    {
      cleanup_free char *p = xasprintf ("%s/slirp4netns", d);
      struct stat st;
      if (*d == '/' && stat (p, &st) == 0 && S_ISREG (st.st_mode) && access (p, X_OK) == 0)
        return steal_pointer (&p);
    }
  return NULL;
}

int
net_slirp4netns_start (pid_t pid, const struct net_mode *m, int ready_fd, struct net_helper *h,
                       nook_error_t *err)
{
  cleanup_free char *prog = net_slirp4netns_find ();
  if (prog == NULL)
    return nook_error_set (err, ENOENT,
                           "--network slirp4netns: slirp4netns is not installed (apt-get "
                           "install slirp4netns)");
  int exitp[2];
  if (pipe2 (exitp, O_CLOEXEC) < 0)
    return nook_error_set (err, errno, "pipe for slirp4netns");
  cleanup_close int log = memfd_create ("slirp4netns-stderr", MFD_CLOEXEC);
  int fds[3] = { ready_fd, exitp[0], log };
  int r = net_helper_fork ("slirp4netns", fds, 3, h, err);
  if (r == 0)
    {
      if (fds[2] >= 0)
        dup2 (fds[2], 2);
      fcntl (3, F_SETFD, 0);
      fcntl (4, F_SETFD, 0);
      char mtu[32], target[32];
      snprintf (mtu, sizeof mtu, "--mtu=%u", m->mtu);
      snprintf (target, sizeof target, "%d", (int)pid);
      const char *argv[16];
      int n = 0;
      argv[n++] = "slirp4netns";
      argv[n++] = "--configure";
      argv[n++] = mtu;
      if (!m->allow_host_loopback)
        argv[n++] = "--disable-host-loopback";
      argv[n++] = "--enable-sandbox";
      argv[n++] = "--enable-seccomp";
      argv[n++] = "--ready-fd=3";
      argv[n++] = "--exit-fd=4";
      argv[n++] = target;
      argv[n++] = NET_IFNAME;
      argv[n] = NULL;
      execv (prog, (char **)argv);
      fprintf (stderr, "exec %s: %s\n", prog, strerror (errno));
      _exit (127);
    }
  close (exitp[0]);
  if (r < 0)
    {
      close (exitp[1]);
      return -1;
    }
  h->holdfd = exitp[1];
  h->errfd = take_fd (&log);
  return 0;
}
