/* util/log.c: see log.h. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

static enum log_level current = LOG_WARN;

void
log_set_level (enum log_level level)
{
  current = level;
}

enum log_level
log_get_level (void)
{
  return current;
}

void
log_msg (enum log_level level, const char *file, int line, const char *fmt, ...)
{
  static const char *const names[] = { "error", "warning", "info", "debug" };
  if (level > current)
    return;
  va_list ap;
  va_start (ap, fmt);
  if (current >= LOG_DEBUG)
    fprintf (stderr, "nook: %s: %s:%d: ", names[level], file, line);
  else
    fprintf (stderr, "nook: %s: ", names[level]);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
}
