/* net/helper.c: see helper.h. */
#include "net/helper.h"
#include "util/cleanup.h"
#include "util/test_hook.h"
#include "util/util.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* In the child: fds[] to 3, 4, ...; everything else above 2 closed. */
static int
keep_fds (int *fds, int n)
{
  int *high = xzalloc (sizeof *high * (size_t)(n ? n : 1));
  for (int i = 0; i < n; i++)
    {
      high[i] = fds[i] >= 0 ? fcntl (fds[i], F_DUPFD_CLOEXEC, 3 + n) : -1;
      if (fds[i] >= 0 && high[i] < 0)
        return -1;
    }
  for (int i = 0; i < n; i++)
    {
      if (high[i] < 0)
        {
          close (3 + i);
          continue;
        }
      if (dup3 (high[i], 3 + i, O_CLOEXEC) < 0)
        return -1;
      fds[i] = 3 + i;
    }
  free (high);
  return (int)syscall (SYS_close_range, 3 + n, ~0U, 0);
}

int
net_helper_fork (const char *name, int *fds, int n, struct net_helper *h, nook_error_t *err)
{
  pid_t parent = getpid ();
  int *closed
      = mmap (NULL, sizeof *closed, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (closed == MAP_FAILED)
    closed = NULL;
  fflush (NULL);
  pid_t pid = fork ();
  if (pid < 0)
    {
      if (closed)
        munmap (closed, sizeof *closed);
      return nook_error_set (err, errno, "fork the network helper %s", name);
    }
  if (pid == 0)
    {
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (getppid () != parent)
        _exit (0); /* nook is already gone */
      prctl (PR_SET_NAME, name);
      struct sigaction dfl = { .sa_handler = SIG_DFL };
      for (int s = 1; s < NSIG; s++)
        sigaction (s, &dfl, NULL);
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
      if (null >= 0)
        {
          dup2 (null, 0);
          dup2 (null, 1);
          if (null > 2)
            close (null);
        }
      test_hook ("net-helper-forked"); /* (still holding copies of all of nook's fds) */
      if (keep_fds (fds, n) < 0)
        _exit (125);
      if (closed)
        __atomic_store_n (closed, 1, __ATOMIC_RELEASE);
      return 0;
    }
  h->closed = closed;
  h->pid = pid;
  h->pidfd = (int)syscall (SYS_pidfd_open, pid, 0);
  snprintf (h->name, sizeof h->name, "%s", name);
  return pid;
}

bool
net_helper_ended (const struct net_helper *h)
{
  if (h->pid <= 0)
    return true;
  if (h->pidfd < 0)
    return false;
  struct pollfd p = { .fd = h->pidfd, .events = POLLIN };
  return poll (&p, 1, 0) == 1;
}

void
net_helper_kill (struct net_helper *h)
{
  if (h->pid <= 0)
    return;
  /* (only while it is our unreaped child, which waitid without WNOWAIT's
   * reaping says: then neither its pid nor the group of that ID can be
   * another's; ESRCH when it has not made its group yet, and then it has no
   * worker either) */
  siginfo_t si;
  if (h->group && h->pidfd >= 0
      && waitid (P_PIDFD, (id_t)h->pidfd, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
    kill (-h->pid, SIGKILL);
  if (h->pidfd >= 0)
    syscall (SYS_pidfd_send_signal, h->pidfd, SIGKILL, NULL, 0);
  else
    kill (h->pid, SIGKILL); /* still our unreaped child: the pid cannot be recycled */
  /* (killed before it closed what it inherited: until its exit has closed them; a
   * pidfd is readable once the process has exited, its files released) */
  if (h->pidfd >= 0 && !(h->closed && __atomic_load_n (h->closed, __ATOMIC_ACQUIRE)))
    {
      struct pollfd p = { .fd = h->pidfd, .events = POLLIN };
      while (poll (&p, 1, 5000) < 0 && errno == EINTR)
        ;
    }
}

int
net_helper_reap (struct net_helper *h, bool wait)
{
  int st = -1;
  if (h->pid > 0)
    while (waitpid (h->pid, &st, wait ? 0 : WNOHANG) < 0 && errno == EINTR)
      ;
  if (h->pidfd >= 0)
    close (h->pidfd);
  if (h->errfd >= 0)
    close (h->errfd);
  if (h->holdfd >= 0)
    close (h->holdfd);
  if (h->closed)
    munmap (h->closed, sizeof *h->closed);
  h->closed = NULL;
  h->pid = 0;
  h->pidfd = h->errfd = h->holdfd = -1;
  return st;
}

char *
net_helper_stderr (const struct net_helper *h, size_t max)
{
  struct stat st;
  if (h->errfd < 0 || fstat (h->errfd, &st) < 0 || st.st_size <= 0)
    return NULL;
  size_t len = (size_t)st.st_size, off = len > max ? len - max : 0;
  char *buf = xmalloc (len - off + 1);
  ssize_t r = pread (h->errfd, buf, len - off, (off_t)off);
  if (r <= 0)
    {
      free (buf);
      return NULL;
    }
  while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == '\r'))
    r--;
  buf[r] = '\0';
  return buf;
}
