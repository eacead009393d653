/* cmd/ctrs.c: see ctrs.h. */
#include "cmd/ctrs.h"
#include "cmd/format.h"
#include "cmd/health.h"
#include "cmd/records.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *
jstr (json_t *o, const char *k)
{
  return json_string_value (json_object_get (o, k));
}

/* Seconds since the epoch from an integer or an RFC 3339 string; 0 otherwise. */
static int64_t
jtime (json_t *o, const char *k)
{
  json_t *v = json_object_get (o, k);
  if (json_is_integer (v))
    return json_integer_value (v);
  const char *s = json_string_value (v);
  struct tm tm = { 0 };
  if (s == NULL || strptime (s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
    return 0;
  time_t t = timegm (&tm);
  return t > 0 ? (int64_t)t : 0;
}

/* Is pid alive (a zombie counts as dead)?  Through a pidfd, never kill(pid, 0):
 * an exited, unreaped process stays a zombie for a while here. */
static bool
pid_alive (pid_t pid)
{
  if (pid <= 0)
    return false;
  int fd = (int)syscall (SYS_pidfd_open, pid, 0);
  if (fd < 0)
    return false;
  struct pollfd p = { .fd = fd, .events = POLLIN };
  int r = poll (&p, 1, 0);
  close (fd);
  return r == 0;
}

/* The first child of pid (/proc/PID/task/PID/children), 0 if none. */
static pid_t
first_child (pid_t pid)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
  cleanup_free char *text = NULL;
  cleanup_error nook_error_t e = NULL;
  if (fs_read_file_at (AT_FDCWD, path, 4096, &text, NULL, &e) < 0)
    return 0;
  return (pid_t)atoi (text);
}

static void
derive_state (struct ctr *c)
{
  json_t *st = c->state;
  pid_t fg = (pid_t)json_integer_value (json_object_get (c->config, "Pid"));
  unsigned long long fg_start
      = (unsigned long long)json_integer_value (json_object_get (c->config, "PidStart"));
  const char *status = jstr (st, "Status");
  c->exit_code = (int)json_integer_value (json_object_get (st, "ExitCode"));
  c->finished = jtime (st, "FinishedAt");
  c->started = jtime (st, "StartedAt");
  if (c->started == 0 && (status == NULL || strcmp (status, "created") != 0))
    c->started = c->created; /* a foreground run starts as it is created */
  if (status == NULL && st)
    {
      c->status = "exited"; /* a foreground run's end */
      return;
    }
  bool restarting = status && strcmp (status, "restarting") == 0;
  if (status == NULL || strcmp (status, "running") == 0 || strcmp (status, "paused") == 0
      || restarting)
    {
      /* running: the foreground nook is that same process, or the supervisor lives */
      bool fg_alive = fg > 0 && fg_start != 0 && container_proc_start (fg) == fg_start;
      pid_t sup = (pid_t)json_integer_value (json_object_get (st, "SupervisorPid"));
      bool alive = status == NULL ? fg_alive : (sup > 0 ? pid_alive (sup) : fg_alive);
      if (!alive)
        {
          /* found dead (its nook or supervisor killed, even before it recorded itself as
           * running): Exited (255), as Docker shows containers found dead after a crash */
          c->status = "exited";
          if (status == NULL || !json_is_integer (json_object_get (st, "ExitCode")))
            c->exit_code = 255;
          else if (status != NULL && c->exit_code == 0 && !c->finished)
            c->exit_code = 255; /* found dead: Docker's code after a crash */
          return;
        }
      c->running = true;
      c->paused = json_is_true (json_object_get (st, "Paused"))
                  || strcmp (status ? status : "", "paused") == 0;
      c->restarting = restarting && !c->paused;
      c->status = c->paused ? "paused" : c->restarting ? "restarting" : "running";
      if (fg_alive)
        c->nook_pid = fg;
      c->pid = (pid_t)json_integer_value (json_object_get (st, "Pid"));
      if (c->pid <= 0 && fg_alive)
        c->pid = first_child (fg);
      if (c->started == 0)
        c->started = c->created;
      return;
    }
  c->status = strcmp (status, "created") == 0    ? "created"
              : strcmp (status, "dead") == 0     ? "dead"
              : strcmp (status, "removing") == 0 ? "removing"
                                                 : "exited";
}

static bool
ctr_load (int cdir, const char *id, struct ctr *c)
{
  memset (c, 0, sizeof *c);
  json_t *cfg = container_read_json (cdir, id, "config.json");
  if (cfg == NULL || jstr (cfg, "Id") == NULL)
    {
      json_decref (cfg);
      return false;
    }
  c->config = cfg;
  c->id = xstrdup (jstr (cfg, "Id"));
  c->name = xstrdup (jstr (cfg, "Name") ? jstr (cfg, "Name") : "");
  c->image = xstrdup (jstr (cfg, "Image") ? jstr (cfg, "Image") : "");
  c->image_id = xstrdup (jstr (cfg, "ImageID") ? jstr (cfg, "ImageID") : "");
  struct strbuf b = { 0 };
  size_t i;
  json_t *a;
  json_array_foreach (json_object_get (cfg, "Cmd"), i, a)
  {
    if (i)
      strbuf_appendc (&b, ' ');
    strbuf_append (&b, json_string_value (a) ? json_string_value (a) : "");
  }
  c->command = strbuf_steal (&b);
  c->created = jtime (cfg, "Created");
  json_t *ns = json_object_get (cfg, "CreatedNs");
  c->created_ns = json_is_integer (ns) ? json_integer_value (ns) : c->created * 1000000000;
  c->state = container_read_json (cdir, id, "state.json");
  derive_state (c);
  c->health_status = "none";
  if (health_configured (cfg))
    {
      c->health = health_json_read (cdir, id);
      const char *hs = json_string_value (json_object_get (c->health, "Status"));
      /* started, not yet recorded by its supervisor: Docker's first state */
      c->health_status = hs ? hs : c->running ? "starting" : "none";
      if (hs == NULL && c->running)
        c->health = json_pack ("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0, "Log");
    }
  return true;
}

static void
ctr_clear (struct ctr *c)
{
  free (c->id);
  free (c->name);
  free (c->image);
  free (c->image_id);
  free (c->command);
  json_decref (c->config);
  json_decref (c->state);
  json_decref (c->health);
  memset (c, 0, sizeof *c);
}

static int
collect (int cdir, const char *name, void *arg, nook_error_t *err)
{
  struct ctr_list *l = arg;
  if (name[0] == '.')
    return 0;
  struct ctr c;
  if (!ctr_load (cdir, name, &c))
    return 0;
  l->v = xreallocarray (l->v, l->n + 1, sizeof *l->v);
  l->v[l->n++] = c;
  return 0;
}

static int
by_created (const void *a, const void *b)
{
  const struct ctr *x = a, *y = b;
  return x->created_ns < y->created_ns   ? 1
         : x->created_ns > y->created_ns ? -1
                                         : strcmp (x->id, y->id);
}

int
ctr_list_load (const char *root, struct ctr_list *l, nook_error_t *err)
{
  memset (l, 0, sizeof *l);
  cleanup_free char *cpath = xasprintf ("%s/containers", root);
  cleanup_close int cdir = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cdir < 0)
    return errno == ENOENT ? 0 : nook_error_set (err, errno, "open '%s'", cpath);
  if (fs_dir_foreach (cdir, collect, l, err) < 0)
    return -1;
  if (l->n > 1)
    qsort (l->v, l->n, sizeof *l->v, by_created);
  return 0;
}

void
ctr_list_free (struct ctr_list *l)
{
  for (size_t i = 0; i < l->n; i++)
    ctr_clear (&l->v[i]);
  free (l->v);
  memset (l, 0, sizeof *l);
}

int
ctr_find (const struct ctr_list *l, const char *key, size_t *out, nook_error_t *err)
{
  const char *k = key[0] == '/' ? key + 1 : key; /* Docker accepts "/name" */
  for (size_t i = 0; i < l->n; i++)
    if (strcmp (l->v[i].id, k) == 0 || strcmp (l->v[i].name, k) == 0)
      {
        *out = i;
        return 0;
      }
  size_t hits = 0, at = 0;
  for (size_t i = 0; i < l->n && *k; i++)
    if (str_has_prefix (l->v[i].id, k))
      hits++, at = i;
  if (hits == 1)
    {
      *out = at;
      return 0;
    }
  if (hits > 1)
    return nook_error_set (err, 0, "multiple IDs found with provided prefix: %s", key);
  return nook_error_set (err, ENOENT, "No such container: %s", key);
}

char *
ctr_store_root (const char *ctx_root, nook_error_t *err)
{
  if (ctx_root)
    return xstrdup (ctx_root);
  return imagefmt_store_default_root (err);
}

char *
ctr_status_text (const struct ctr *c, int64_t now)
{
  cleanup_free char *d = NULL;
  if (c->running && c->restarting)
    {
      d = cmd_human_since (c->finished, now);
      return xasprintf ("Restarting (%d) %s", c->exit_code, d);
    }
  if (c->running)
    {
      d = cmd_human_duration (now - (c->started ? c->started : c->created));
      if (c->paused)
        return xasprintf ("Up %s (Paused)", d);
      if (c->health && strcmp (c->health_status, "starting") == 0)
        return xasprintf ("Up %s (health: starting)", d);
      if (c->health)
        return xasprintf ("Up %s (%s)", d, c->health_status);
      return xasprintf ("Up %s", d);
    }
  if (strcmp (c->status, "exited") == 0)
    {
      if (c->finished == 0)
        return xasprintf ("Exited (%d)", c->exit_code);
      d = cmd_human_since (c->finished, now);
      return xasprintf ("Exited (%d) %s", c->exit_code, d);
    }
  if (strcmp (c->status, "created") == 0)
    return xstrdup ("Created");
  if (strcmp (c->status, "removing") == 0)
    return xstrdup ("Removal In Progress");
  return xstrdup ("Dead");
}

json_t *
ctr_labels (const struct ctr *c)
{
  static json_t *empty;
  json_t *l = json_object_get (c->config, "Labels");
  if (json_is_object (l))
    return l;
  if (empty == NULL)
    empty = json_object ();
  return empty;
}

char *
ctr_time_rfc3339 (int64_t t)
{
  if (t <= 0)
    return xstrdup ("0001-01-01T00:00:00Z");
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r (&tt, &tm);
  char buf[64];
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000000000Z", &tm);
  return xstrdup (buf);
}

/* ---- processes ---- */

struct proc_link
{
  pid_t pid, ppid;
};

static pid_t
stat_ppid (int procfd, const char *name)
{
  char path[64], buf[1024];
  snprintf (path, sizeof path, "%s/stat", name);
  cleanup_close int fd = openat (procfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  const char *p = strrchr (buf, ')');
  if (p == NULL)
    return -1;
  char state;
  int ppid;
  if (sscanf (p + 1, " %c %d", &state, &ppid) != 2)
    return -1;
  return (pid_t)ppid;
}

pid_t *
ctr_processes (const struct ctr *c, size_t *n)
{
  *n = 0;
  pid_t top = c->pid > 0 ? c->pid : c->nook_pid;
  if (!c->running || top <= 0)
    return NULL;
  cleanup_close int procfd = open ("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int dup = procfd >= 0 ? fcntl (procfd, F_DUPFD_CLOEXEC, 3) : -1;
  cleanup_dir DIR *d = dup >= 0 ? fdopendir (dup) : NULL;
  if (d == NULL)
    {
      if (dup >= 0)
        close (dup);
      return NULL;
    }
  struct proc_link *all = NULL;
  size_t nall = 0;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      if (!isdigit ((unsigned char)de->d_name[0]))
        continue;
      pid_t ppid = stat_ppid (procfd, de->d_name);
      if (ppid < 0)
        continue;
      all = xreallocarray (all, nall + 1, sizeof *all);
      all[nall++] = (struct proc_link){ (pid_t)atoi (de->d_name), ppid };
    }
  /* breadth first from the top: the container's PID 1 when known, else the
   * foreground nook (which is not itself part of the container) */
  pid_t *out = xzalloc (sizeof *out * (nall + 1));
  size_t count = 0;
  if (c->pid > 0)
    out[count++] = c->pid;
  pid_t *queue = xzalloc (sizeof *queue * (nall + 1));
  size_t qh = 0, qt = 0;
  queue[qt++] = top;
  while (qh < qt)
    {
      pid_t p = queue[qh++];
      for (size_t i = 0; i < nall; i++)
        if (all[i].ppid == p && qt < nall + 1)
          {
            queue[qt++] = all[i].pid;
            out[count++] = all[i].pid;
          }
    }
  free (queue);
  free (all);
  *n = count;
  if (count == 0)
    {
      free (out);
      return NULL;
    }
  return out;
}
