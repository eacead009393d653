/* util/error.c: see error.h. */
#include "util/error.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
error_vset (nook_error_t *err, int exit_code, int code, const char *fmt, va_list ap)
{
  if (err == NULL || *err != NULL)
    return -1;
  struct nook_error *e = xmalloc (sizeof *e);
  e->code = code;
  e->exit = exit_code;
  e->usage = false;
  if (vasprintf (&e->msg, fmt, ap) < 0)
    oom ();
  *err = e;
  return -1;
}

int
nook_error_set (nook_error_t *err, int code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  error_vset (err, 0, code, fmt, ap);
  va_end (ap);
  return -1;
}

int
nook_error_set_exit (nook_error_t *err, int exit_code, int code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  error_vset (err, exit_code, code, fmt, ap);
  va_end (ap);
  return -1;
}

int
nook_error_wrap (nook_error_t *err, const char *fmt, ...)
{
  if (err == NULL || *err == NULL)
    return -1;
  char *ctx = NULL, *msg = NULL;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&ctx, fmt, ap) < 0)
    oom ();
  va_end (ap);
  if (asprintf (&msg, "%s: %s", ctx, (*err)->msg) < 0)
    oom ();
  free (ctx);
  free ((*err)->msg);
  (*err)->msg = msg;
  return -1;
}

void
nook_error_free (nook_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  free ((*err)->msg);
  free (*err);
  *err = NULL;
}

char *
nook_error_text (const struct nook_error *e)
{
  char *s = NULL;
  int r
      = e->code ? asprintf (&s, "%s: %s", e->msg, strerror (e->code)) : asprintf (&s, "%s", e->msg);
  if (r < 0)
    oom ();
  return s;
}
