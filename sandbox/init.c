/* sandbox/init.c: PID 1 of a container.  It execs nothing: it waits for the
 * command, reaps every orphan, forwards signals to the command and exits with
 * the command's status (128+N when killed by signal N). */
#include "sandbox/internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int
status_code (int st)
{
  if (WIFEXITED (st))
    return WEXITSTATUS (st);
  if (WIFSIGNALED (st))
    return 128 + WTERMSIG (st);
  return 125;
}

void
sandbox_init_run (pid_t child)
{
  sigset_t all;
  sigfillset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  for (;;)
    {
      /* Reap what has ended; the command's end ends the container. */
      int st;
      pid_t p;
      while ((p = waitpid (-1, &st, WNOHANG)) > 0)
        if (p == child)
          _exit (status_code (st));
      if (p < 0 && errno == ECHILD)
        _exit (125);

      siginfo_t si;
      int sig = sigwaitinfo (&all, &si);
      if (sig < 0 || sig == SIGCHLD)
        continue;
      /* Stop signals from the terminal are for the command, as is the rest. */
      kill (child, sig);
    }
}
