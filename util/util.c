/* util/util.c: see util.h. */
#include "util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <unistd.h>

size_t
strv_len (char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

void
strv_free (char **v)
{
  for (size_t i = 0; v && v[i]; i++)
    free (v[i]);
  free (v);
}

char **
strv_dup (char *const *v)
{
  size_t n = strv_len (v);
  char **r = xreallocarray (NULL, n + 1, sizeof *r);
  for (size_t i = 0; i < n; i++)
    r[i] = xstrdup (v[i]);
  r[n] = NULL;
  return r;
}

void
strv_push_take (char ***v, char *s)
{
  size_t n = strv_len (*v);
  *v = xreallocarray (*v, n + 2, sizeof **v);
  (*v)[n] = s;
  (*v)[n + 1] = NULL;
}

void
strv_push (char ***v, const char *s)
{
  strv_push_take (v, xstrdup (s));
}

bool
strv_contains (char *const *v, const char *s)
{
  for (size_t i = 0; v && v[i]; i++)
    if (strcmp (v[i], s) == 0)
      return true;
  return false;
}

char *
str_next_line (const char **cursor)
{
  const char *p = *cursor;
  if (p == NULL || *p == '\0')
    return NULL;
  const char *nl = strchr (p, '\n');
  size_t len = nl ? (size_t)(nl - p) : strlen (p);
  *cursor = nl ? nl + 1 : p + len;
  return xstrndup (p, len);
}

bool
str_has_prefix (const char *s, const char *prefix)
{
  return strncmp (s, prefix, strlen (prefix)) == 0;
}

bool
str_has_suffix (const char *s, const char *suffix)
{
  size_t a = strlen (s), b = strlen (suffix);
  return a >= b && memcmp (s + a - b, suffix, b) == 0;
}

int
parse_uint (const char *s, uint64_t max, uint64_t *out, const char *what, nook_error_t *err)
{
  if (s == NULL || *s < '0' || *s > '9')
    return nook_error_set (err, 0, "invalid %s '%s': not a number", what, s ? s : "");
  errno = 0;
  char *end = NULL;
  unsigned long long v = strtoull (s, &end, 10);
  if (errno == ERANGE || v > max)
    return nook_error_set (err, 0, "invalid %s '%s': out of range (max %" PRIu64 ")", what, s, max);
  if (*end != '\0')
    return nook_error_set (err, 0, "invalid %s '%s': not a number", what, s);
  *out = v;
  return 0;
}

int
parse_int (const char *s, int64_t min, int64_t max, int64_t *out, const char *what,
           nook_error_t *err)
{
  if (s == NULL || *s == '\0')
    return nook_error_set (err, 0, "invalid %s '': not a number", what);
  errno = 0;
  char *end = NULL;
  long long v = strtoll (s, &end, 10);
  if (*end != '\0' || end == s)
    return nook_error_set (err, 0, "invalid %s '%s': not a number", what, s);
  if (errno == ERANGE || v < min || v > max)
    return nook_error_set (err, 0, "invalid %s '%s': out of range", what, s);
  *out = v;
  return 0;
}

void
strbuf_appendn (struct strbuf *b, const char *s, size_t n)
{
  size_t need;
  if (__builtin_add_overflow (b->len, n + 1, &need))
    oom ();
  if (need > b->cap)
    {
      size_t cap = b->cap ? b->cap : 64;
      while (cap < need)
        if (__builtin_mul_overflow (cap, 2, &cap))
          oom ();
      b->buf = xrealloc (b->buf, cap);
      b->cap = cap;
    }
  memcpy (b->buf + b->len, s, n);
  b->len += n;
  b->buf[b->len] = '\0';
}

void
strbuf_append (struct strbuf *b, const char *s)
{
  strbuf_appendn (b, s, strlen (s));
}

void
strbuf_appendc (struct strbuf *b, char c)
{
  strbuf_appendn (b, &c, 1);
}

void
strbuf_appendf (struct strbuf *b, const char *fmt, ...)
{
  char *s = NULL;
  va_list ap;
  va_start (ap, fmt);
  int n = vasprintf (&s, fmt, ap);
  va_end (ap);
  if (n < 0)
    oom ();
  strbuf_appendn (b, s, (size_t)n);
  free (s);
}

char *
strbuf_steal (struct strbuf *b)
{
  char *r = b->buf ? b->buf : xstrdup ("");
  b->buf = NULL;
  b->len = b->cap = 0;
  return r;
}

void
strbuf_free (struct strbuf *b)
{
  free (b->buf);
  b->buf = NULL;
  b->len = b->cap = 0;
}

char *
random_hex_id (void)
{
  unsigned char r[32];
  if (getrandom (r, sizeof r, 0) != sizeof r)
    oom ();
  struct strbuf b = { 0 };
  for (size_t i = 0; i < sizeof r; i++)
    strbuf_appendf (&b, "%02x", r[i]);
  return strbuf_steal (&b);
}

int64_t
realtime_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
