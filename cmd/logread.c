/* cmd/logread.c: see logread.h. */
#include "cmd/logread.h"
#include "cmd/logfile.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
  int64_t since, until, skip;
};

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

int
logread_next (struct logread *r, struct log_entry *e)
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
          if (r->skip > 0)
            {
              r->skip--;
              free (e->text);
              continue;
            }
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

static struct logread *
reader_new (int dirfd, const char *id, int64_t since, int64_t until)
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
  return r;
}

struct logread *
logread_open (int dirfd, const char *id, int64_t since, int64_t until, int64_t tail)
{
  struct logread *r = reader_new (dirfd, id, since, until);
  if (tail >= 0)
    {
      /* count first, then skip all but the last `tail` */
      struct logread *c = reader_new (dirfd, id, since, until);
      struct log_entry e;
      int64_t n = 0;
      while (logread_next (c, &e) == 1)
        {
          free (e.text);
          n++;
        }
      logread_close (c);
      r->skip = n > tail ? n - tail : 0;
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
  free (r);
}
