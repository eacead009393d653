/* cmd/logread.c: see logread.h. */
#include "cmd/logread.h"
#include "cmd/cli.h"
#include "cmd/logfile.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct logread
{
  int dirfd;
  char *name; /* <id>-json.log */
  int fd;     /* the file being read, -1 none */
  int rot;    /* > 0: reading NAME.rot (older first); 0: the current file */
  ino_t ino;  /* the current file's inode */
  struct strbuf buf;
  size_t off; /* bytes of buf already taken */
  int64_t since, until;
  /* --tail: the last entries written when the reader was opened, oldest at head */
  struct log_entry *ring;
  size_t cap, n, head;
};

/* A Go duration ("10m", "1h30m", "1.5s", "300ms") in ns; -1 if it is none. */
static int64_t
parse_duration (const char *s)
{
  int64_t total = 0;
  const char *p = s;
  if (*p == '\0')
    return -1;
  while (*p)
    {
      char *end;
      double v = strtod (p, &end);
      if (end == p)
        return -1;
      p = end;
      int64_t unit;
      if (strncmp (p, "ns", 2) == 0)
        unit = 1, p += 2;
      else if (strncmp (p, "us", 2) == 0 || strncmp (p, "µs", 3) == 0)
        unit = 1000, p += p[0] == 'u' ? 2 : 3;
      else if (strncmp (p, "ms", 2) == 0)
        unit = 1000000, p += 2;
      else if (*p == 's')
        unit = 1000000000, p++;
      else if (*p == 'm')
        unit = 60LL * 1000000000, p++;
      else if (*p == 'h')
        unit = 3600LL * 1000000000, p++;
      else
        return -1;
      total += (int64_t)(v * (double)unit);
    }
  return total;
}

/* RFC 3339 (fraction and offset optional; without a zone: local time), a date,
 * a unix time ("1700000000.5"), or a duration before now. */
int
log_parse_time (const char *s, int64_t now, int64_t *out)
{
  int64_t d = parse_duration (s);
  if (d >= 0)
    {
      *out = now - d;
      return 0;
    }
  char *end;
  errno = 0;
  double u = strtod (s, &end);
  if (end != s && *end == '\0' && errno == 0 && strchr (s, '-') == NULL)
    {
      *out = (int64_t)(u * 1e9);
      return 0;
    }
  struct tm tm = { 0 };
  const char *p = strptime (s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (p == NULL)
    {
      memset (&tm, 0, sizeof tm);
      p = strptime (s, "%Y-%m-%d", &tm);
      if (p == NULL)
        return -1;
    }
  int64_t frac = 0;
  if (*p == '.')
    {
      int64_t scale = 100000000;
      for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
        frac += (*p - '0') * scale;
    }
  int64_t secs;
  if (*p == 'Z' || *p == 'z')
    {
      secs = (int64_t)timegm (&tm);
      p++;
    }
  else if (*p == '+' || *p == '-')
    {
      int hh = 0, mm = 0;
      if (sscanf (p + 1, "%d:%d", &hh, &mm) < 1)
        return -1;
      secs = (int64_t)timegm (&tm) - (*p == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
      p += strlen (p);
    }
  else
    {
      tm.tm_isdst = -1;
      secs = (int64_t)mktime (&tm);
    }
  if (*p != '\0')
    return -1;
  *out = secs * 1000000000 + frac;
  return 0;
}

int
logread_opt (int argc, char **argv, int *i, const char *verb, int64_t now, int64_t *tail,
             int64_t *since, int64_t *until, nook_error_t *err)
{
  const char *a = argv[*i], *v = NULL;
  int r;
  if ((r = cmd_opt_value (argc, argv, i, "-n", "--tail", verb, &v, err)) != 0)
    {
      uint64_t n;
      cleanup_error nook_error_t e = NULL;
      if (r < 0)
        return -1;
      if (strcmp (v, "all") == 0)
        *tail = -1;
      else if (parse_uint (v, 1u << 30, &n, "--tail", &e) == 0)
        *tail = (int64_t)n;
      else
        return cmd_flag_error (err, verb, "invalid argument \"%s\" for \"-n, --tail\" flag", v);
      return 1;
    }
  if ((r = cmd_opt_value (argc, argv, i, NULL, "--since", verb, &v, err)) != 0
      || (r = cmd_opt_value (argc, argv, i, NULL, "--until", verb, &v, err)) != 0)
    {
      if (r < 0)
        return -1;
      bool is_since = strncmp (a, "--since", 7) == 0;
      if (log_parse_time (v, now, is_since ? since : until) < 0)
        return nook_error_set (err, 0,
                               "invalid value for \"%s\": \"%s\" is neither a timestamp nor a "
                               "duration",
                               is_since ? "since" : "until", v);
      return 1;
    }
  return 0;
}

static bool
parse (struct logread *r, const char *text, size_t len, struct log_entry *e)
{
  json_t *j = json_loadb (text, len, JSON_ALLOW_NUL, NULL);
  if (j == NULL)
    return false;
  json_t *l = json_object_get (j, "log");
  const char *stream = json_string_value (json_object_get (j, "stream"));
  const char *t = json_string_value (json_object_get (j, "time"));
  int64_t ns = 0;
  if (t == NULL || log_parse_time (t, 0, &ns) < 0)
    ns = 0;
  bool keep = json_is_string (l) && (r->since == 0 || ns >= r->since)
              && (r->until == 0 || ns <= r->until);
  if (keep)
    {
      e->ns = ns;
      e->len = json_string_length (l);
      e->text = xmalloc (e->len + 1);
      memcpy (e->text, json_string_value (l), e->len);
      e->text[e->len] = '\0';
      e->stream = stream && strcmp (stream, "stderr") == 0 ? 2 : 1;
    }
  json_decref (j);
  return keep;
}

static void
next_file (struct logread *r)
{
  while (r->fd < 0 && r->rot > 0)
    {
      cleanup_free char *p = xasprintf ("%s.%d", r->name, r->rot);
      r->fd = openat (r->dirfd, p, O_RDONLY | O_CLOEXEC);
      if (r->fd < 0)
        r->rot--;
    }
  if (r->fd < 0 && r->rot == 0)
    {
      struct stat st;
      r->fd = openat (r->dirfd, r->name, O_RDONLY | O_CLOEXEC);
      if (r->fd >= 0 && fstat (r->fd, &st) == 0)
        r->ino = st.st_ino;
    }
}

/* Read what fd has: true when something came. */
static bool
fill (struct logread *r)
{
  char chunk[65536];
  bool got = false;
  for (;;)
    {
      ssize_t n = read (r->fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return got;
      if (r->off > 0 && r->off * 2 > r->buf.len)
        {
          memmove (r->buf.buf, r->buf.buf + r->off, r->buf.len - r->off);
          r->buf.len -= r->off;
          r->off = 0;
        }
      strbuf_appendn (&r->buf, chunk, (size_t)n);
      got = true;
      if ((size_t)n < sizeof chunk)
        return got;
    }
}

/* The next entry of the files, as written. */
static int
next_written (struct logread *r, struct log_entry *e)
{
  for (;;)
    {
      if (r->fd < 0)
        next_file (r);
      if (r->fd < 0)
        return 0;
      const char *start = r->buf.buf ? r->buf.buf + r->off : NULL;
      const char *nl = start ? memchr (start, '\n', r->buf.len - r->off) : NULL;
      if (nl)
        {
          size_t len = (size_t)(nl - start);
          r->off += len + 1;
          if (!parse (r, start, len, e))
            continue;
          return 1;
        }
      if (fill (r))
        continue;
      if (r->rot > 0)
        {
          /* a rotated file is complete: on to the next newer one */
          close (r->fd);
          r->fd = -1;
          r->rot--;
          r->buf.len = r->off = 0;
          continue;
        }
      /* the end of the current file: rotated meanwhile? drain it, then the new one */
      struct stat st;
      if (fstatat (r->dirfd, r->name, &st, 0) == 0 && st.st_ino != r->ino)
        {
          if (fill (r))
            continue;
          close (r->fd);
          r->fd = -1;
          r->buf.len = r->off = 0;
          continue;
        }
      return 0;
    }
}

int
logread_next (struct logread *r, struct log_entry *e)
{
  if (r->n > 0)
    {
      *e = r->ring[r->head];
      r->head = (r->head + 1) % r->cap;
      r->n--;
      return 1;
    }
  return next_written (r, e);
}

struct logread *
logread_open (int dirfd, const char *id, int64_t since, int64_t until, int64_t tail)
{
  struct logread *r = xzalloc (sizeof *r);
  r->dirfd = fcntl (dirfd, F_DUPFD_CLOEXEC, 3);
  r->name = logw_file_name (id);
  r->fd = -1;
  r->since = since;
  r->until = until;
  /* the oldest rotated file: NAME.1 .. NAME.N-1, higher is older */
  for (int k = 1; k < 1000; k++)
    {
      cleanup_free char *p = xasprintf ("%s.%d", r->name, k);
      struct stat st;
      if (fstatat (dirfd, p, &st, 0) < 0)
        break;
      r->rot = k;
    }
  if (tail >= 0)
    {
      /* what is written now, its last `tail` entries kept (then on from there) */
      struct log_entry e;
      r->cap = (size_t)tail;
      r->ring = xzalloc (sizeof *r->ring * (r->cap + 1));
      while (next_written (r, &e) == 1)
        if (r->cap == 0)
          free (e.text);
        else if (r->n == r->cap)
          {
            free (r->ring[r->head].text);
            r->ring[r->head] = e;
            r->head = (r->head + 1) % r->cap;
          }
        else
          r->ring[(r->head + r->n++) % r->cap] = e;
    }
  return r;
}

void
logread_close (struct logread *r)
{
  if (r == NULL)
    return;
  if (r->fd >= 0)
    close (r->fd);
  if (r->dirfd >= 0)
    close (r->dirfd);
  free (r->name);
  strbuf_free (&r->buf);
  for (; r->n > 0; r->n--, r->head = (r->head + 1) % r->cap)
    free (r->ring[r->head].text);
  free (r->ring);
  free (r);
}
