/* cmd/logs.c: `nook logs [-f] [--tail N] [-t] [--since T] [--until T] CONTAINER`
 * over the json-file log its supervisor writes (cmd/logfile.h): rotated files
 * first, stdout and stderr kept apart; -f follows while the supervisor lives. */
#include "cmd/cli.h"
#include "cmd/lifecycle.h"
#include "cmd/logfile.h"
#include "cmd/logread.h"
#include "cmd/records.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct logs_opts
{
  bool follow, timestamps;
  int64_t tail;         /* -1: all */
  int64_t since, until; /* ns, 0: none */
  const char *container;
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
static int
parse_time (const char *s, int64_t now, int64_t *out)
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
log_parse_time (const char *s, int64_t now, int64_t *out)
{
  return parse_time (s, now, out);
}

/* The time of an entry ("2006-01-02T15:04:05.999999999Z") in ns, 0 if none. */
static int64_t
entry_time (const char *t)
{
  int64_t ns = 0;
  return t && parse_time (t, 0, &ns) == 0 ? ns : 0;
}

struct entry
{
  char *line; /* what to print (with -t: the time first) */
  size_t len;
  int stream;
};

struct ring
{
  struct entry *v;
  size_t cap, n, head;
};

static void
emit (const struct entry *e)
{
  fs_write_all (e->stream == 2 ? 2 : 1, e->line, e->len);
}

/* One line of the log file: false when it is no entry or filtered out. */
static bool
parse_entry (const struct logs_opts *o, const char *text, size_t len, struct entry *e)
{
  json_t *j = json_loadb (text, len, JSON_ALLOW_NUL, NULL);
  if (j == NULL)
    return false;
  json_t *l = json_object_get (j, "log");
  const char *stream = json_string_value (json_object_get (j, "stream"));
  const char *t = json_string_value (json_object_get (j, "time"));
  int64_t ns = entry_time (t);
  bool keep = json_is_string (l) && (o->since == 0 || ns >= o->since)
              && (o->until == 0 || ns <= o->until);
  if (keep)
    {
      struct strbuf b = { 0 };
      if (o->timestamps)
        {
          char tb[40];
          log_format_time (ns, tb);
          strbuf_appendf (&b, "%s ", tb);
        }
      strbuf_appendn (&b, json_string_value (l), json_string_length (l));
      e->len = b.len;
      e->line = strbuf_steal (&b);
      e->stream = stream && strcmp (stream, "stderr") == 0 ? 2 : 1;
    }
  json_decref (j);
  return keep;
}

static void
take (const struct logs_opts *o, struct ring *r, struct entry *e)
{
  if (o->tail < 0)
    {
      emit (e);
      free (e->line);
      return;
    }
  if (r->cap == 0)
    {
      free (e->line);
      return;
    }
  if (r->n == r->cap)
    {
      free (r->v[r->head].line);
      r->v[r->head] = *e;
      r->head = (r->head + 1) % r->cap;
    }
  else
    r->v[(r->head + r->n++) % r->cap] = *e;
}

/* Read fd from its position to its end; a last line without its newline
 * stays in *partial (the writer is in the middle of it). */
static void
read_lines (const struct logs_opts *o, int fd, struct strbuf *partial, struct ring *r)
{
  char buf[65536];
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      strbuf_appendn (partial, buf, (size_t)n);
      size_t start = 0;
      for (size_t i = 0; i < partial->len; i++)
        if (partial->buf[i] == '\n')
          {
            struct entry e;
            if (parse_entry (o, partial->buf + start, i - start, &e))
              take (o, r, &e);
            start = i + 1;
          }
      memmove (partial->buf, partial->buf + start, partial->len - start);
      partial->len -= start;
    }
}

static void
logs_usage (void)
{
  printf ("Usage:  nook logs [OPTIONS] CONTAINER\n\nFetch the logs of a container\n\nOptions:\n"
          "  -f, --follow         Follow log output\n"
          "      --since string   Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or "
          "relative (e.g. 42m for 42 minutes)\n"
          "  -n, --tail string    Number of lines to show from the end of the logs (default "
          "\"all\")\n"
          "  -t, --timestamps     Show timestamps\n"
          "      --until string   Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or "
          "relative (e.g. 42m for 42 minutes)\n");
}

static int
logs_parse (int argc, char **argv, struct logs_opts *o, nook_error_t *err)
{
  memset (o, 0, sizeof *o);
  o->tail = -1;
  int64_t now = container_now_ns ();
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i], *v = NULL;
      int r;
      if (a[0] != '-' || a[1] == '\0')
        {
          if (o->container)
            return cmd_args_error (err, "logs", "\"nook logs\" requires exactly 1 argument.");
          o->container = a;
        }
      else if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        {
          logs_usage ();
          return 1;
        }
      else if (strcmp (a, "-f") == 0 || strcmp (a, "--follow") == 0)
        o->follow = true;
      else if (strcmp (a, "-t") == 0 || strcmp (a, "--timestamps") == 0)
        o->timestamps = true;
      else if (strcmp (a, "-ft") == 0 || strcmp (a, "-tf") == 0)
        o->follow = o->timestamps = true;
      else if (strcmp (a, "--details") == 0)
        ;
      else if ((r = cmd_opt_value (argc, argv, &i, "-n", "--tail", "logs", &v, err)) != 0)
        {
          uint64_t n;
          cleanup_error nook_error_t e = NULL;
          if (r < 0)
            return -1;
          if (strcmp (v, "all") == 0)
            o->tail = -1;
          else if (parse_uint (v, 1u << 30, &n, "--tail", &e) == 0)
            o->tail = (int64_t)n;
          else
            return cmd_flag_error (err, "logs", "invalid argument \"%s\" for \"-n, --tail\" flag",
                                   v);
        }
      else if ((r = cmd_opt_value (argc, argv, &i, NULL, "--since", "logs", &v, err)) != 0
               || (r = cmd_opt_value (argc, argv, &i, NULL, "--until", "logs", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          bool since = strncmp (a, "--since", 7) == 0;
          if (parse_time (v, now, since ? &o->since : &o->until) < 0)
            return nook_error_set (err, 0,
                                   "invalid value for \"%s\": \"%s\" is neither a timestamp nor "
                                   "a duration",
                                   since ? "since" : "until", v);
        }
      else
        return cmd_flag_error (err, "logs", "unknown flag: %s", a);
    }
  if (o->container == NULL)
    return cmd_args_error (err, "logs", "\"nook logs\" requires exactly 1 argument.");
  return 0;
}

/* Follow the current log file while the supervisor lives. */
static void
follow (const struct logs_opts *o, int dirfd, const char *name, int fd, struct strbuf *partial,
        int sup)
{
  struct ring r = { 0 };
  struct logs_opts fo = *o;
  fo.tail = -1;
  cleanup_close int in = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
  char path[64];
  fs_fd_path (dirfd, path);
  if (in >= 0)
    inotify_add_watch (in, path, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE);
  for (;;)
    {
      read_lines (&fo, fd, partial, &r);
      /* rotated: go on with the new file */
      struct stat a, b;
      if (fstat (fd, &a) == 0 && fstatat (dirfd, name, &b, 0) == 0 && a.st_ino != b.st_ino)
        {
          int nfd = openat (dirfd, name, O_RDONLY | O_CLOEXEC);
          if (nfd >= 0)
            {
              read_lines (&fo, fd, partial, &r);
              close (fd);
              fd = nfd;
              partial->len = 0;
              continue;
            }
        }
      struct pollfd p[2] = { { .fd = in, .events = POLLIN }, { .fd = sup, .events = POLLIN } };
      int n = poll (p, 2, in >= 0 ? 1000 : 200);
      if (n > 0 && (p[0].revents & POLLIN))
        {
          char ev[4096];
          while (read (in, ev, sizeof ev) > 0)
            ;
        }
      if (sup < 0 || (p[1].revents & POLLIN))
        {
          read_lines (&fo, fd, partial, &r);
          break;
        }
    }
  close (fd);
}

int
cmd_logs (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  struct logs_opts o;
  int r = logs_parse (argc, argv, &o, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  cleanup_free char *root = lifecycle_root (ctx, err);
  cleanup_free char *id = root ? container_lookup (root, o.container, err) : NULL;
  if (id == NULL)
    return -1;
  cleanup_free char *dpath = xasprintf ("%s/containers/%s", root, id);
  cleanup_close int dirfd = open (dpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return nook_error_set (err, 0, "No such container: %s", o.container);
  cleanup_free char *cpath = xasprintf ("%s/containers", root);
  cleanup_close int cdir = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  json_t *cfg = container_read_json (cdir, id, "config.json");
  const char *type = json_string_value (
      json_object_get (json_object_get (json_object_get (cfg, "HostConfig"), "LogConfig"), "Type"));
  bool none = type && strcmp (type, "none") == 0;
  json_decref (cfg);
  if (none)
    return nook_error_set (err, 0, "configured logging driver does not support reading");
  /* the supervisor, for -f: pinned before the files are read */
  struct container_state st;
  container_state_read (cdir, id, &st);
  cleanup_close int sup = -1;
  if (o.follow && container_process_alive (st.sup_pid, st.sup_start))
    sup = (int)syscall (SYS_pidfd_open, st.sup_pid, 0);
  container_state_clear (&st);

  cleanup_free char *name = logw_file_name (id);
  struct ring ring = { 0 };
  if (o.tail >= 0)
    {
      ring.cap = (size_t)o.tail;
      ring.v = xzalloc (sizeof *ring.v * (ring.cap + 1));
    }
  struct strbuf partial = { 0 };
  /* rotated files, oldest first */
  for (int k = 1000; k >= 1; k--)
    {
      cleanup_free char *rot = xasprintf ("%s.%d", name, k);
      cleanup_close int fd = openat (dirfd, rot, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        continue;
      read_lines (&o, fd, &partial, &ring);
      partial.len = 0;
    }
  int fd = openat (dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd >= 0)
    read_lines (&o, fd, &partial, &ring);
  for (size_t i = 0; i < ring.n; i++)
    {
      struct entry *e = &ring.v[(ring.head + i) % ring.cap];
      emit (e);
      free (e->line);
    }
  free (ring.v);
  if (o.follow && sup >= 0 && fd >= 0)
    follow (&o, dirfd, name, fd, &partial, sup);
  else if (fd >= 0)
    close (fd);
  strbuf_free (&partial);
  return 0;
}
