/* sandbox/netns_pool.c: see netns_pool.h. */
#include "sandbox/netns_pool.h"
#include "sandbox/internal.h"
#include "sandbox/netif.h"
#include "sandbox/title.h"
#include "sandbox/userns_keep.h"
#include "util/cleanup.h"
#include "util/settle.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POOL_SOCK "netns-pool.sock"
#define POOL_LOCK "netns-pool.lock" /* held by the server while it lives */
#define POOL_SPARES 2
#define POOL_IDLE_MS (10 * 60 * 1000)
#define POOL_WAIT_MS 200
#define POOL_REFILL_AFTER_MS 20 /* after the last request */
#define POOL_RETRY_MS 1000      /* after a namespace could not be made */

static const char pool_name[] = "nook-netpool";

/* The socket as "/proc/self/fd/N/netns-pool.sock": within sun_path whatever the
 * runtime directory's length. */
static bool
pool_addr (int rtfd, struct sockaddr_un *a, socklen_t *len)
{
  memset (a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  int n = snprintf (a->sun_path, sizeof a->sun_path, "/proc/self/fd/%d/" POOL_SOCK, rtfd);
  if (n <= 0 || (size_t)n >= sizeof a->sun_path)
    return false;
  *len = (socklen_t)(offsetof (struct sockaddr_un, sun_path) + (size_t)n + 1);
  return true;
}

static bool
same_file (const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The process behind the pool's socket is a server of ours: named nook-netpool,
 * in our PID namespace (a container's processes are not: the checks of
 * open_kept, sandbox/userns_keep.c) and in the user namespace we are in.  A
 * container given the runtime directory (`-v /tmp:/tmp`) could otherwise put a
 * socket of its own there and hand its network namespace to the next run. */
static bool
peer_is_server (int sock)
{
  struct ucred cr;
  socklen_t len = sizeof cr;
  if (getsockopt (sock, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.pid <= 0)
    return false;
  char path[32];
  snprintf (path, sizeof path, "/proc/%d", (int)cr.pid);
  cleanup_close int piddir = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  char comm[32] = { 0 };
  cleanup_close int fd = piddir >= 0 ? openat (piddir, "comm", O_RDONLY | O_CLOEXEC) : -1;
  ssize_t n = fd >= 0 ? read (fd, comm, sizeof comm - 1) : -1;
  return n == (ssize_t)sizeof pool_name && memcmp (comm, pool_name, sizeof pool_name - 1) == 0
         && comm[n - 1] == '\n' && sandbox_same_ns (piddir, "ns/pid", "/proc/self/ns/pid")
         && sandbox_same_ns (piddir, "ns/user", "/proc/self/ns/user");
}

/* A network namespace whose owner is the user namespace we are in. */
static bool
netns_is_ours (int fd)
{
  if (ioctl (fd, NS_GET_NSTYPE) != CLONE_NEWNET)
    return false;
  int u = ioctl (fd, NS_GET_USERNS);
  if (u < 0)
    return false;
  struct stat a, b;
  bool ok = fstat (u, &a) == 0 && stat ("/proc/self/ns/user", &b) == 0 && same_file (&a, &b);
  close (u);
  return ok;
}

static int64_t
now_ms (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The next spare, made in a thread of its own (a network namespace is the
 * thread's only, and goes with it: the server stays in its own) at SCHED_IDLE:
 * its fd, or -1, written to *arg's pipe. */
static void *
refill_main (void *arg)
{
  int out = *(int *)arg;
  struct sched_param sp = { 0 };
  int fd = -1;
  /* (this thread only; glibc's attributes know no SCHED_IDLE) */
  if (sched_setscheduler (0, SCHED_IDLE, &sp) < 0)
    goto out;
  if (unshare (CLONE_NEWNET) == 0)
    {
      cleanup_error nook_error_t e = NULL;
      if (sandbox_netif_up ("lo", &e) == 0)
        fd = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    }
out:
  if (write (out, &fd, sizeof fd) != (ssize_t)sizeof fd && fd >= 0)
    close (fd);
  return NULL;
}

static bool
start_refill (pthread_t *th, int *out)
{
  pthread_attr_t a;
  if (pthread_attr_init (&a) != 0)
    return false;
  bool ok = pthread_attr_setstacksize (&a, 64 * 1024) == 0
            && pthread_create (th, &a, refill_main, out) == 0;
  pthread_attr_destroy (&a);
  return ok;
}

/* Hand out one spare (or a byte without one: none left). */
static void
serve (int l, int *spares, size_t *n)
{
  int c = accept4 (l, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0)
    return;
  if (*n > 0 && fd_send (c, spares[*n - 1]) == 0)
    close (spares[--*n]);
  else
    {
      char none = 'e';
      (void)!send (c, &none, 1, MSG_NOSIGNAL);
    }
  close (c);
}

__attribute__ ((noreturn)) static void
server_main (int rtfd, int l, int kfd)
{
  sandbox_set_title (pool_name);
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  int ev[2];
  /* (listen again: a client's SO_PEERCRED names the process that last called it,
   * which must be this one, not the run that started us) */
  if (chdir ("/") < 0 || pipe2 (ev, O_CLOEXEC) < 0 || listen (l, 16) < 0)
    _exit (1);
  int spares[POOL_SPARES];
  size_t n = 0;
  bool filling = false;
  int64_t retry_at = 0; /* (a namespace could not be made: not again before) */
  pthread_t th;
  int64_t last = now_ms ();
  struct settle_quiet q = SETTLE_QUIET_INIT (SETTLE_BY_PATH);
  for (;;)
    {
      /* (not while a run that took one may still be starting: the kernel does not
       * preempt the making of a namespace, ~0.5 ms, even for a task of its idle class) */
      int64_t t = now_ms (), since = t - last;
      bool want = !filling && n < POOL_SPARES;
      if (want && since >= POOL_REFILL_AFTER_MS && t >= retry_at)
        {
          filling = start_refill (&th, &ev[1]);
          if (!filling)
            retry_at = t + POOL_RETRY_MS;
          want = !filling;
        }
      int64_t left = POOL_IDLE_MS - since;
      if (left <= 0)
        break;
      if (want)
        {
          /* (woken when the next try is due) */
          int64_t next = retry_at - t > POOL_REFILL_AFTER_MS - since ? retry_at - t
                                                                     : POOL_REFILL_AFTER_MS - since;
          if (next < left)
            left = next > 0 ? next : 1;
        }
      struct pollfd p[3] = { { .fd = l, .events = POLLIN },
                             { .fd = kfd, .events = POLLIN },
                             { .fd = filling ? ev[0] : -1, .events = POLLIN } };
      int r = poll (p, 3, settle_quiet_timeout (&q, (int)left));
      settle_quiet_after (&q, r);
      if (r < 0 && errno != EINTR)
        break;
      if (r <= 0)
        continue;
      if (p[1].revents)
        break; /* the keeper has ended: so has the user namespace we serve */
      if (p[2].revents)
        {
          int fd = -1;
          if (read (ev[0], &fd, sizeof fd) != (ssize_t)sizeof fd)
            fd = -1;
          pthread_join (th, NULL);
          filling = false;
          if (fd >= 0)
            spares[n++] = fd;
          else
            retry_at = now_ms () + POOL_RETRY_MS; /* (runs make their own meanwhile) */
        }
      if (p[0].revents)
        {
          last = now_ms ();
          serve (l, spares, &n);
        }
    }
  /* (the socket is ours to remove: its lock is ours until we exit) */
  unlinkat (rtfd, POOL_SOCK, 0);
  _exit (0);
}

/* Start the server, detached (nobody's child), unless one is starting: the
 * socket is bound here, so the next run's request waits in its backlog. */
static void
start_server (int rtfd)
{
  cleanup_close int lock
      = openat (rtfd, POOL_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (lock < 0 || flock (lock, LOCK_EX | LOCK_NB) < 0)
    return;
  cleanup_close int kfd = sandbox_userns_keep_pidfd_joined (rtfd);
  cleanup_close int l = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  struct sockaddr_un a;
  socklen_t alen;
  if (kfd < 0 || l < 0 || !pool_addr (rtfd, &a, &alen))
    return;
  unlinkat (rtfd, POOL_SOCK, 0);
  if (bind (l, (struct sockaddr *)&a, alen) < 0 || listen (l, 16) < 0)
    return;
  fflush (NULL);
  pid_t mid = fork ();
  if (mid == 0)
    {
      /* (above stdio first: nook may have been started with some of it closed) */
      int keep[4] = { fcntl (rtfd, F_DUPFD_CLOEXEC, 3), fcntl (l, F_DUPFD_CLOEXEC, 3),
                      fcntl (kfd, F_DUPFD_CLOEXEC, 3), fcntl (lock, F_DUPFD_CLOEXEC, 3) };
      if (keep[0] < 0 || keep[1] < 0 || keep[2] < 0 || keep[3] < 0)
        _exit (1);
      int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
      for (int i = 0; null >= 0 && i < 3; i++)
        dup2 (null, i);
      setsid ();
      pid_t s = fork ();
      if (s == 0)
        {
          int nrt = keep[0], nl = keep[1], nk = keep[2];
          sandbox_close_all_but (keep, 4); /* (the lock's copy kept: held while it lives) */
          server_main (nrt, nl, nk);
        }
      _exit (s < 0);
    }
  if (mid > 0)
    while (waitpid (mid, NULL, 0) < 0 && errno == EINTR)
      ;
}

bool
sandbox_netns_pool_off (void)
{
  const char *off = getenv ("NOOK_NETNS_POOL");
  return off && strcmp (off, "0") == 0;
}

int
sandbox_netns_pool_ask (const char *runtime_dir)
{
  if (runtime_dir == NULL || sandbox_netns_pool_off ())
    return -1;
  cleanup_close int rtfd = open (runtime_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct sockaddr_un a;
  socklen_t alen;
  if (rtfd < 0 || !pool_addr (rtfd, &a, &alen))
    return -1;
  cleanup_close int s = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0)
    return -1;
  if (connect (s, (struct sockaddr *)&a, alen) < 0)
    return errno == ENOENT || errno == ECONNREFUSED ? NETNS_POOL_NO_SERVER : -1;
  return take_fd (&s);
}

int
sandbox_netns_pool_take (int ask, const char *runtime_dir)
{
  if (ask == NETNS_POOL_NO_SERVER)
    {
      /* (started from here, where the server's namespaces will be made: in the
       * user namespace the caller has joined) */
      cleanup_close int rtfd = open (runtime_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (rtfd >= 0)
        start_server (rtfd);
      return -1;
    }
  struct pollfd p = { .fd = ask, .events = POLLIN };
  if (ask < 0 || poll (&p, 1, POOL_WAIT_MS) != 1 || !peer_is_server (ask))
    return -1;
  int fd = fd_recv (ask);
  if (fd >= 0 && !netns_is_ours (fd))
    {
      close (fd);
      fd = -1;
    }
  return fd;
}
