/* util/trace.c: see trace.h. */
#include "util/trace.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static bool enabled;
static struct timespec start;

void
trace_init (void)
{
  const char *v = getenv ("NOOK_TRACE");
  enabled = v && *v && *v != '0';
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
  fprintf (stderr, "nook-trace: %8.3f ms [%d] %s\n", ms, (int)getpid (), what);
}
