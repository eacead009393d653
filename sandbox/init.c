/* sandbox/init.c: PID 1 of a container.  It execs nothing: it waits for the
 * command, reaps every orphan, forwards signals to the command and exits with
 * the command's status (128+N when killed by signal N). */
#include "sandbox/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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

/* Show "nook-init" in the container's ps, not nook's command line (which
 * would tell the container host paths): overwrite our own argument area,
 * found through fields 48 and 49 of /proc/self/stat; wipe nook's environment
 * (fields 50 and 51) too. */
void
sandbox_set_title (const char *title)
{
  prctl (PR_SET_NAME, title);
  char buf[1024];
  int fd = open ("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return;
  buf[n] = '\0';
  const char *p = strrchr (buf, ')'); /* the command name may hold spaces */
  if (p == NULL)
    return;
  unsigned long start = 0, end = 0, env_start = 0, env_end = 0;
  int field = 2;
  for (const char *c = p + 1; *c && field < 51; c++)
    if (*c == ' ')
      {
        field++;
        if (field == 48)
          start = strtoul (c + 1, NULL, 10);
        else if (field == 49)
          end = strtoul (c + 1, NULL, 10);
        else if (field == 50)
          env_start = strtoul (c + 1, NULL, 10);
        else if (field == 51)
          env_end = strtoul (c + 1, NULL, 10);
      }
  if (env_start && env_end > env_start && env_start >= end)
    memset ((void *)env_start, 0, env_end - env_start);
  size_t len = strlen (title) + 1;
  if (start == 0 || end <= start || end - start < len)
    return;
  memset ((void *)start, 0, end - start);
  memcpy ((void *)start, title, len);
}

/* The command has ended: end the rest of the container now (the kernel would
 * when PID 1 exits), reap it all, tell nook, exit.  nook can then clean the
 * container's files while the kernel tears the namespaces down. */
__attribute__ ((noreturn)) static void
finish (int code, int notify_fd)
{
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
sandbox_supervise (pid_t child)
{
  sigset_t all;
  sigfillset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
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

      siginfo_t si;
      int sig = sigwaitinfo (&all, &si);
      if (sig < 0 || sig == SIGCHLD)
        continue;
      /* Stop signals from the terminal are for the command, as is the rest. */
      kill (child, sig);
    }
}

void
sandbox_init_run (pid_t child, int notify_fd)
{
  int st = sandbox_supervise (child);
  finish (st < 0 ? 125 : sandbox_status_code (st), notify_fd);
}
