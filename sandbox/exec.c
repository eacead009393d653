/* sandbox/exec.c: see exec.h.
 *
 * nook exec (P) forks a joiner (A), made non-dumpable first (P is too, so
 * nothing in the container can ptrace either, CVE-2019-5736's lesson).  A
 * setns()es into the container through a pidfd and forks the command (B) in
 * its PID namespace; A then only waits for B and passes its status on (with
 * -d it exits at once and B is the container init's to reap).  B reports a
 * failure to start on the CLOEXEC error pipe, as the run path does. */
#include "sandbox/exec.h"
#include "sandbox/internal.h"
#include "sandbox/tty.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/settle.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct
{
  const char *name;
  int flag;
} ns_kinds[] = {
  { "user", CLONE_NEWUSER },     { "mnt", CLONE_NEWNS },  { "pid", CLONE_NEWPID },
  { "net", CLONE_NEWNET },       { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
  { "cgroup", CLONE_NEWCGROUP },
};

/* The namespaces of pid that are not ours. */
static int
differing_namespaces (pid_t pid, nook_error_t *err)
{
  int flags = 0;
  for (size_t i = 0; i < ARRAY_SIZE (ns_kinds); i++)
    {
      char a[64], b[64], la[64] = "", lb[64] = "";
      snprintf (a, sizeof a, "/proc/self/ns/%s", ns_kinds[i].name);
      snprintf (b, sizeof b, "/proc/%d/ns/%s", (int)pid, ns_kinds[i].name);
      if (readlink (a, la, sizeof la - 1) < 0)
        continue; /* a namespace this kernel lacks */
      if (readlink (b, lb, sizeof lb - 1) < 0)
        return nook_error_set (err, errno, "read the container's %s namespace", ns_kinds[i].name);
      if (strcmp (la, lb) != 0)
        flags |= ns_kinds[i].flag;
    }
  return flags;
}

__attribute__ ((noreturn)) static void
fail (int err_fd, nook_error_t e)
{
  errpipe_send (err_fd, e);
  _exit (e->exit ? e->exit : 126);
}

static int
open_pty (int tty_sock, nook_error_t *err)
{
  cleanup_close int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int master
      = root >= 0 ? fs_open_in_root (root, "/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_NOFOLLOW, 0) : -1;
  struct stat st;
  if (master < 0 || fstat (master, &st) < 0 || !S_ISCHR (st.st_mode))
    return nook_error_set (err, errno ? errno : ENOTTY, "open the container's /dev/pts/ptmx");
  int unlock = 0;
  if (ioctl (master, TIOCSPTLCK, &unlock) < 0)
    return nook_error_set (err, errno, "unlock the pty");
  int slave = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return nook_error_set (err, errno, "open the pty's peer");
  if (fd_send (tty_sock, master) < 0)
    {
      close (slave);
      return nook_error_set (err, errno, "send the pty to nook");
    }
  return slave;
}

static int
enter_cwd (const char *cwd, nook_error_t *err)
{
  cleanup_close int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  const char *d = cwd && *cwd ? cwd : "/";
  cleanup_close int fd = root >= 0 ? fs_open_in_root (root, d, O_PATH | O_DIRECTORY, 0) : -1;
  if (fd < 0 || fchdir (fd) < 0)
    return nook_error_set_exit (err, 126, errno, "chdir to cwd (\"%s\") set in the exec failed", d);
  return 0;
}

/* B: the command, in the container's namespaces. */
__attribute__ ((noreturn)) static void
command (const struct sandbox_exec *x, int err_fd, int tty_sock)
{
  cleanup_error nook_error_t e = NULL;
  const struct nook_spec *s = x->spec;
  int slave = -1;
  if (s->tty && (slave = open_pty (tty_sock, &e)) < 0)
    fail (err_fd, e);
  if (tty_sock >= 0)
    close (tty_sock);
  if (!s->tty)
    setsid (); /* no controlling terminal: no TIOCSTI into the caller's */
  if (x->detach && !s->tty)
    {
      int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
      for (int i = 0; null >= 0 && i < 3; i++)
        dup2 (null, i);
    }
  if (enter_cwd (s->cwd, &e) < 0)
    fail (err_fd, e);
  for (size_t i = 0; i < s->n_rlimits; i++)
    {
      struct rlimit rl = { .rlim_cur = s->rlimits[i].soft, .rlim_max = s->rlimits[i].hard };
      setrlimit (s->rlimits[i].resource, &rl);
    }
  /* only stdio (and the pty) reach the command: whatever the caller passed us
   * beyond them closes at execve */
  syscall (SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  sandbox_exec_command (s, err_fd, slave);
}

/* A of a healthcheck's probe: B (a session leader: its pid is its group's) and
 * its group are killed when P dies (PR_SET_PDEATHSIG) or sends SIGTERM (the
 * probe's timeout); B's pid, unreaped, names the group until then. */
__attribute__ ((noreturn)) static void
probe_wait (pid_t b, pid_t parent)
{
  sigset_t set;
  sigemptyset (&set);
  sigaddset (&set, SIGCHLD);
  sigaddset (&set, SIGTERM);
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (getppid () != parent)
    kill (getpid (), SIGTERM); /* (pending: handled below) */
  for (;;)
    {
      int st;
      pid_t r = waitpid (b, &st, WNOHANG);
      if (r == b)
        _exit (sandbox_status_code (st));
      if (r < 0 && errno != EINTR)
        _exit (126);
      siginfo_t si;
      if (sigwaitinfo (&set, &si) == SIGTERM)
        {
          kill (-b, SIGKILL);
          kill (b, SIGKILL);
        }
    }
}

/* A: join, fork B, pass its status on. */
__attribute__ ((noreturn)) static void
joiner (const struct sandbox_exec *x, int pidfd, int flags, int err_fd, int tty_sock)
{
  cleanup_error nook_error_t e = NULL;
  pid_t parent = getppid ();
  /* into the container's cgroup (its freezer) first, with our own credentials */
  if (x->spec->cgroup_procs_fd > 0 && write (x->spec->cgroup_procs_fd, "0", 1) < 0)
    {
      nook_error_set_exit (&e, 126, errno, "join the container's cgroup");
      fail (err_fd, e);
    }
  if (setns (pidfd, flags) < 0)
    {
      nook_error_set_exit (&e, 126, errno, "join the container's namespaces");
      fail (err_fd, e);
    }
  close (pidfd);
  pid_t b = fork ();
  if (b < 0)
    {
      nook_error_set_exit (&e, 126, errno, "fork into the container");
      fail (err_fd, e);
    }
  if (b == 0)
    command (x, err_fd, tty_sock);
  if (x->detach && !x->detached_ended)
    _exit (0);
  close (err_fd);
  if (tty_sock >= 0)
    close (tty_sock);
  /* every signal P forwards reaches B through us */
  sigset_t all;
  sigfillset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  if (x->probe)
    probe_wait (b, parent);
  int st = sandbox_supervise (b, SETTLE_NEVER);
  _exit (st < 0 ? 126 : sandbox_status_code (st));
}

/* W, for a detached command whose end is awaited (x->detached_ended): a process of its
 * own session, outside the container, with nothing of the caller's (a `$(nook exec -d
 * ...)` ends with the caller), parent of A, so that A is reaped at once (its zombie
 * would keep the container's cgroup busy); told the command's status by A's.  With a
 * pty (-dt) W holds its master while the command runs, as Docker's shim does (closed,
 * it would hang the command up), reading what the command writes there into nothing
 * (a full pty would stop it). */
__attribute__ ((noreturn)) static void
detached_waiter (const struct sandbox_exec *x, int pidfd, int flags, int err_fd, const int ttys[2],
                 const sigset_t *old)
{
  setsid ();
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  for (int i = 0; null >= 0 && i < 3; i++)
    dup2 (null, i);
  /* the caller's own fds (nook opens its own O_CLOEXEC): a pipe kept would not end */
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *de;
  while (d && (de = readdir (d)) != NULL)
    {
      int fd = atoi (de->d_name);
      if (fd > 2 && fd != dirfd (d) && (fcntl (fd, F_GETFD) & FD_CLOEXEC) == 0)
        close (fd);
    }
  if (d)
    closedir (d);
  sigprocmask (SIG_SETMASK, old, NULL);
  signal (SIGHUP, SIG_IGN);
  pid_t a = fork ();
  if (a == 0)
    {
      signal (SIGHUP, SIG_DFL);
      if (ttys[0] >= 0)
        close (ttys[0]);
      joiner (x, pidfd, flags, err_fd, ttys[1]);
    }
  /* the caller sees the command started when A and B have closed theirs */
  close (err_fd);
  close (pidfd);
  int master = -1;
  if (ttys[1] >= 0)
    close (ttys[1]);
  if (a > 0 && ttys[0] >= 0)
    master = fd_recv (ttys[0]);
  if (ttys[0] >= 0)
    close (ttys[0]);
  int apidfd = master >= 0 ? (int)syscall (SYS_pidfd_open, a, 0) : -1;
  while (apidfd >= 0)
    {
      struct pollfd p[2]
          = { { .fd = apidfd, .events = POLLIN }, { .fd = master, .events = POLLIN } };
      if (poll (p, 2, -1) < 0 && errno != EINTR)
        break;
      if (p[0].revents)
        break;
      char buf[4096];
      ssize_t r = p[1].revents ? read (master, buf, sizeof buf) : 1;
      if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
        break; /* hung up: every end of the slave closed */
    }
  if (apidfd >= 0)
    close (apidfd);
  int st = 0;
  while (a > 0 && waitpid (a, &st, 0) < 0 && errno == EINTR)
    ;
  if (master >= 0)
    close (master);
  x->detached_ended (x->data, a < 0              ? 126
                              : WIFEXITED (st)   ? WEXITSTATUS (st)
                              : WIFSIGNALED (st) ? 128 + WTERMSIG (st)
                                                 : 126);
  _exit (0);
}

static void
pump (int from, int to, bool *open_flag)
{
  char buf[16384];
  ssize_t n = read (from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0)
    {
      *open_flag = false;
      return;
    }
  fs_write_all (to, buf, (size_t)n);
}

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

int
sandbox_exec (const struct sandbox_exec *x, nook_error_t *err)
{
  cleanup_close int pidfd = (int)syscall (SYS_pidfd_open, x->target, 0);
  if (pidfd < 0)
    return nook_error_set (err, errno, "open the container's process %d", (int)x->target);
  int flags = differing_namespaces (x->target, err);
  if (flags < 0)
    return -1;
  /* nothing of nook's is ptraceable or readable from the container */
  prctl (PR_SET_DUMPABLE, 0);
  int errp[2] = { -1, -1 }, ttys[2] = { -1, -1 };
  if (pipe2 (errp, O_CLOEXEC) < 0
      || (x->spec->tty && socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ttys) < 0))
    return nook_error_set (err, errno, "create pipes");
  sigset_t mask, old;
  sigemptyset (&mask);
  sigaddset (&mask, SIGCHLD);
  for (size_t i = 0; i < ARRAY_SIZE (forwarded); i++)
    sigaddset (&mask, forwarded[i]);
  sigprocmask (SIG_BLOCK, &mask, &old);
  cleanup_close int sfd = signalfd (-1, &mask, SFD_CLOEXEC);
  fflush (NULL);
  pid_t a = fork ();
  if (a < 0)
    {
      sigprocmask (SIG_SETMASK, &old, NULL);
      return nook_error_set (err, errno, "fork");
    }
  /* (a detached command awaited: A under a waiter W of its own, which P leaves running) */
  bool waiter = x->detach && x->detached_ended;
  if (a == 0)
    {
      close (errp[0]);
      if (waiter)
        detached_waiter (x, pidfd, flags, errp[1], ttys, &old);
      sigprocmask (SIG_SETMASK, &old, NULL);
      if (ttys[0] >= 0)
        close (ttys[0]);
      joiner (x, pidfd, flags, errp[1], ttys[1]);
    }
  close (errp[1]);
  if (ttys[1] >= 0)
    close (ttys[1]);
  int master = -1;
  struct tty_state ts = { 0 };
  if (x->spec->tty && !waiter)
    {
      master = fd_recv (ttys[0]);
      if (master >= 0 && isatty (0))
        {
          sandbox_tty_copy_winsize (0, master);
          if (x->spec->interactive)
            sandbox_tty_raw (0, &ts);
        }
    }
  if (ttys[0] >= 0)
    close (ttys[0]);
  int rc = errpipe_recv (errp[0], err);
  close (errp[0]);
  int status = -1;
  if (rc == 0 && !x->detach)
    {
      bool master_open = master >= 0, in_open = master >= 0 && x->spec->interactive;
      for (;;)
        {
          struct pollfd p[3] = {
            { .fd = sfd, .events = POLLIN },
            { .fd = master_open ? master : -1, .events = POLLIN },
            { .fd = in_open ? 0 : -1, .events = POLLIN },
          };
          if (poll (p, 3, -1) < 0 && errno != EINTR)
            break;
          if (p[1].revents)
            pump (master, 1, &master_open);
          if (p[2].revents)
            pump (0, master, &in_open);
          if (!(p[0].revents & POLLIN))
            continue;
          struct signalfd_siginfo si;
          if (read (sfd, &si, sizeof si) != sizeof si)
            continue;
          if ((int)si.ssi_signo == SIGWINCH && master >= 0)
            sandbox_tty_copy_winsize (0, master);
          else if ((int)si.ssi_signo != SIGCHLD)
            kill (a, (int)si.ssi_signo);
          int st;
          if (waitpid (a, &st, WNOHANG) == a)
            {
              while (master_open)
                {
                  struct pollfd m = { .fd = master, .events = POLLIN };
                  if (poll (&m, 1, 0) <= 0)
                    break;
                  pump (master, 1, &master_open);
                }
              status = sandbox_status_code (st);
              break;
            }
        }
    }
  else
    {
      if (rc != 0 && !waiter)
        kill (a, SIGKILL);
      while (!waiter && waitpid (a, NULL, 0) < 0 && errno == EINTR)
        ;
      status = rc == 0 ? 0 : -1;
    }
  sandbox_tty_restore (&ts);
  if (master >= 0)
    close (master);
  sigprocmask (SIG_SETMASK, &old, NULL);
  return status;
}
