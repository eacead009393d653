/* util/trace.c: see trace.h. */
#include "util/trace.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool enabled;
static const char *path; /* NOOK_TRACE=/file: appended to (detached supervisors have no stderr) */
static struct timespec start;
static bool tried; /* a mark was made (its forks and the command know it too) */

void
trace_init (void)
{
  const char *v = getenv ("NOOK_TRACE");
  enabled = v && *v && *v != '0';
  path = enabled && *v == '/' ? v : NULL;
  clock_gettime (CLOCK_MONOTONIC, &start);
}

void
trace_mark (const char *what)
{
  if (!enabled)
    return;
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  double ms
      = (double)(now.tv_sec - start.tv_sec) * 1e3 + (double)(now.tv_nsec - start.tv_nsec) / 1e6;
  char line[256];
  int n = snprintf (line, sizeof line, "nook-trace: %8.3f ms [%d] %s\n", ms, (int)getpid (), what);
  if (n < 0)
    return;
  if ((size_t)n >= sizeof line)
    n = sizeof line - 1;
  /* (made by the first mark only: a container's command, whose open with O_CREAT
   * the credential emulation's init would have to answer while it waits for its
   * execve, only appends to it where it can see it) */
  int fd = 2;
  if (path)
    fd = open (path, O_WRONLY | O_APPEND | O_CLOEXEC | (tried ? 0 : O_CREAT), 0600);
  tried = true;
  if (fd < 0)
    return;
  if (write (fd, line, (size_t)n) < 0)
    {
      /* (a trace line lost: nothing to do) */
    }
  if (path)
    close (fd);
}
