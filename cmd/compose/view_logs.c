/* cmd/compose/view_logs.c: `nook compose logs`: the project's containers' json-file
 * logs (cmd/logread.h), each line after its container's "web-1  | " prefix (aligned
 * over the containers shown, coloured per container on a TTY as Compose does), merged
 * by time, each container's lines in order.  -f follows every running container, and
 * the project's containers that appear or start later (scale up, restart), until none
 * runs any more; "web-1 exited with code 0" when one ends.  Everything on stdout, as
 * Compose prints it. */
#include "cmd/cli.h"
#include "cmd/compose/view.h"
#include "cmd/compose/view_shape.h"
#include "cmd/logfile.h"
#include "cmd/logread.h"
#include "cmd/records.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

struct logs_opts
{
  bool follow, timestamps, no_color, no_prefix;
  int64_t tail, since, until, index;
  char **services;
};

struct lc
{
  char *id, *name, *prefix;
  int dirfd;
  struct logread *r;
  int pidfd; /* its supervisor while followed, else -1 */
  pid_t sup_pid;
  unsigned long long sup_start;
  int color;
  struct log_entry peek;
  bool has_peek, done;
};

struct logs
{
  struct view *v;
  struct logs_opts o;
  struct lc *c;
  size_t n;
  size_t width;
  bool tty;
  int cdir;         /* the store's containers/ */
  int64_t since_ns; /* when following began */
};

static void
usage (void)
{
  printf ("Usage:  nook compose logs [OPTIONS] [SERVICE...]\n\nView output from containers\n\n"
          "Options:\n"
          "  -f, --follow          Follow log output\n"
          "      --index int       index of the container if service has multiple replicas\n"
          "      --no-color        Produce monochrome output\n"
          "      --no-log-prefix   Don't print prefix in logs\n"
          "      --since string    Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or "
          "relative (e.g. 42m for 42 minutes)\n"
          "  -n, --tail string     Number of lines to show from the end of the logs for each "
          "container (default \"all\")\n"
          "  -t, --timestamps      Show timestamps\n"
          "      --until string    Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or "
          "relative (e.g. 42m for 42 minutes)\n");
}

static int
parse (int argc, char **argv, struct logs_opts *o, nook_error_t *err)
{
  int64_t now = realtime_ns ();
  o->tail = -1;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i], *v = NULL;
      int r;
      if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        {
          usage ();
          return 1;
        }
      if ((r
           = logread_opt (argc, argv, &i, "compose logs", now, &o->tail, &o->since, &o->until, err))
          != 0)
        {
          if (r < 0)
            return -1;
        }
      else if ((r = cmd_opt_value (argc, argv, &i, NULL, "--index", "compose logs", &v, err)) != 0)
        {
          cleanup_error nook_error_t e = NULL;
          if (r < 0)
            return -1;
          if (parse_int (v, 0, INT32_MAX, &o->index, "--index", &e) < 0)
            return cmd_flag_error (err, "compose logs",
                                   "invalid argument \"%s\" for \"--index\" flag", v);
        }
      else if (strcmp (a, "--follow") == 0)
        o->follow = true;
      else if (strcmp (a, "--timestamps") == 0)
        o->timestamps = true;
      else if (strcmp (a, "--no-color") == 0)
        o->no_color = true;
      else if (strcmp (a, "--no-log-prefix") == 0)
        o->no_prefix = true;
      else if (a[0] == '-' && a[1] && a[1] != '-' && strspn (a + 1, "ft") == strlen (a + 1))
        {
          o->follow |= strchr (a, 'f') != NULL;
          o->timestamps |= strchr (a, 't') != NULL;
        }
      else if (a[0] == '-')
        return cmd_flag_error (err, "compose logs", "unknown flag: %s", a);
      else
        strv_push (&o->services, a);
    }
  if (o->index > 0 && strv_len (o->services) != 1)
    return nook_error_set (err, 0, "--index requires one service to be selected");
  return 0;
}

/* Prefixes (and width) again: a container came. */
static void
set_prefixes (struct logs *L)
{
  cleanup_strv char **names = NULL;
  for (size_t i = 0; i < L->n; i++)
    strv_push (&names, L->c[i].name);
  L->width = compose_log_width (names);
  for (size_t i = 0; i < L->n; i++)
    {
      free (L->c[i].prefix);
      L->c[i].prefix = L->o.no_prefix ? xstrdup ("")
                                      : compose_log_prefix (L->c[i].name, L->width, L->c[i].color);
    }
}

static void
print_entry (struct logs *L, struct lc *c, const struct log_entry *e)
{
  char tb[40] = "";
  if (L->o.timestamps)
    log_format_time (e->ns, tb);
  const char *p = e->text, *end = e->text + e->len;
  do
    {
      const char *nl = memchr (p, '\n', (size_t)(end - p));
      size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
      if (L->o.timestamps)
        printf ("%s%s %.*s\n", c->prefix, tb, (int)len, p);
      else
        printf ("%s%.*s\n", c->prefix, (int)len, p);
      p = nl ? nl + 1 : end;
    }
  while (p < end);
}

/* Pin the supervisor of a running container (before its log is read): -1 if none. */
static int
pin_supervisor (const struct ctr *c, pid_t *pid, unsigned long long *start)
{
  if (!c->running || c->state == NULL)
    return -1;
  *pid = (pid_t)json_integer_value (json_object_get (c->state, "SupervisorPid"));
  *start = (unsigned long long)json_integer_value (json_object_get (c->state, "SupervisorStart"));
  if (*pid <= 0 || !container_process_alive (*pid, *start))
    return -1;
  return (int)syscall (SYS_pidfd_open, *pid, 0);
}

static void
add (struct logs *L, const struct ctr *c, bool follow)
{
  L->c = xreallocarray (L->c, L->n + 1, sizeof *L->c);
  struct lc *x = &L->c[L->n];
  memset (x, 0, sizeof *x);
  x->id = xstrdup (c->id);
  x->name = compose_short_name (L->v->name, compose_label (c, CL_SERVICE),
                                compose_label (c, CL_NUMBER), c->name);
  x->color = L->tty && !L->o.no_color ? (int)L->n : -1;
  x->pidfd = follow ? pin_supervisor (c, &x->sup_pid, &x->sup_start) : -1;
  x->dirfd = openat (L->cdir, c->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  x->r = x->dirfd >= 0 ? logread_open (x->dirfd, c->id, L->o.since, L->o.until, L->o.tail) : NULL;
  L->n++;
}

static bool
peek (struct lc *c)
{
  if (!c->has_peek && !c->done && c->r)
    {
      c->has_peek = logread_next (c->r, &c->peek) == 1;
      c->done = !c->has_peek;
    }
  return c->has_peek;
}

/* What is written so far, merged by time. */
static void
dump (struct logs *L)
{
  for (size_t i = 0; i < L->n; i++)
    L->c[i].done = false;
  for (;;)
    {
      struct lc *best = NULL;
      for (size_t i = 0; i < L->n; i++)
        if (peek (&L->c[i]) && (best == NULL || L->c[i].peek.ns < best->peek.ns))
          best = &L->c[i];
      if (best == NULL)
        break;
      print_entry (L, best, &best->peek);
      free (best->peek.text);
      best->has_peek = false;
    }
  fflush (stdout);
}

static bool
wanted (struct logs *L, const struct ctr *c)
{
  if (strcmp (compose_label (c, CL_PROJECT), L->v->name) != 0
      || strcmp (compose_label (c, CL_ONEOFF), "True") == 0)
    return false;
  if (L->o.services && !view_strv_has (L->o.services, compose_label (c, CL_SERVICE)))
    return false;
  return L->o.index == 0 || atoi (compose_label (c, CL_NUMBER)) == L->o.index;
}

static void ended (struct logs *L, struct lc *c);

/* New containers of the project, and known ones started again: followed. */
static void
rescan (struct logs *L)
{
  struct ctr_list l = { 0 };
  cleanup_error nook_error_t e = NULL;
  if (ctr_list_load (L->v->root, &l, &e) < 0)
    return;
  bool grew = false;
  cleanup_strv char **gone = NULL;
  for (size_t i = l.n; i-- > 0;) /* oldest first */
    {
      const struct ctr *c = &l.v[i];
      if (!wanted (L, c))
        continue;
      struct lc *known = NULL;
      for (size_t k = 0; k < L->n; k++)
        if (strcmp (L->c[k].id, c->id) == 0)
          known = &L->c[k];
      if (known == NULL)
        {
          /* started since, or made since (and maybe already ended: its lines and its
           * end are shown all the same) */
          bool fresh = c->created_ns >= L->since_ns;
          if (!c->running && !(fresh && strcmp (c->status, "created") != 0))
            continue;
          add (L, c, true);
          grew = true;
          if (L->c[L->n - 1].pidfd < 0)
            strv_push (&gone, c->id);
        }
      else if (known->pidfd < 0)
        {
          pid_t pid;
          unsigned long long start;
          int fd = pin_supervisor (c, &pid, &start);
          if (fd >= 0 && (pid != known->sup_pid || start != known->sup_start))
            {
              known->pidfd = fd;
              known->sup_pid = pid;
              known->sup_start = start;
            }
          else if (fd >= 0)
            close (fd);
        }
    }
  ctr_list_free (&l);
  if (grew)
    set_prefixes (L);
  for (size_t k = 0; k < L->n; k++)
    if (view_strv_has (gone, L->c[k].id))
      ended (L, &L->c[k]);
}

static void
ended (struct logs *L, struct lc *c)
{
  dump (L);
  struct container_state st;
  container_state_read (L->cdir, c->id, &st);
  if (c->color >= 0)
    printf ("\r\033[K\033[%sm%s exited with code %d\033[0m\n", compose_log_color (c->color),
            c->name, st.exit_code);
  else
    printf ("%s exited with code %d\n", c->name, st.exit_code);
  fflush (stdout);
  container_state_clear (&st);
  if (c->pidfd >= 0)
    close (c->pidfd);
  c->pidfd = -1;
}

static void
follow (struct logs *L)
{
  cleanup_close int in = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
  cleanup_free char *cpath = xasprintf ("%s/containers", L->v->root);
  int cwd = in >= 0 ? inotify_add_watch (in, cpath, IN_CREATE | IN_MOVED_TO) : -1;
  size_t watched = 0;
  int64_t last_scan = realtime_ns ();
  for (;;)
    {
      for (; in >= 0 && watched < L->n; watched++)
        {
          cleanup_free char *d = xasprintf ("%s/%s", cpath, L->c[watched].id);
          inotify_add_watch (in, d, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE);
        }
      size_t live = 0;
      for (size_t i = 0; i < L->n; i++)
        live += L->c[i].pidfd >= 0;
      if (live == 0)
        return;
      struct pollfd *p = xzalloc (sizeof *p * (L->n + 1));
      p[0] = (struct pollfd){ .fd = in, .events = POLLIN };
      for (size_t i = 0; i < L->n; i++)
        p[i + 1] = (struct pollfd){ .fd = L->c[i].pidfd, .events = POLLIN };
      int r = poll (p, L->n + 1, in >= 0 ? 1000 : 200);
      /* a rescan on news of containers/, and at least once a second */
      bool created = realtime_ns () - last_scan > 1000000000;
      if (r > 0 && (p[0].revents & POLLIN))
        {
          char ev[4096] __attribute__ ((aligned (__alignof__(struct inotify_event))));
          ssize_t got;
          while ((got = read (in, ev, sizeof ev)) > 0)
            for (char *q = ev; q < ev + got;)
              {
                const struct inotify_event *ie = (const struct inotify_event *)q;
                created |= ie->wd == cwd;
                q += sizeof *ie + ie->len;
              }
        }
      dump (L);
      for (size_t i = 0; i < L->n; i++)
        if (p[i + 1].fd >= 0 && (p[i + 1].revents & (POLLIN | POLLHUP)))
          ended (L, &L->c[i]);
      free (p);
      if (created)
        {
          rescan (L);
          last_scan = realtime_ns ();
        }
    }
}

int
compose_view_logs (struct view *v, int argc, char **argv, nook_error_t *err)
{
  struct logs L = { .v = v, .cdir = -1 };
  int r = parse (argc, argv, &L.o, err);
  if (r != 0)
    {
      strv_free (L.o.services);
      return r < 0 ? -1 : 0;
    }
  cleanup_strv char **services = L.o.services;
  if (view_open (v, true, services, err) < 0)
    return -1;
  json_t *svcs = v->loaded ? json_object_get (v->p.model, "services") : NULL;
  for (char **s = services; svcs && s && *s; s++)
    if (json_object_get (svcs, *s) == NULL)
      return nook_error_set (err, 0, "no such service: %s", *s);
  if (svcs && services == NULL)
    {
      /* with its files: only the services they declare */
      const char *k;
      json_t *x;
      json_object_foreach (svcs, k, x) { strv_push (&services, k); }
      L.o.services = services;
    }
  cleanup_free char *cpath = xasprintf ("%s/containers", v->root);
  L.cdir = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  L.tty = isatty (1);
  L.since_ns = realtime_ns ();
  size_t n = 0;
  cleanup_free size_t *sel = view_select (v, false, true, services, &n);
  for (size_t k = 0; k < n; k++)
    {
      const struct ctr *c = &v->l.v[sel[k]];
      if (!wanted (&L, c))
        continue;
      add (&L, c, L.o.follow);
      if (L.o.index > 0)
        break;
    }
  if (L.o.index > 0 && L.n == 0)
    r = nook_error_set (err, 0, "service \"%s\" is not running container #%d", services[0],
                        (int)L.o.index);
  else
    {
      set_prefixes (&L);
      dump (&L);
      if (L.o.follow)
        follow (&L);
    }
  for (size_t i = 0; i < L.n; i++)
    {
      logread_close (L.c[i].r);
      if (L.c[i].pidfd >= 0)
        close (L.c[i].pidfd);
      if (L.c[i].dirfd >= 0)
        close (L.c[i].dirfd);
      free (L.c[i].id);
      free (L.c[i].name);
      free (L.c[i].prefix);
      if (L.c[i].has_peek)
        free (L.c[i].peek.text);
    }
  free (L.c);
  if (L.cdir >= 0)
    close (L.cdir);
  return r;
}
