/* sandbox/init.c: PID 1 of a container.  It execs nothing: it waits for the
 * command, reaps every orphan, forwards signals to the command and exits with
 * the command's status (128+N when killed by signal N). */
#include "sandbox/internal.h"
#include "sandbox/credemu.h"
#include "util/settle.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int
sandbox_status_code (int st)
{
  if (WIFEXITED (st))
    return WEXITSTATUS (st);
  if (WIFSIGNALED (st))
    return 128 + WTERMSIG (st);
  return 125;
}

/* Where the kernel put our arguments and environment: glibc calls the
 * functions of .init_array with (argc, argv, envp), so the areas are known
 * without reading /proc/self/stat (~25 us of every run).  The strings lie
 * one after the other, argv's then envp's. */
static char *args_start, *args_end, *env_start, *env_end;

__attribute__ ((constructor)) static void
remember_args (int argc, char **argv, char **envp)
{
  if (argc <= 0 || argv == NULL || argv[0] == NULL)
    return;
  args_start = argv[0];
  args_end = argv[argc - 1] + strlen (argv[argc - 1]) + 1;
  size_t n = 0;
  while (envp && envp[n])
    n++;
  if (n > 0)
    {
      env_start = envp[0];
      env_end = envp[n - 1] + strlen (envp[n - 1]) + 1;
    }
}

/* Show "nook-init" in the container's ps, not nook's command line (which
 * would tell the container host paths): overwrite our own argument area;
 * wipe nook's environment too. */
void
sandbox_set_title (const char *title)
{
  prctl (PR_SET_NAME, title);
  if (env_start && env_end > env_start && env_start >= args_end)
    memset (env_start, 0, (size_t)(env_end - env_start));
  size_t len = strlen (title) + 1;
  if (args_start == NULL || args_end <= args_start || (size_t)(args_end - args_start) < len)
    return;
  memset (args_start, 0, (size_t)(args_end - args_start));
  memcpy (args_start, title, len);
}

int
sandbox_open_pids (void)
{
  int fd = open ("/proc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct statfs sf;
  if (fd >= 0 && (fstatfs (fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC))
    {
      close (fd);
      fd = -1;
    }
  return fd;
}

/* Any process but us in our PID namespace (its /proc lists only its own)?
 * When unsure, yes. */
static bool
others_left (int pidsfd)
{
  char buf[4096];
  if (pidsfd < 0 || lseek (pidsfd, 0, SEEK_SET) < 0)
    return true;
  for (;;)
    {
      long n = syscall (SYS_getdents64, pidsfd, buf, sizeof buf);
      if (n < 0)
        return true;
      if (n == 0)
        return false;
      for (long off = 0; off < n;)
        {
          struct dirent64 *d = (struct dirent64 *)(buf + off);
          off += d->d_reclen;
          if (d->d_name[0] >= '1' && d->d_name[0] <= '9' && strcmp (d->d_name, "1") != 0)
            return true;
        }
    }
}

/* The command has ended: end the rest of the container now (the kernel would
 * when PID 1 exits), reap it all, tell nook, exit.  nook can then clean the
 * container's files while the kernel tears the namespaces down.  kill(-1)
 * walks every process of the host (~50 us here): only when our namespace
 * holds another process once our ended children are reaped (processes that
 * `nook exec` entered are not our children). */
__attribute__ ((noreturn)) static void
finish (int code, int notify_fd, int pidsfd)
{
  while (waitpid (-1, NULL, WNOHANG) > 0)
    ;
  if (others_left (pidsfd))
    kill (-1, SIGKILL);
  while (waitpid (-1, NULL, 0) > 0 || errno == EINTR)
    ;
  if (notify_fd >= 0)
    {
      unsigned char c = (unsigned char)code;
      (void)!write (notify_fd, &c, 1);
    }
  _exit (code);
}

int
sandbox_supervise (pid_t child, int smaps_fd)
{
  sigset_t all;
  sigfillset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  struct settle_quiet quiet = SETTLE_QUIET_INIT (smaps_fd);
  for (;;)
    {
      /* Reap what has ended (orphans too); the child's end ends the wait. */
      int st;
      pid_t p;
      while ((p = waitpid (-1, &st, WNOHANG)) > 0)
        if (p == child)
          return st;
      if (p < 0 && errno == ECHILD)
        return -1;

      /* quiet for a second: what start-up left mapped is given back (once a
       * quiet spell) */
      siginfo_t si;
      int ms = settle_quiet_timeout (&quiet, -1);
      struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
      int sig = sigtimedwait (&all, &si, ms < 0 ? NULL : &ts);
      bool timed_out = sig < 0 && errno == EAGAIN;
      settle_quiet_after (&quiet, timed_out ? 0 : 1);
      if (sig < 0 || sig == SIGCHLD)
        continue;
      /* Stop signals from the terminal are for the command, as is the rest. */
      kill (child, sig);
    }
}

void
sandbox_init_run (const struct nook_spec *spec, pid_t child, int notify_fd, int listener,
                  int procfd, int pidsfd, int smaps_fd)
{
  int st = listener >= 0 ? sandbox_credemu_supervise (spec, listener, procfd, child, smaps_fd)
                         : sandbox_supervise (child, smaps_fd);
  finish (st < 0 ? 125 : sandbox_status_code (st), notify_fd, pidsfd);
}
