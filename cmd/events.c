/* cmd/events.c: see events.h; and `nook events`. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/ctrs.h"
#include "cmd/events.h"
#include "cmd/health.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/template.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void
events_record (const char *root, const char *type, const char *action, const char *id,
               json_t *attrs)
{
  if (root == NULL || id == NULL)
    {
      json_decref (attrs);
      return;
    }
  int64_t t = realtime_ns ();
  if (attrs == NULL)
    attrs = json_object ();
  json_t *ev = json_pack ("{s:s, s:s, s:{s:s, s:o}, s:s, s:I, s:I}", "Type", type, "Action", action,
                          "Actor", "ID", id, "Attributes", attrs, "scope", "local", "time",
                          (json_int_t)(t / 1000000000), "timeNano", (json_int_t)t);
  if (ev && (strcmp (type, "container") == 0 || strcmp (type, "image") == 0))
    {
      /* Docker's older fields, still in its messages */
      json_object_set_new (ev, "status", json_string (action));
      json_object_set_new (ev, "id", json_string (id));
      const char *from = json_string_value (json_object_get (attrs, "image"));
      if (from && strcmp (type, "container") == 0)
        json_object_set_new (ev, "from", json_string (from));
    }
  cleanup_free char *line = ev ? json_dumps (ev, JSON_COMPACT) : NULL;
  json_decref (ev);
  if (line == NULL)
    return;
  cleanup_free char *path = xasprintf ("%s/events.log", root);
  cleanup_close int fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  cleanup_free char *text = xasprintf ("%s\n", line);
  /* one write: O_APPEND keeps concurrent writers' lines whole */
  if (fd < 0 || write (fd, text, strlen (text)) != (ssize_t)strlen (text))
    {
      log_debug ("event %s %s not recorded in '%s': %s", type, action, path, strerror (errno));
      return;
    }
  struct stat a, b;
  if (fstat (fd, &a) < 0 || a.st_size <= EVENTS_LOG_MAX || flock (fd, LOCK_EX) < 0)
    return;
  /* (another writer may have rotated it meanwhile: only the file still named so) */
  if (stat (path, &b) == 0 && b.st_ino == a.st_ino && b.st_dev == a.st_dev)
    {
      cleanup_free char *old = xasprintf ("%s/events.log.1", root);
      if (rename (path, old) < 0)
        log_debug ("rotate '%s': %s", path, strerror (errno));
    }
  flock (fd, LOCK_UN);
}

json_t *
events_container_attrs (const char *root, const char *id)
{
  return events_container_attrs_mounts (root, id, NULL);
}

json_t *
events_container_attrs_mounts (const char *root, const char *id, json_t **volumes)
{
  cleanup_free char *p = xasprintf ("%s/containers/%s/config.json", root, id);
  json_t *cfg = json_load_file (p, 0, NULL);
  json_t *attrs = events_container_attrs_of (cfg, volumes);
  json_decref (cfg);
  return attrs;
}

json_t *
events_container_attrs_of (const json_t *cfg, json_t **volumes)
{
  if (volumes)
    {
      /* its named and anonymous volumes (Docker's mount/unmount events name only those) */
      *volumes = NULL;
      size_t i;
      json_t *m;
      json_array_foreach (json_object_get (cfg, "Mounts"), i, m)
      {
        const char *type = json_string_value (json_object_get (m, "Type"));
        if (type == NULL || strcmp (type, "volume") != 0
            || !json_is_string (json_object_get (m, "Name")))
          continue;
        if (*volumes == NULL)
          *volumes = json_array ();
        json_array_append (*volumes, m);
      }
    }
  json_t *attrs = json_object ();
  json_t *labels = json_object_get (cfg, "Labels");
  if (json_is_object (labels))
    json_object_update (attrs, labels);
  const char *image = json_string_value (json_object_get (cfg, "Image"));
  const char *name = json_string_value (json_object_get (cfg, "Name"));
  if (image)
    json_object_set_new (attrs, "image", json_string (image));
  if (name)
    json_object_set_new (attrs, "name", json_string (name[0] == '/' ? name + 1 : name));
  return attrs;
}

void
events_image (struct imagefmt_store *store, const char *action, const char *actor, const char *name,
              const json_t *image_config, const char *lookup)
{
  struct imagefmt_image *img = NULL;
  if (image_config == NULL && lookup)
    {
      cleanup_error nook_error_t e = NULL;
      if (imagefmt_store_lookup (store, lookup, &img, &e) == 0)
        image_config = img->config;
    }
  json_t *attrs = json_object ();
  json_t *labels = json_object_get (json_object_get (image_config, "config"), "Labels");
  if (json_is_object (labels))
    json_object_update (attrs, labels);
  json_object_set_new (attrs, "name", json_string (name ? name : actor));
  imagefmt_image_free (img);
  events_record (imagefmt_store_root (store), "image", action, actor, attrs);
}

void
events_container_with (const char *root, const char *id, const char *action, const json_t *attrs,
                       json_t *extra)
{
  json_t *a = attrs ? json_copy ((json_t *)attrs) : json_object ();
  if (extra)
    json_object_update (a, extra);
  json_decref (extra);
  events_record (root, "container", action, id, a);
}

void
events_container (const char *root, const char *id, const char *action, json_t *extra)
{
  if (root == NULL || id == NULL)
    {
      json_decref (extra);
      return;
    }
  json_t *attrs = events_container_attrs (root, id);
  events_container_with (root, id, action, attrs, extra);
  json_decref (attrs);
}

void
events_volumes (const char *root, const char *id, const json_t *volumes, bool mount)
{
  size_t i;
  json_t *m;
  json_array_foreach (volumes, i, m)
  {
    const char *name = json_string_value (json_object_get (m, "Name"));
    const char *dest = json_string_value (json_object_get (m, "Destination"));
    const char *prop = json_string_value (json_object_get (m, "Propagation"));
    json_t *a = mount ? json_pack ("{s:s, s:s, s:s, s:s, s:s}", "container", id, "destination",
                                   dest ? dest : "", "driver", "local", "propagation",
                                   prop ? prop : "", "read/write",
                                   json_is_false (json_object_get (m, "RW")) ? "false" : "true")
                      : json_pack ("{s:s, s:s}", "container", id, "driver", "local");
    events_record (root, "volume", mount ? "mount" : "unmount", name, a);
  }
}

void
events_container_volumes (const char *root, const char *id, bool mount)
{
  json_t *vols = NULL;
  json_decref (events_container_attrs_mounts (root, id, &vols));
  events_volumes (root, id, vols, mount);
  json_decref (vols);
}

json_t *
events_attr_int (const char *k, int v)
{
  char s[16];
  snprintf (s, sizeof s, "%d", v);
  return json_pack ("{s:s}", k, s);
}

/* ---- reading ---- */

/* "2006-01-02[T15:04:05[.999999999]][Z|±07:00]" (a space for T too); local time without
 * a zone, as Docker reads it. */
static int
parse_rfc3339 (const char *s, int64_t *out)
{
  struct tm tm = { 0 };
  const char *p = strptime (s, "%Y-%m-%d", &tm);
  if (p == NULL)
    return -1;
  int64_t frac = 0;
  if (*p == 'T' || *p == ' ')
    {
      p = strptime (p + 1, "%H:%M:%S", &tm);
      if (p == NULL)
        return -1;
      if (*p == '.')
        {
          int digits = 0;
          for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 9)
              frac = frac * 10 + (*p - '0');
          for (; digits < 9; digits++)
            frac *= 10;
        }
    }
  time_t t;
  if (*p == '\0')
    {
      tm.tm_isdst = -1;
      t = mktime (&tm);
    }
  else if (*p == 'Z' && p[1] == '\0')
    t = timegm (&tm);
  else
    {
      int hh, mm;
      char sign = *p;
      if ((sign != '+' && sign != '-') || sscanf (p + 1, "%2d:%2d", &hh, &mm) != 2
          || strlen (p) != 6)
        return -1;
      t = timegm (&tm) - (sign == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
    }
  *out = (int64_t)t * 1000000000 + frac;
  return 0;
}

int
events_time_parse (const char *s, int64_t now, int64_t *out, nook_error_t *err)
{
  char *end;
  errno = 0;
  double secs = strtod (s, &end);
  if (*s && *end == '\0' && errno == 0 && strspn (s, "0123456789.") == strlen (s))
    {
      /* seconds[.nanoseconds], as Docker (the fraction as nanoseconds' digits) */
      const char *dot = strchr (s, '.');
      int64_t sec = (int64_t)secs, frac = 0;
      if (dot)
        {
          int digits = 0;
          for (const char *q = dot + 1; *q && digits < 9; q++, digits++)
            frac = frac * 10 + (*q - '0');
          for (; digits < 9; digits++)
            frac *= 10;
        }
      *out = sec * 1000000000 + frac;
      return 0;
    }
  if (parse_rfc3339 (s, out) == 0)
    return 0;
  cleanup_error nook_error_t e = NULL;
  int64_t d;
  if (health_duration_parse (s, &d, &e) == 0)
    {
      *out = now - d;
      return 0;
    }
  return nook_error_set (err, 0,
                         "invalid time '%s': want a Unix timestamp, an RFC 3339 date or time, "
                         "or a duration such as 10m",
                         s);
}

struct reader
{
  int fd;
  struct strbuf part; /* a line not yet ended */
};

/* Lines read from r (to its end) given to fn while it says so; false once it said stop. */
static bool
read_lines (struct reader *r, int64_t since, int64_t until, bool *past_until,
            bool (*fn) (json_t *, void *), void *data)
{
  char buf[65536];
  ssize_t n;
  while ((n = read (r->fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    {
      if (n < 0)
        continue;
      strbuf_appendn (&r->part, buf, (size_t)n);
      char *start = r->part.buf, *nl;
      while ((nl = memchr (start, '\n', r->part.len - (size_t)(start - r->part.buf))) != NULL)
        {
          *nl = '\0';
          json_t *ev = json_loads (start, 0, NULL);
          start = nl + 1;
          if (ev == NULL)
            continue;
          int64_t t = json_integer_value (json_object_get (ev, "timeNano"));
          bool go = true;
          if (t > until)
            *past_until = true;
          else if (t >= since)
            go = fn (ev, data);
          json_decref (ev);
          if (!go || *past_until)
            return false;
        }
      size_t left = r->part.len - (size_t)(start - r->part.buf);
      memmove (r->part.buf, start, left);
      r->part.len = left;
      if (r->part.buf)
        r->part.buf[left] = '\0';
    }
  return true;
}

static volatile sig_atomic_t events_stop;

static void
on_events_signal (int sig)
{
  (void)sig;
  events_stop = 1;
}

static bool
same_file (int fd, const char *path)
{
  struct stat a, b;
  return fstat (fd, &a) == 0 && stat (path, &b) == 0 && a.st_ino == b.st_ino
         && a.st_dev == b.st_dev;
}

/* Follow r's file (in: an inotify fd on the store) until until, a signal, or fn says stop. */
static void
follow (struct reader *r, int in, const char *path, int64_t until, bool *past,
        bool (*fn) (json_t *, void *), void *data)
{
  struct sigaction sa = { .sa_handler = on_events_signal }, old_int, old_term;
  sigaction (SIGINT, &sa, &old_int);
  sigaction (SIGTERM, &sa, &old_term);
  events_stop = 0;
  while (!events_stop)
    {
      int64_t left = until == INT64_MAX ? -1 : (until - realtime_ns ()) / 1000000 + 1;
      if (until != INT64_MAX && left <= 0)
        break;
      struct pollfd p = { .fd = in, .events = POLLIN };
      int pr = poll (&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
      if (pr < 0 && errno != EINTR)
        break;
      if (pr <= 0)
        continue;
      char ibuf[4096] __attribute__ ((aligned (__alignof__(struct inotify_event))));
      while (read (in, ibuf, sizeof ibuf) > 0)
        ;
      if (r->fd >= 0 && !read_lines (r, INT64_MIN, until, past, fn, data))
        break;
      /* rotated (or made): the rest of the old file read, then the new one from its start */
      if (r->fd < 0 || !same_file (r->fd, path))
        {
          if (r->fd >= 0)
            close (r->fd);
          strbuf_free (&r->part);
          r->fd = open (path, O_RDONLY | O_CLOEXEC);
          if (r->fd >= 0 && !read_lines (r, INT64_MIN, until, past, fn, data))
            break;
        }
    }
  sigaction (SIGINT, &old_int, NULL);
  sigaction (SIGTERM, &old_term, NULL);
}

int
events_stream (const char *root, int64_t since, int64_t until, bool (*fn) (json_t *ev, void *data),
               void *data, nook_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/events.log", root);
  cleanup_free char *old = xasprintf ("%s/events.log.1", root);
  bool follows = until > realtime_ns ();
  cleanup_close int in = -1;
  if (follows)
    {
      /* watched before anything is read: nothing written meanwhile is missed */
      in = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
      if (in < 0 || inotify_add_watch (in, root, IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0)
        return nook_error_set (err, errno, "watch '%s' for events", root);
    }
  bool past = false, go = true;
  struct reader r = { .fd = -1 };
  if (since != INT64_MIN)
    {
      r.fd = open (old, O_RDONLY | O_CLOEXEC);
      if (r.fd >= 0)
        {
          go = read_lines (&r, since, until, &past, fn, data);
          close (r.fd);
          strbuf_free (&r.part);
        }
    }
  r.fd = go ? open (path, O_RDONLY | O_CLOEXEC) : -1;
  if (r.fd >= 0 && since == INT64_MIN)
    lseek (r.fd, 0, SEEK_END);
  if (go && r.fd >= 0)
    go = read_lines (&r, since, until, &past, fn, data);
  if (go && follows)
    follow (&r, in, path, until, &past, fn, data);
  if (r.fd >= 0)
    close (r.fd);
  strbuf_free (&r.part);
  return 0;
}

/* ---- nook events ---- */

struct filter
{
  char **keys, **values;
};

static const char *
attr (json_t *ev, const char *k)
{
  return json_string_value (
      json_object_get (json_object_get (json_object_get (ev, "Actor"), "Attributes"), k));
}

static bool
filter_one (json_t *ev, const char *k, const char *v)
{
  const char *type = json_string_value (json_object_get (ev, "Type"));
  const char *action = json_string_value (json_object_get (ev, "Action"));
  const char *id = json_string_value (json_object_get (json_object_get (ev, "Actor"), "ID"));
  const char *name = attr (ev, "name");
  type = type ? type : "";
  action = action ? action : "";
  id = id ? id : "";
  bool by_id_or_name = (*v && str_has_prefix (id, v)) || (name && strcmp (name, v) == 0);
  if (strcmp (k, "type") == 0)
    return strcmp (type, v) == 0;
  if (strcmp (k, "event") == 0)
    return strcmp (action, v) == 0 || (str_has_prefix (action, v) && action[strlen (v)] == ':');
  if (strcmp (k, "container") == 0)
    return strcmp (type, "container") == 0 && by_id_or_name;
  if (strcmp (k, "network") == 0)
    return strcmp (type, "network") == 0 && by_id_or_name;
  if (strcmp (k, "volume") == 0)
    return strcmp (type, "volume") == 0 && by_id_or_name;
  if (strcmp (k, "image") == 0)
    return (attr (ev, "image") && strcmp (attr (ev, "image"), v) == 0)
           || (strcmp (type, "image") == 0 && by_id_or_name);
  if (strcmp (k, "label") == 0)
    {
      const char *eq = strchr (v, '=');
      cleanup_free char *lk = eq ? xstrndup (v, (size_t)(eq - v)) : xstrdup (v);
      const char *lv = attr (ev, lk);
      return lv && (eq == NULL || strcmp (lv, eq + 1) == 0);
    }
  if (strcmp (k, "scope") == 0)
    return strcmp (v, "local") == 0;
  return false;
}

/* Docker's rule: the values of one key or'ed, the keys and'ed. */
static bool
filter_match (const struct filter *f, json_t *ev)
{
  for (size_t i = 0; f->keys && f->keys[i]; i++)
    {
      bool any = false, seen = false;
      for (size_t j = 0; f->keys[j]; j++)
        if (strcmp (f->keys[j], f->keys[i]) == 0)
          {
            seen = true;
            any = any || filter_one (ev, f->keys[j], f->values[j]);
          }
      if (seen && !any)
        return false;
    }
  return true;
}

/* Go's RFC3339Nano with nine digits always (Docker's RFC3339NanoFixed), local time. */
static void
time_fixed (int64_t ns, char *out, size_t size)
{
  time_t t = (time_t)(ns / 1000000000);
  struct tm tm;
  localtime_r (&t, &tm);
  char date[32], zone[40];
  strftime (date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  long off = tm.tm_gmtoff;
  if (off == 0)
    snprintf (zone, sizeof zone, "Z");
  else
    snprintf (zone, sizeof zone, "%c%02ld:%02ld", off < 0 ? '-' : '+', labs (off) / 3600,
              (labs (off) % 3600) / 60);
  snprintf (out, size, "%s.%09lld%s", date, (long long)(ns % 1000000000), zone);
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

struct printer
{
  struct filter f;
  struct tmpl *t;
  bool json;
};

static bool
print_event (json_t *ev, void *data)
{
  struct printer *p = data;
  if (!filter_match (&p->f, ev))
    return true;
  if (p->json)
    {
      cleanup_free char *s = json_dumps (ev, JSON_COMPACT);
      printf ("%s\n", s ? s : "{}");
    }
  else if (p->t)
    {
      struct strbuf out = { 0 };
      cleanup_error nook_error_t e = NULL;
      if (tmpl_exec (p->t, ev, false, &out, &e) == 0)
        printf ("%s\n", out.buf ? out.buf : "");
      strbuf_free (&out);
    }
  else
    {
      char when[128];
      time_fixed (json_integer_value (json_object_get (ev, "timeNano")), when, sizeof when);
      json_t *actor = json_object_get (ev, "Actor");
      printf ("%s %s %s %s", when, json_string_value (json_object_get (ev, "Type")),
              json_string_value (json_object_get (ev, "Action")),
              json_string_value (json_object_get (actor, "ID")));
      json_t *attrs = json_object_get (actor, "Attributes");
      if (json_object_size (attrs) > 0)
        {
          /* sorted, as Docker prints them */
          cleanup_strv char **keys = NULL;
          const char *k;
          json_t *v;
          json_object_foreach (attrs, k, v) strv_push (&keys, k);
          qsort (keys, strv_len (keys), sizeof *keys, cmp_str);
          printf (" (");
          for (size_t i = 0; keys[i]; i++)
            printf ("%s%s=%s", i ? ", " : "", keys[i],
                    json_string_value (json_object_get (attrs, keys[i])));
          printf (")");
        }
      printf ("\n");
    }
  fflush (stdout);
  return true;
}

static const char *const filter_keys[]
    = { "container", "event", "image", "label", "network", "type", "volume", "scope" };

static int
parse_args (int argc, char **argv, struct printer *p, const char **since, const char **until,
            const char **format, nook_error_t *err)
{
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i], *val;
      int r;
      if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        {
          printf ("Usage:  nook events [OPTIONS]\n\nGet real time events from the store\n\n"
                  "Options:\n"
                  "  -f, --filter filter   Filter output based on conditions provided\n"
                  "      --format string   json, or a Go template\n"
                  "      --since string    Show all events created since timestamp\n"
                  "      --until string    Stream events until this timestamp\n");
          return 1;
        }
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--since", "events", since, err)) != 0
          || (r = cmd_opt_value (argc, argv, &i, NULL, "--until", "events", until, err)) != 0
          || (r = cmd_opt_value (argc, argv, &i, NULL, "--format", "events", format, err)) != 0)
        {
          if (r < 0)
            return -1;
          continue;
        }
      if ((r = cmd_opt_value (argc, argv, &i, "-f", "--filter", "events", &val, err)) < 0)
        return -1;
      if (r == 0)
        return cmd_flag_error (err, "events",
                               a[0] == '-' ? "unknown flag: %s" : "accepts no arguments", a);
      const char *eq = strchr (val, '=');
      bool known = false;
      for (size_t k = 0; eq && k < ARRAY_SIZE (filter_keys); k++)
        known = known
                || (strlen (filter_keys[k]) == (size_t)(eq - val)
                    && strncmp (val, filter_keys[k], (size_t)(eq - val)) == 0);
      if (!known)
        return nook_error_set (err, 0, "invalid filter '%s'", val);
      strv_push_take (&p->f.keys, xstrndup (val, (size_t)(eq - val)));
      strv_push (&p->f.values, eq + 1);
    }
  return 0;
}

static int
events_main (struct nook_ctx *ctx, int argc, char **argv, struct printer *p, nook_error_t *err)
{
  const char *since = NULL, *until = NULL, *format = NULL;
  int r = parse_args (argc, argv, p, &since, &until, &format, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  int64_t now = realtime_ns (), s = INT64_MIN, u = INT64_MAX;
  if ((since && events_time_parse (since, now, &s, err) < 0)
      || (until && events_time_parse (until, now, &u, err) < 0))
    return -1;
  /* --until alone: the past up to it (Docker), not only what is to come */
  if (until && !since)
    s = 0;
  if (format && (strcmp (format, "json") == 0 || strcmp (format, "{{json .}}") == 0))
    p->json = true;
  else if (format && *format && (p->t = tmpl_parse (format, err)) == NULL)
    return -1;
  cleanup_free char *root = ctr_store_root (ctx->root, err);
  if (root == NULL)
    return -1;
  return events_stream (root, s, u, print_event, p, err);
}

int
cmd_events (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  struct printer p = { 0 };
  int rc = events_main (ctx, argc, argv, &p, err);
  strv_free (p.f.keys);
  strv_free (p.f.values);
  tmpl_free (p.t);
  return rc;
}
