/* cmd/logfile.c: see logfile.h. */
#include "cmd/logfile.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES (16 * 1024) /* Docker's copier buffer */

struct logw
{
  int dirfd, fd;
  char *name;
  struct log_config cfg;
  int64_t size;
  struct strbuf pending[2]; /* stdout, stderr: the current line */
};

static int
parse_size (const char *v, int64_t *out)
{
  char *end;
  errno = 0;
  double d = strtod (v, &end);
  if (errno || end == v || d < 0)
    return -1;
  int64_t mult = 1;
  if (*end == 'k' || *end == 'K')
    mult = 1024, end++;
  else if (*end == 'm' || *end == 'M')
    mult = 1024 * 1024, end++;
  else if (*end == 'g' || *end == 'G')
    mult = 1024 * 1024 * 1024, end++;
  if (*end == 'b' || *end == 'B')
    end++;
  if (*end != '\0' || d * (double)mult > 1e15)
    return -1;
  *out = (int64_t)(d * (double)mult);
  return 0;
}

int
log_config_parse (const char *driver, char *const *opts, struct log_config *out, nook_error_t *err)
{
  memset (out, 0, sizeof *out);
  out->max_file = 1;
  if (driver && strcmp (driver, "none") == 0)
    out->none = true;
  else if (driver && strcmp (driver, "json-file") != 0 && strcmp (driver, "k8s-file") != 0)
    return nook_error_set (err, 0,
                           "invalid --log-driver \"%s\": this nook has json-file (default) and "
                           "none",
                           driver);
  bool max_file_set = false;
  for (size_t i = 0; opts && opts[i]; i++)
    {
      const char *eq = strchr (opts[i], '=');
      if (eq == NULL)
        return nook_error_set (err, 0, "invalid --log-opt \"%s\": want KEY=VALUE", opts[i]);
      cleanup_free char *key = xstrndup (opts[i], (size_t)(eq - opts[i]));
      if (strcmp (key, "max-size") == 0)
        {
          if (parse_size (eq + 1, &out->max_size) < 0 || out->max_size == 0)
            return nook_error_set (err, 0, "invalid --log-opt max-size=%s: want a size such as 10m",
                                   eq + 1);
        }
      else if (strcmp (key, "max-file") == 0)
        {
          uint64_t v;
          cleanup_error nook_error_t e = NULL;
          if (parse_uint (eq + 1, 1000, &v, "max-file", &e) < 0 || v < 1)
            return nook_error_set (err, 0,
                                   "invalid --log-opt max-file=%s: want a number of files, 1 or "
                                   "more",
                                   eq + 1);
          out->max_file = (int)v;
          max_file_set = true;
        }
      else if (strcmp (key, "mode") == 0 || strcmp (key, "max-buffer-size") == 0
               || strcmp (key, "tag") == 0 || strcmp (key, "labels") == 0
               || strcmp (key, "env") == 0 || strcmp (key, "compress") == 0)
        continue; /* accepted, as Docker's json-file does; no effect here */
      else
        return nook_error_set (err, 0, "unknown log opt '%s' for json-file log driver", key);
    }
  if (max_file_set && out->max_file > 1 && out->max_size == 0)
    return nook_error_set (err, 0, "max-file cannot be set without max-size");
  return 0;
}

char *
logw_file_name (const char *id)
{
  return xasprintf ("%s-json.log", id);
}

struct logw *
logw_open (int dirfd, const char *id, const struct log_config *cfg, nook_error_t *err)
{
  struct logw *w = xzalloc (sizeof *w);
  w->cfg = *cfg;
  w->name = logw_file_name (id);
  w->dirfd = fcntl (dirfd, F_DUPFD_CLOEXEC, 3);
  w->fd = openat (dirfd, w->name, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  struct stat st;
  if (w->dirfd < 0 || w->fd < 0 || fstat (w->fd, &st) < 0)
    {
      nook_error_set (err, errno, "open the container's log '%s'", w->name);
      logw_close (w);
      return NULL;
    }
  w->size = st.st_size;
  return w;
}

void
log_format_time (int64_t ns, char buf[static 40])
{
  time_t t = (time_t)(ns / 1000000000);
  struct tm tm;
  gmtime_r (&t, &tm);
  size_t n = strftime (buf, 40, "%Y-%m-%dT%H:%M:%S", &tm);
  long frac = (long)(ns % 1000000000);
  if (frac)
    {
      char f[16];
      snprintf (f, sizeof f, "%09ld", frac);
      for (int i = 8; i > 0 && f[i] == '0'; i--)
        f[i] = '\0';
      n += (size_t)snprintf (buf + n, 40 - n, ".%s", f);
    }
  snprintf (buf + n, 40 - n, "Z");
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t
utf8_len (const unsigned char *s, size_t n)
{
  size_t len;
  unsigned cp;
  if (s[0] < 0x80)
    return 1;
  if ((s[0] & 0xe0) == 0xc0)
    len = 2, cp = s[0] & 0x1f;
  else if ((s[0] & 0xf0) == 0xe0)
    len = 3, cp = s[0] & 0x0f;
  else if ((s[0] & 0xf8) == 0xf0)
    len = 4, cp = s[0] & 0x07;
  else
    return 0;
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++)
    {
      if ((s[i] & 0xc0) != 0x80)
        return 0;
      cp = (cp << 6) | (s[i] & 0x3f);
    }
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)
      || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

void
log_json_escape (struct strbuf *b, const char *s, size_t n)
{
  const unsigned char *u = (const unsigned char *)s;
  for (size_t i = 0; i < n;)
    {
      unsigned char c = u[i];
      if (c == '"' || c == '\\')
        {
          strbuf_appendc (b, '\\');
          strbuf_appendc (b, (char)c);
          i++;
        }
      else if (c == '\n')
        strbuf_append (b, "\\n"), i++;
      else if (c == '\r')
        strbuf_append (b, "\\r"), i++;
      else if (c == '\t')
        strbuf_append (b, "\\t"), i++;
      else if (c < 0x20 || c == 0x7f)
        strbuf_appendf (b, "\\u%04x", c), i++;
      else
        {
          size_t l = utf8_len (u + i, n - i);
          if (l == 0)
            {
              strbuf_append (b, "\\ufffd");
              i++;
            }
          else
            {
              strbuf_appendn (b, s + i, l);
              i += l;
            }
        }
    }
}

static void
rotate (struct logw *w)
{
  if (w->cfg.max_size <= 0 || w->size < w->cfg.max_size)
    return;
  if (w->cfg.max_file <= 1)
    {
      if (ftruncate (w->fd, 0) == 0)
        w->size = 0;
      return;
    }
  for (int i = w->cfg.max_file - 1; i >= 1; i--)
    {
      cleanup_free char *from = i == 1 ? xstrdup (w->name) : xasprintf ("%s.%d", w->name, i - 1);
      cleanup_free char *to = xasprintf ("%s.%d", w->name, i);
      renameat (w->dirfd, from, w->dirfd, to);
    }
  int fd = openat (w->dirfd, w->name, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0)
    {
      close (w->fd);
      w->fd = fd;
      w->size = 0;
    }
}

static void
entry (struct logw *w, int stream, const char *s, size_t n, int64_t ns)
{
  struct strbuf b = { 0 };
  char t[40];
  log_format_time (ns, t);
  strbuf_append (&b, "{\"log\":\"");
  log_json_escape (&b, s, n);
  strbuf_appendf (&b, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream == 2 ? "stderr" : "stdout",
                  t);
  rotate (w);
  /* (a full disk loses lines; the container is not stopped for it) */
  if (write (w->fd, b.buf, b.len) > 0)
    w->size += (int64_t)b.len;
  strbuf_free (&b);
}

void
logw_data (struct logw *w, int stream, const char *buf, size_t n)
{
  if (w == NULL || n == 0)
    return;
  struct strbuf *p = &w->pending[stream == 2 ? 1 : 0];
  int64_t ns = realtime_ns ();
  while (n > 0)
    {
      const char *nl = memchr (buf, '\n', n);
      size_t take = nl ? (size_t)(nl - buf) + 1 : n;
      if (p->len + take > LINE_MAX_BYTES && !nl)
        take = LINE_MAX_BYTES - p->len < n ? LINE_MAX_BYTES - p->len : n;
      if (p->len == 0 && nl)
        entry (w, stream, buf, take, ns); /* a whole line: no copy */
      else
        {
          strbuf_appendn (p, buf, take);
          if (nl || p->len >= LINE_MAX_BYTES)
            {
              entry (w, stream, p->buf, p->len, ns);
              p->len = 0;
            }
        }
      buf += take;
      n -= take;
    }
}

void
logw_flush (struct logw *w)
{
  if (w == NULL)
    return;
  int64_t ns = realtime_ns ();
  for (int i = 0; i < 2; i++)
    if (w->pending[i].len)
      {
        entry (w, i + 1, w->pending[i].buf, w->pending[i].len, ns);
        w->pending[i].len = 0;
      }
}

void
logw_close (struct logw *w)
{
  if (w == NULL)
    return;
  logw_flush (w);
  if (w->fd >= 0)
    close (w->fd);
  if (w->dirfd >= 0)
    close (w->dirfd);
  strbuf_free (&w->pending[0]);
  strbuf_free (&w->pending[1]);
  free (w->name);
  free (w);
}
