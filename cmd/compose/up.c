/* cmd/compose/up.c: see up.h.
 *
 * A project is what the store holds with Docker Compose's labels: containers named
 * PROJECT-SERVICE-N (com.docker.compose.project, .service, .container-number,
 * .config-hash, .oneoff, ...), networks and volumes labelled com.docker.compose.project.
 * Each container, network or volume is made or acted on by the verb's own function
 * (cmd_run -d, cmd_stop, cmd_network...) in a forked child of this process, so that the
 * services of one level of the dependency order start in parallel and a failure of one
 * leaves this process whole. */
#include <dirent.h>
#include <fnmatch.h>
#include <sys/inotify.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/compose/compose.h"
#include "cmd/compose/events.h"
#include "cmd/compose/model.h"
#include "cmd/compose/up.h"
#include "cmd/ctrs.h"
#include "cmd/netrec.h"
#include "cmd/store_open.h"
#include "imagefmt/store.h"
#include "sandbox/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/trace.h"
#include "util/util.h"

#define L_PROJECT "com.docker.compose.project"
#define L_SERVICE "com.docker.compose.service"
#define L_NUMBER "com.docker.compose.container-number"
#define L_HASH "com.docker.compose.config-hash"
#define L_ONEOFF "com.docker.compose.oneoff"

struct orch
{
  struct nook_ctx *ctx;
  struct compose_project *p;
  struct compose_model *m;
  char *root;
  const char *name;
};

/* ---- children ---------------------------------------------------------------------- */

struct job
{
  char **argv;       /* a nook verb's arguments (argv[0] the verb) */
  char **argv2;      /* a second verb run after the first succeeded (or NULL) */
  char **argv3;      /* and a third */
  const char *what;  /* "Container NAME" */
  const char *doing; /* "Starting" */
  const char *done;  /* "Started" */
  bool ignore_fail1; /* the first verb may fail (stop of a stopped container) */
  char ***then;      /* verbs run after those, in order, each needing the last to succeed */
  pid_t pid;
  int status;
};

static cmd_fn
verb_fn (const char *v)
{
  static const struct
  {
    const char *n;
    cmd_fn f;
  } t[] = { { "run", cmd_run },         { "create", cmd_create }, { "start", cmd_start },
            { "stop", cmd_stop },       { "kill", cmd_kill },     { "restart", cmd_restart },
            { "rm", cmd_rm },           { "pause", cmd_pause },   { "unpause", cmd_unpause },
            { "network", cmd_network }, { "volume", cmd_volume }, { "exec", cmd_exec },
            { "logs", cmd_logs },       { "rmi", cmd_rmi },       { "build", cmd_build },
            { "wait", cmd_wait },       { "image", cmd_image },   { "pull", cmd_pull },
            { "push", cmd_push },       { "cp", cmd_cp } };
  for (size_t i = 0; i < ARRAY_SIZE (t); i++)
    if (strcmp (t[i].n, v) == 0)
      return t[i].f;
  return NULL;
}

/* Run a verb in this process; its stdout to /dev/null when quiet. */
static int
call_verb (struct nook_ctx *ctx, char **argv, bool quiet)
{
  cmd_fn f = verb_fn (argv[0]);
  if (quiet)
    {
      int fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          dup2 (fd, 1);
          close (fd);
        }
    }
  nook_error_t e = NULL;
  int r = f (ctx, (int)strv_len (argv), argv, &e);
  fflush (stdout);
  if (r < 0)
    {
      cleanup_free char *t = e ? nook_error_text (e) : xstrdup ("failed");
      fprintf (stderr, "Error response from daemon: %s\n", t);
      fflush (stderr);
      r = e && e->exit ? e->exit : 1;
      nook_error_free (&e);
    }
  return r;
}

/* a: `network connect ... NET CONTAINER`: is CONTAINER (an id) already on NET (its
 * record names it)?  A stopped container has left the networks it was connected to. */
static bool
connected (struct nook_ctx *ctx, char **a)
{
  size_t n = strv_len (a);
  if (n < 4 || strcmp (a[0], "network") != 0)
    return false;
  cleanup_error nook_error_t e = NULL;
  json_t *rec = netrec_load (ctx->root, a[n - 2], &e);
  bool on = rec && json_object_get (json_object_get (rec, "Containers"), a[n - 1]);
  json_decref (rec);
  return on;
}

static pid_t
spawn_job (struct nook_ctx *ctx, struct job *j)
{
  fflush (stdout);
  fflush (stderr);
  pid_t parent = getpid ();
  pid_t pid = fork ();
  if (pid != 0)
    return pid;
  /* nothing goes on creating once the orchestrator is killed (down finds what was made) */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != parent)
    _exit (1);
  signal (SIGINT, SIG_DFL);
  int r = call_verb (ctx, j->argv, true);
  if ((r == 0 || j->ignore_fail1) && j->argv2)
    r = call_verb (ctx, j->argv2, true);
  if (r == 0 && j->argv3)
    r = call_verb (ctx, j->argv3, true);
  for (char ***t = j->then; r == 0 && t && *t; t++)
    if (!connected (ctx, *t))
      r = call_verb (ctx, *t, true);
  _exit (r & 0xff);
}

static int
wait_child (pid_t pid)
{
  int st;
  while (waitpid (pid, &st, 0) < 0)
    if (errno != EINTR)
      return 1;
  return WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
}

/* ---- progress (--progress auto|tty|plain|json|quiet, --ansi never) -------------------- */

enum progress_mode
{
  PROGRESS_AUTO,
  PROGRESS_TTY,
  PROGRESS_PLAIN,
  PROGRESS_JSON,
  PROGRESS_QUIET,
};
static enum progress_mode progress_mode;
static bool progress_no_ansi;

int
compose_orch_progress (const char *mode, const char *ansi, nook_error_t *err)
{
  static const char *const names[] = { "auto", "tty", "plain", "json", "quiet" };
  if (ansi && strcmp (ansi, "never") != 0 && strcmp (ansi, "always") != 0
      && strcmp (ansi, "auto") != 0)
    return nook_error_set (err, 0, "invalid --ansi %s: want never, always or auto", ansi);
  progress_no_ansi = ansi && strcmp (ansi, "never") == 0;
  if (mode == NULL)
    return 0;
  for (size_t i = 0; i < ARRAY_SIZE (names); i++)
    if (strcmp (mode, names[i]) == 0)
      {
        progress_mode = (enum progress_mode)i;
        return 0;
      }
  return nook_error_set (err, 0,
                         "unsupported --progress value \"%s\": want auto, tty, plain, "
                         "json or quiet",
                         mode);
}

/* The live display: a terminal on stderr (--progress tty, or auto on a terminal). */
static bool
progress_live (void)
{
  const char *term = getenv ("TERM");
  if (progress_no_ansi)
    return false;
  return progress_mode == PROGRESS_TTY
         || (progress_mode == PROGRESS_AUTO && isatty (2) && term && strcmp (term, "dumb") != 0);
}

/* One event: " WHAT  STATUS" (plain, tty), {"id":WHAT,"status":STATUS} (json). */
static void
progress (const char *what, const char *status)
{
  if (progress_mode == PROGRESS_QUIET)
    return;
  if (progress_mode == PROGRESS_JSON)
    {
      json_t *j = json_pack ("{s:b, s:s, s:s, s:s}", "dry-run", 0, "id", what, "status", status,
                             "text", status);
      char *t = j ? json_dumps (j, JSON_COMPACT) : NULL;
      if (t)
        fprintf (stderr, "%s\n", t);
      free (t);
      json_decref (j);
      return;
    }
  fprintf (stderr, " %s  %s\n", what, status);
}

/* Run jobs in parallel, progress lines on stderr (on a terminal, each job's line rewritten
 * in place when it ends); the number that failed. */
static int
run_jobs (struct orch *o, struct job *jobs, size_t n)
{
  int failed = 0;
  bool live = progress_live ();
  size_t shown = 0; /* live: the lines printed, one per job that has a doing */
  cleanup_free size_t *row = xzalloc ((n + 1) * sizeof *row);
  for (size_t i = 0; i < n; i++)
    {
      if (jobs[i].doing)
        {
          progress (jobs[i].what, jobs[i].doing);
          row[i] = ++shown;
        }
      jobs[i].pid = spawn_job (o->ctx, &jobs[i]);
    }
  fflush (stderr);
  for (size_t i = 0; i < n; i++)
    {
      jobs[i].status = jobs[i].pid < 0 ? 1 : wait_child (jobs[i].pid);
      trace_mark (jobs[i].what);
      const char *st = jobs[i].status != 0 ? "Error" : jobs[i].done;
      failed += jobs[i].status != 0;
      if (st == NULL)
        continue;
      if (live && row[i])
        {
          /* up to the job's line, rewritten, back below the last */
          size_t up = shown - row[i] + 1;
          fprintf (stderr, "\033[%zuA\r\033[2K %s  %s\r\033[%zuB", up, jobs[i].what, st, up);
          fflush (stderr);
        }
      else
        progress (jobs[i].what, st);
    }
  return failed;
}

static void
jobs_free (struct job *jobs, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      strv_free (jobs[i].argv);
      strv_free (jobs[i].argv2);
      strv_free (jobs[i].argv3);
      for (char ***t = jobs[i].then; t && *t; t++)
        strv_free (*t);
      free (jobs[i].then);
      free ((char *)jobs[i].what);
    }
  free (jobs);
}

static char **
argv_of (const char *first, ...)
{
  char **v = NULL;
  va_list ap;
  va_start (ap, first);
  for (const char *s = first; s; s = va_arg (ap, const char *))
    strv_push (&v, s);
  va_end (ap);
  return v;
}

static void
push2 (char ***a, const char *flag, const char *v)
{
  strv_push (a, flag);
  strv_push (a, v);
}

/* A batch of jobs run together (run_batch).  */
struct batch
{
  struct job *v;
  size_t n;
};

/* One more job of b: argv (owned), what (owned); the job returned for its other fields,
 * valid until the next add. */
static struct job *
add_job (struct batch *b, char **argv, char *what, const char *doing, const char *done)
{
  b->v = xrealloc (b->v, (b->n + 1) * sizeof *b->v);
  struct job *j = &b->v[b->n++];
  memset (j, 0, sizeof *j);
  j->argv = argv;
  j->what = what;
  j->doing = doing;
  j->done = done;
  return j;
}

/* Run b's jobs in parallel and free them; the number that failed. */
static int
run_batch (struct orch *o, struct batch *b)
{
  int failed = b->n ? run_jobs (o, b->v, b->n) : 0;
  jobs_free (b->v, b->n);
  b->v = NULL;
  b->n = 0;
  return failed;
}

/* One job run alone; whether it failed. */
static bool
run_one (struct orch *o, char **argv, char *what, const char *doing, const char *done)
{
  struct batch b = { 0 };
  add_job (&b, argv, what, doing, done);
  return run_batch (o, &b) > 0;
}

/* ---- the project's containers ------------------------------------------------------ */

struct pctr
{
  struct ctr *c;
  const char *service;
  int number;
  bool oneoff;
  const char *hash;
};

struct pctrs
{
  struct ctr_list l;
  struct pctr *v;
  size_t n;
};

static int
load_ctrs (struct orch *o, struct pctrs *out, nook_error_t *err)
{
  memset (out, 0, sizeof *out);
  if (ctr_list_load (o->root, &out->l, err) < 0)
    return -1;
  out->v = xzalloc ((out->l.n + 1) * sizeof *out->v);
  /* oldest first: numbers and creation order */
  for (size_t k = out->l.n; k-- > 0;)
    {
      struct ctr *c = &out->l.v[k];
      json_t *lb = ctr_labels (c);
      const char *pj = json_string_value (json_object_get (lb, L_PROJECT));
      if (pj == NULL || strcmp (pj, o->name) != 0)
        continue;
      struct pctr *pc = &out->v[out->n++];
      pc->c = c;
      pc->service = json_string_value (json_object_get (lb, L_SERVICE));
      if (pc->service == NULL)
        pc->service = "";
      const char *num = json_string_value (json_object_get (lb, L_NUMBER));
      pc->number = num ? atoi (num) : 0;
      const char *one = json_string_value (json_object_get (lb, L_ONEOFF));
      pc->oneoff = one && strcasecmp (one, "true") == 0;
      pc->hash = json_string_value (json_object_get (lb, L_HASH));
    }
  return 0;
}

static void
pctrs_free (struct pctrs *p)
{
  free (p->v);
  ctr_list_free (&p->l);
}

/* ---- dependency order -------------------------------------------------------------- */

static int
svc_index (struct compose_model *m, const char *name)
{
  for (size_t i = 0; i < m->n_services; i++)
    if (strcmp (m->services[i].name, name) == 0)
      return (int)i;
  return -1;
}

static int
depth_of (struct compose_model *m, int i, int *depth, int *state, nook_error_t *err)
{
  if (state[i] == 2)
    return depth[i];
  if (state[i] == 1)
    return nook_error_set (err, 0, "dependency cycle detected: service \"%s\" depends on itself",
                           m->services[i].name),
           -2;
  state[i] = 1;
  int d = 0;
  struct compose_service *s = &m->services[i];
  for (size_t k = 0; k < s->n_depends_on; k++)
    {
      int j = svc_index (m, s->depends_on[k].service);
      if (j < 0)
        continue;
      int dj = depth_of (m, j, depth, state, err);
      if (dj < 0)
        {
          if (dj == -2 && err && *err && state[i] == 1)
            {
              /* name the cycle's members on the way out */
              char *msg = xasprintf ("%s -> %s", (*err)->msg, s->name);
              free ((*err)->msg);
              (*err)->msg = msg;
            }
          return dj;
        }
      if (dj + 1 > d)
        d = dj + 1;
    }
  state[i] = 2;
  depth[i] = d;
  return d;
}

/* depth[i] of every service (dependencies first); -1 with *err on a cycle. */
static int *
service_depths (struct compose_model *m, int *max, nook_error_t *err)
{
  int *depth = xzalloc ((m->n_services + 1) * sizeof *depth);
  cleanup_free int *state = xzalloc ((m->n_services + 1) * sizeof *state);
  *max = 0;
  for (size_t i = 0; i < m->n_services; i++)
    {
      int d = depth_of (m, (int)i, depth, state, err);
      if (d < 0)
        {
          free (depth);
          return NULL;
        }
      if (d > *max)
        *max = d;
    }
  return depth;
}

/* The services selected: those named and their dependencies (none named: all). */
static int
select_services (struct compose_model *m, char **names, bool deps, bool *sel, nook_error_t *err)
{
  if (names == NULL || *names == NULL)
    {
      for (size_t i = 0; i < m->n_services; i++)
        sel[i] = true;
      return 0;
    }
  for (char **n = names; *n; n++)
    {
      int i = svc_index (m, *n);
      if (i < 0)
        return nook_error_set (err, 0, "no such service: %s", *n);
      sel[i] = true;
    }
  for (bool grew = deps; grew;)
    {
      grew = false;
      for (size_t i = 0; i < m->n_services; i++)
        if (sel[i])
          for (size_t k = 0; k < m->services[i].n_depends_on; k++)
            {
              int j = svc_index (m, m->services[i].depends_on[k].service);
              if (j >= 0 && !sel[j])
                sel[j] = grew = true;
            }
    }
  return 0;
}

/* ---- names ------------------------------------------------------------------------- */

static char *
ctr_name (struct orch *o, struct compose_service *s, int n)
{
  if (s->container_name)
    return xstrdup (s->container_name);
  return xasprintf ("%s-%s-%d", o->name, s->name, n);
}

static int
replicas_of (struct compose_service *s, char **scale)
{
  for (char **x = scale; x && *x; x++)
    {
      const char *eq = strchr (*x, '=');
      if (eq && (size_t)(eq - *x) == strlen (s->name) && strncmp (*x, s->name, eq - *x) == 0)
        return atoi (eq + 1);
    }
  return s->replicas >= 0 ? (int)s->replicas : 1;
}

static struct compose_network *
model_network (struct compose_model *m, const char *key)
{
  for (size_t i = 0; i < m->n_networks; i++)
    if (strcmp (m->networks[i].key, key) == 0)
      return &m->networks[i];
  return NULL;
}

static struct compose_volume *
model_volume (struct compose_model *m, const char *key)
{
  for (size_t i = 0; i < m->n_volumes; i++)
    if (strcmp (m->volumes[i].key, key) == 0)
      return &m->volumes[i];
  return NULL;
}

static struct compose_file_def *
model_filedef (struct compose_file_def *v, size_t n, const char *key)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (v[i].key, key) == 0)
      return &v[i];
  return NULL;
}

/* ---- checks before anything is created ----------------------------------------------- */

static bool
has_subids (void)
{
  /* a subordinate range in /etc/subuid for this user */
  cleanup_free char *name = NULL;
  uid_t uid = getuid ();
  FILE *f = fopen ("/etc/subuid", "re");
  if (f == NULL)
    return false;
  char line[512];
  const char *user = getenv ("USER");
  bool found = false;
  while (!found && fgets (line, sizeof line, f))
    {
      char *c = strchr (line, ':');
      if (c == NULL)
        continue;
      *c = '\0';
      char *end;
      unsigned long v = strtoul (line, &end, 10);
      found = (*end == '\0' && v == uid) || (user && strcmp (line, user) == 0);
    }
  fclose (f);
  if (!found)
    {
      /* $USER may be unset (runuser): compare names through getpwuid's view of /etc/passwd */
      FILE *pw = fopen ("/etc/passwd", "re");
      while (pw && fgets (line, sizeof line, pw))
        {
          char *c1 = strchr (line, ':');
          char *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
          if (c2 && strtoul (c2 + 1, NULL, 10) == uid)
            {
              *c1 = '\0';
              name = xstrdup (line);
              break;
            }
        }
      if (pw)
        fclose (pw);
      if (name && (f = fopen ("/etc/subuid", "re")) != NULL)
        {
          size_t nl = strlen (name);
          while (!found && fgets (line, sizeof line, f))
            found = strncmp (line, name, nl) == 0 && line[nl] == ':';
          fclose (f);
        }
    }
  return found;
}

static bool
own_id (const char *v, bool group)
{
  if (v == NULL || *v == '\0')
    return true;
  char *end;
  unsigned long n = strtoul (v, &end, 10);
  if (*end != '\0')
    return strcmp (v, "root") == 0;
  return n == 0 || n == (group ? getgid () : getuid ());
}

static int
preflight (struct orch *o, bool *sel, nook_error_t *err)
{
  int start = 1024;
  FILE *f = fopen ("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");
  if (f)
    {
      if (fscanf (f, "%d", &start) != 1)
        start = 1024;
      fclose (f);
    }
  bool sub = has_subids ();
  for (size_t i = 0; i < o->m->n_services; i++)
    {
      struct compose_service *s = &o->m->services[i];
      if (!sel[i])
        continue;
      for (size_t k = 0; k < s->n_ports; k++)
        {
          const char *pub = s->ports[k].published;
          if (pub && atoi (pub) > 0 && atoi (pub) < start)
            return nook_error_set (err, 0,
                                   "service \"%s\": port %s cannot be published by an "
                                   "unprivileged user (below net.ipv4.ip_unprivileged_port_start"
                                   "=%d): publish a higher port, e.g. \"8080:%u\"",
                                   s->name, pub, start, (unsigned)s->ports[k].target);
        }
      if (sub)
        continue;
      const char *why = NULL;
      if (s->user)
        {
          cleanup_free char *u = xstrdup (s->user);
          char *colon = strchr (u, ':');
          if (colon)
            *colon++ = '\0';
          if (!own_id (u, false) || (colon && !own_id (colon, true)))
            why = "user";
        }
      if (!why && s->group_add && *s->group_add)
        why = "group_add";
      for (size_t k = 0; !why && k < s->n_secrets; k++)
        if (!own_id (s->secrets[k].uid, false) || !own_id (s->secrets[k].gid, true))
          why = "secrets uid/gid";
      for (size_t k = 0; !why && k < s->n_configs; k++)
        if (!own_id (s->configs[k].uid, false) || !own_id (s->configs[k].gid, true))
          why = "configs uid/gid";
      if (why)
        return nook_error_set (err, 0,
                               "service \"%s\": %s: this user has no subordinate id range "
                               "(/etc/subuid, /etc/subgid): only its own id (root in the "
                               "container) can be used; ask for a range (usermod --add-subuids)",
                               s->name, why);
    }
  return 0;
}

/* ---- resources ---------------------------------------------------------------------- */

/* `KIND create` with Compose's labels (project, KIND=key, version) and the file's own. */
static char **
create_argv (struct orch *o, const char *kind, const char *key, char **labels)
{
  char **a = argv_of (kind, "create", NULL);
  cleanup_free char *l1 = xasprintf ("%s=%s", L_PROJECT, o->name);
  cleanup_free char *l2 = xasprintf ("com.docker.compose.%s=%s", kind, key);
  cleanup_free char *l3 = xasprintf ("com.docker.compose.version=%s", NOOK_COMPOSE_VERSION);
  push2 (&a, "--label", l1);
  push2 (&a, "--label", l2);
  push2 (&a, "--label", l3);
  for (char **l = labels; l && *l; l++)
    push2 (&a, "--label", *l);
  return a;
}

static int
ensure_networks (struct orch *o, bool *sel, nook_error_t *err)
{
  for (size_t i = 0; i < o->m->n_networks; i++)
    {
      struct compose_network *n = &o->m->networks[i];
      bool used = false;
      for (size_t k = 0; k < o->m->n_services && !used; k++)
        if (sel[k] && o->m->services[k].network_mode == NULL)
          for (size_t q = 0; q < o->m->services[k].n_networks; q++)
            used = used || strcmp (o->m->services[k].networks[q].name, n->key) == 0;
      if (!used)
        continue;
      cleanup_error nook_error_t e = NULL;
      json_t *rec = netrec_builtin (n->name) ? json_object () : netrec_load (o->root, n->name, &e);
      if (rec)
        {
          json_decref (rec);
          continue;
        }
      if (n->external)
        return nook_error_set (err, 0, "network %s declared as external, but could not be found",
                               n->name);
      char **a = create_argv (o, "network", n->key, n->labels);
      if (n->internal)
        strv_push (&a, "--internal");
      for (char **sn = n->subnets; sn && *sn; sn++)
        {
          strv_push (&a, "--subnet");
          strv_push (&a, *sn);
        }
      strv_push (&a, n->name);
      if (run_one (o, a, xasprintf ("Network %s", n->name), "Creating", "Created"))
        return nook_error_set (err, 0, "network %s: could not be created", n->name);
    }
  return 0;
}

static int
ensure_volumes (struct orch *o, nook_error_t *err)
{
  for (size_t i = 0; i < o->m->n_volumes; i++)
    {
      struct compose_volume *v = &o->m->volumes[i];
      cleanup_free char *dir = xasprintf ("%s/volumes/%s", o->root, v->name);
      struct stat sb;
      if (stat (dir, &sb) == 0)
        continue;
      if (v->external)
        return nook_error_set (err, 0, "external volume \"%s\" not found", v->name);
      char **a = create_argv (o, "volume", v->key, v->labels);
      strv_push (&a, v->name);
      if (run_one (o, a, xasprintf ("Volume %s", v->name), "Creating", "Created"))
        return nook_error_set (err, 0, "volume %s: could not be created", v->name);
    }
  return 0;
}

static char *
secrets_dir (struct orch *o)
{
  return xasprintf ("%s/compose/%s", o->root, o->name);
}

static int
mkdir_p (const char *path, mode_t mode)
{
  cleanup_free char *p = xstrdup (path);
  for (char *s = p + 1; *s; s++)
    if (*s == '/')
      {
        *s = '\0';
        if (mkdir (p, mode) < 0 && errno != EEXIST)
          return -1;
        *s = '/';
      }
  return mkdir (p, mode) < 0 && errno != EEXIST ? -1 : 0;
}

/* The file a secret's or config's content is copied from when its container starts (a
 * `--mount type=copy`: into a tmpfs of the container, read-only, with its uid, gid and
 * mode): a `file:` source's own file (an edit shows at the next start, not before), else
 * the content written (0600) in the project's directory of the store, never in a layer;
 * the path (new string) or NULL with *err. */
static char *
materialise (struct orch *o, const char *svc, const char *kind, struct compose_file_ref *r,
             struct compose_file_def *d, nook_error_t *err)
{
  cleanup_free char *dir = secrets_dir (o);
  cleanup_free char *sdir = xasprintf ("%s/%s/%s", dir, svc, kind);
  if (mkdir_p (sdir, 0700) < 0)
    return nook_error_set (err, errno, "mkdir %s", sdir), NULL;
  char *path = xasprintf ("%s/%s", sdir, r->source);
  cleanup_free char *content = NULL;
  size_t len = 0;
  if (d->content)
    content = xstrdup (d->content), len = strlen (d->content);
  else if (d->environment)
    {
      const char *v = json_string_value (json_object_get (o->p->environment, d->environment));
      if (v == NULL)
        v = getenv (d->environment);
      if (v == NULL)
        {
          nook_error_set (err, 0, "%s %s: environment variable %s is not set", kind, d->key,
                          d->environment);
          free (path);
          return NULL;
        }
      content = xstrdup (v), len = strlen (v);
    }
  else if (d->file)
    {
      struct stat st;
      if (stat (d->file, &st) == 0 && S_ISREG (st.st_mode))
        {
          free (path);
          return xstrdup (d->file);
        }
      FILE *f = fopen (d->file, "re");
      if (f == NULL)
        {
          nook_error_set (err, errno, "%s %s: open %s", kind, d->key, d->file);
          free (path);
          return NULL;
        }
      char buf[8192];
      size_t n;
      while ((n = fread (buf, 1, sizeof buf, f)) > 0)
        {
          content = xrealloc (content, len + n + 1);
          memcpy (content + len, buf, n);
          len += n;
        }
      fclose (f);
    }
  else
    {
      nook_error_set (err, 0, "%s %s: external %s are not supported by nook", kind, d->key, kind);
      free (path);
      return NULL;
    }
  unlink (path);
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 || fs_write_all (fd, content ? content : "", len) < 0)
    {
      nook_error_set (err, errno, "write %s", path);
      if (fd >= 0)
        close (fd);
      free (path);
      return NULL;
    }
  close (fd);
  return path;
}

/* The image's ID (sha256:...) as `image inspect` gives it, or NULL when it is not in the
 * store (pull_policy never). */
static char *
image_id (struct orch *o, const char *image)
{
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return NULL;
  char **a = argv_of ("image", "inspect", image, NULL);
  fflush (stdout);
  fflush (stderr);
  pid_t pid = fork ();
  if (pid == 0)
    {
      int fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
      dup2 (fd, 2);
      dup2 (p[1], 1);
      _exit (call_verb (o->ctx, a, false) & 0xff);
    }
  strv_free (a);
  close (p[1]);
  struct strbuf sb = { 0 };
  char buf[4096];
  ssize_t r;
  while (pid > 0 && ((r = read (p[0], buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR)))
    if (r > 0)
      strbuf_appendn (&sb, buf, (size_t)r);
  close (p[0]);
  char *id = NULL;
  if (pid > 0 && wait_child (pid) == 0 && sb.buf)
    {
      json_t *j = json_loads (sb.buf, 0, NULL);
      const char *v = json_string_value (json_object_get (json_array_get (j, 0), "Id"));
      if (v && strncmp (v, "sha256:", 7) == 0)
        id = xstrdup (v);
      json_decref (j);
    }
  free (sb.buf);
  return id;
}

/* ---- a service's run arguments ------------------------------------------------------ */

static char *
shell_quote_join (char **v)
{
  struct strbuf sb = { 0 };
  for (; v && *v; v++)
    {
      if (sb.len)
        strbuf_append (&sb, " ");
      strbuf_append (&sb, "'");
      for (const char *c = *v; *c; c++)
        if (*c == '\'')
          strbuf_append (&sb, "'\\''");
        else
          strbuf_appendn (&sb, c, 1);
      strbuf_append (&sb, "'");
    }
  return sb.buf ? sb.buf : xstrdup ("");
}

static char *
link_aliases_for (struct compose_model *m, const char *svc, char ***out)
{
  for (size_t i = 0; i < m->n_services; i++)
    for (char **l = m->services[i].links; l && *l; l++)
      {
        const char *colon = strchr (*l, ':');
        size_t n = colon ? (size_t)(colon - *l) : strlen (*l);
        if (colon && n == strlen (svc) && strncmp (*l, svc, n) == 0)
          strv_push (out, colon + 1);
      }
  return NULL;
}

struct run_extra
{
  bool oneoff;
  const char *name;
  char **env, **cmd, **publish;
  const char *user, *workdir, *entrypoint;
  bool entrypoint_set, service_ports, rm, interactive, tty, detach;
};

/* run's arguments for replica n of s (create: `create`, else `run -d`). */
static char **
service_run_argv (struct orch *o, struct compose_service *s, int n, bool create,
                  const struct run_extra *x, nook_error_t *err)
{
  char **a = NULL;
  cleanup_free char *name = x && x->name ? xstrdup (x->name) : ctr_name (o, s, n);
  strv_push (&a, create ? "create" : "run");
  if (!create && (!x || x->detach))
    strv_push (&a, "-d");
  if (x && x->rm)
    strv_push (&a, "--rm");
  if (x && x->interactive)
    strv_push (&a, "-i");
  if (x && x->tty)
    strv_push (&a, "-t");
  push2 (&a, "--name", name);
  /* labels */
  cleanup_free char *hash = compose_service_hash (s->raw);
  struct strbuf deps = { 0 };
  for (size_t k = 0; k < s->n_depends_on; k++)
    {
      static const char *const cn[]
          = { "service_started", "service_healthy", "service_completed_successfully" };
      if (deps.len)
        strbuf_append (&deps, ",");
      cleanup_free char *d
          = xasprintf ("%s:%s:%s", s->depends_on[k].service, cn[s->depends_on[k].condition],
                       s->depends_on[k].restart ? "true" : "false");
      strbuf_append (&deps, d);
    }
  struct strbuf files = { 0 };
  for (char **f = o->p->config_files; f && *f; f++)
    {
      if (files.len)
        strbuf_append (&files, ",");
      strbuf_append (&files, *f);
    }
  /* Compose's label: the image's ID (pulled by pull_images; the name under pull_policy:
   * never, the run then failing with no such image) */
  char *image_ref = s->image ? image_id (o, s->image) : NULL;
  if (image_ref == NULL && s->image)
    image_ref = xstrdup (s->image);
  char *labels[] = {
    xasprintf ("%s=%s", L_PROJECT, o->name),
    xasprintf ("%s=%s", L_SERVICE, s->name),
    xasprintf ("%s=%d", L_NUMBER, n),
    xasprintf ("%s=%s", L_HASH, hash ? hash : ""),
    xasprintf ("%s=%s", L_ONEOFF, x && x->oneoff ? "True" : "False"),
    xasprintf ("com.docker.compose.project.working_dir=%s", o->m->working_dir),
    xasprintf ("com.docker.compose.project.config_files=%s", files.buf ? files.buf : ""),
    xasprintf ("com.docker.compose.depends_on=%s", deps.buf ? deps.buf : ""),
    xasprintf ("com.docker.compose.image=%s", image_ref ? image_ref : ""),
    xasprintf ("com.docker.compose.version=%s", NOOK_COMPOSE_VERSION),
  };
  free (deps.buf);
  free (files.buf);
  free (image_ref);
  for (size_t k = 0; k < ARRAY_SIZE (labels); k++)
    {
      push2 (&a, "--label", labels[k]);
      free (labels[k]);
    }
  for (char **l = s->labels; l && *l; l++)
    push2 (&a, "--label", *l);
  /* network */
  if (s->network_mode)
    {
      if (str_has_prefix (s->network_mode, "service:"))
        {
          struct compose_service *t = compose_model_service (o->m, s->network_mode + 8);
          cleanup_free char *tn = t ? ctr_name (o, t, 1) : xstrdup (s->network_mode + 8);
          cleanup_free char *v = xasprintf ("container:%s", tn);
          push2 (&a, "--network", v);
        }
      else
        push2 (&a, "--network", s->network_mode);
    }
  else if (s->n_networks > 0)
    {
      struct compose_network *net = model_network (o->m, s->networks[0].name);
      push2 (&a, "--network", net ? net->name : s->networks[0].name);
      if (s->n_networks > 1 && x && x->oneoff)
        fprintf (stderr,
                 "WARN[0000] service \"%s\": a one-off container joins one network: %s only "
                 "(not enforced: the others)\n",
                 s->name, s->networks[0].name);
      if (!(x && x->oneoff))
        push2 (&a, "--network-alias", s->name);
      for (char **al = s->networks[0].aliases; al && *al; al++)
        push2 (&a, "--network-alias", *al);
      if (s->container_name && s->container_name[0] && !(x && x->oneoff))
        {
          cleanup_free char *cn = xasprintf ("%s-%s-%d", o->name, s->name, n);
          push2 (&a, "--network-alias", cn);
        }
      cleanup_strv char **la = NULL;
      link_aliases_for (o->m, s->name, &la);
      for (char **al = la; al && *al; al++)
        push2 (&a, "--network-alias", *al);
      if (s->networks[0].ipv4_address)
        push2 (&a, "--ip", s->networks[0].ipv4_address);
    }
  /* ports */
  bool ports = !(x && x->oneoff) || (x && x->service_ports);
  for (size_t k = 0; ports && k < s->n_ports; k++)
    {
      struct compose_port *pt = &s->ports[k];
      struct strbuf sb = { 0 };
      if (pt->host_ip && *pt->host_ip)
        {
          strbuf_append (&sb, pt->host_ip);
          strbuf_append (&sb, ":");
        }
      if (pt->published && *pt->published)
        {
          strbuf_append (&sb, pt->published);
          strbuf_append (&sb, ":");
        }
      else if (sb.len)
        strbuf_append (&sb, ":");
      cleanup_free char *t
          = xasprintf ("%u/%s", (unsigned)pt->target, pt->protocol ? pt->protocol : "tcp");
      strbuf_append (&sb, t);
      push2 (&a, "-p", sb.buf);
      free (sb.buf);
    }
  for (char **p = x ? x->publish : NULL; p && *p; p++)
    push2 (&a, "-p", *p);
  for (char **e = s->expose; e && *e; e++)
    push2 (&a, "--expose", *e);
  /* mounts */
  for (size_t k = 0; k < s->n_mounts; k++)
    {
      struct compose_mount *mt = &s->mounts[k];
      char *v = NULL;
      switch (mt->type)
        {
        case COMPOSE_MOUNT_BIND:
          if (mt->create_host_path && access (mt->source, F_OK) < 0)
            mkdir_p (mt->source, 0755);
          v = xasprintf ("type=bind,source=%s,target=%s%s", mt->source, mt->target,
                         mt->read_only ? ",readonly" : "");
          push2 (&a, "--mount", v);
          break;
        case COMPOSE_MOUNT_VOLUME:
          if (mt->source)
            {
              struct compose_volume *vol = model_volume (o->m, mt->source);
              v = xasprintf ("%s:%s%s", vol ? vol->name : mt->source, mt->target,
                             mt->read_only ? ":ro" : "");
            }
          else
            v = xstrdup (mt->target);
          push2 (&a, "-v", v);
          break;
        case COMPOSE_MOUNT_TMPFS:
          if (mt->tmpfs_size >= 0 || mt->tmpfs_mode >= 0)
            {
              struct strbuf sb = { 0 };
              strbuf_append (&sb, mt->target);
              char sep = ':';
              if (mt->tmpfs_size >= 0)
                {
                  cleanup_free char *t = xasprintf ("%csize=%lld", sep, (long long)mt->tmpfs_size);
                  strbuf_append (&sb, t);
                  sep = ',';
                }
              if (mt->tmpfs_mode >= 0)
                {
                  cleanup_free char *t = xasprintf ("%cmode=%llo", sep, (long long)mt->tmpfs_mode);
                  strbuf_append (&sb, t);
                }
              v = sb.buf;
            }
          else
            v = xstrdup (mt->target);
          push2 (&a, "--tmpfs", v);
          break;
        default:
          nook_error_set (err, 0, "service \"%s\": volume type %s is not supported by nook",
                          s->name, mt->type_name ? mt->type_name : "?");
          strv_free (a);
          return NULL;
        }
      free (v);
    }
  for (char **t = s->tmpfs; t && *t; t++)
    push2 (&a, "--tmpfs", *t);
  /* secrets and configs: copied at start into a tmpfs of the container, read-only */
  for (int kind = 0; kind < 2; kind++)
    {
      struct compose_file_ref *refs = kind == 0 ? s->secrets : s->configs;
      size_t nr = kind == 0 ? s->n_secrets : s->n_configs;
      for (size_t k = 0; k < nr; k++)
        {
          struct compose_file_def *d
              = kind == 0 ? model_filedef (o->m->secrets, o->m->n_secrets, refs[k].source)
                          : model_filedef (o->m->configs, o->m->n_configs, refs[k].source);
          if (d == NULL)
            {
              nook_error_set (err, 0, "service \"%s\" refers to undefined %s %s", s->name,
                              kind == 0 ? "secret" : "config", refs[k].source);
              strv_free (a);
              return NULL;
            }
          cleanup_free char *path
              = materialise (o, s->name, kind == 0 ? "secrets" : "configs", &refs[k], d, err);
          if (path == NULL)
            {
              strv_free (a);
              return NULL;
            }
          cleanup_free char *target
              = refs[k].target
                    ? (refs[k].target[0] == '/'
                           ? xstrdup (refs[k].target)
                           : xasprintf (kind == 0 ? "/run/secrets/%s" : "/%s", refs[k].target))
                    : xasprintf (kind == 0 ? "/run/secrets/%s" : "/%s", refs[k].source);
          const char *uid = refs[k].uid ? refs[k].uid : "0";
          const char *gid = refs[k].gid ? refs[k].gid : "0";
          if (strspn (uid, "0123456789") != strlen (uid) || !*uid
              || strspn (gid, "0123456789") != strlen (gid) || !*gid)
            {
              nook_error_set (err, 0, "service \"%s\": %s %s: uid and gid must be numbers", s->name,
                              kind == 0 ? "secret" : "config", refs[k].source);
              strv_free (a);
              return NULL;
            }
          cleanup_free char *v
              = xasprintf ("type=copy,source=%s,target=%s,uid=%s,gid=%s,mode=%04o", path, target,
                           uid, gid, refs[k].mode >= 0 ? (unsigned)refs[k].mode & 07777 : 0444u);
          push2 (&a, "--mount", v);
        }
    }
  /* environment */
  for (char **e = s->environment; e && *e; e++)
    if (strchr (*e, '='))
      push2 (&a, "-e", *e);
  for (char **e = x ? x->env : NULL; e && *e; e++)
    push2 (&a, "-e", *e);
  /* the rest */
  const char *user = x && x->user ? x->user : s->user;
  if (user)
    push2 (&a, "--user", user);
  const char *wd = x && x->workdir ? x->workdir : s->working_dir;
  if (wd)
    push2 (&a, "--workdir", wd);
  if (s->hostname)
    push2 (&a, "--hostname", s->hostname);
  if (s->domainname && *s->domainname)
    push2 (&a, "--domainname", s->domainname);
  for (char **sc = s->sysctls; sc && *sc; sc++)
    push2 (&a, "--sysctl", *sc);
  for (char **g = s->group_add; g && *g; g++)
    push2 (&a, "--group-add", *g);
  if (s->init_set && s->init)
    strv_push (&a, "--init");
  if (s->stop_signal)
    push2 (&a, "--stop-signal", s->stop_signal);
  if (s->stop_grace_period_ns >= 0)
    {
      cleanup_free char *t
          = xasprintf ("%lld", (long long)((s->stop_grace_period_ns + 999999999) / 1000000000));
      push2 (&a, "--stop-timeout", t);
    }
  if (s->restart && !(x && x->oneoff))
    push2 (&a, "--restart", s->restart);
  for (char **c = s->cap_add; c && *c; c++)
    push2 (&a, "--cap-add", *c);
  for (char **c = s->cap_drop; c && *c; c++)
    push2 (&a, "--cap-drop", *c);
  for (char **c = s->security_opt; c && *c; c++)
    push2 (&a, "--security-opt", *c);
  if (s->privileged)
    strv_push (&a, "--privileged");
  if (s->read_only)
    strv_push (&a, "--read-only");
  for (size_t k = 0; k < s->n_ulimits; k++)
    {
      cleanup_free char *t
          = xasprintf ("%s=%lld:%lld", s->ulimits[k].name, (long long)s->ulimits[k].soft,
                       (long long)s->ulimits[k].hard);
      push2 (&a, "--ulimit", t);
    }
  for (char **c = s->dns; c && *c; c++)
    push2 (&a, "--dns", *c);
  for (char **c = s->dns_search; c && *c; c++)
    push2 (&a, "--dns-search", *c);
  for (char **c = s->dns_opt; c && *c; c++)
    push2 (&a, "--dns-option", *c);
  for (char **c = s->extra_hosts; c && *c; c++)
    {
      cleanup_free char *t = xstrdup (*c);
      char *eq = strchr (t, '=');
      if (eq)
        *eq = ':';
      push2 (&a, "--add-host", t);
    }
  if (s->logging_driver)
    push2 (&a, "--log-driver", s->logging_driver);
  for (char **c = s->logging_options; c && *c; c++)
    push2 (&a, "--log-opt", *c);
  if (s->stdin_open && !x)
    strv_push (&a, "-i");
  if (s->tty && !x)
    strv_push (&a, "-t");
  /* healthcheck */
  if (s->healthcheck.set)
    {
      struct compose_healthcheck *h = &s->healthcheck;
      if (h->disable || (h->test && h->test[0] && strcmp (h->test[0], "NONE") == 0))
        strv_push (&a, "--no-healthcheck");
      else
        {
          if (h->test && h->test[0])
            {
              cleanup_free char *cmd = strcmp (h->test[0], "CMD-SHELL") == 0 && h->test[1]
                                           ? xstrdup (h->test[1])
                                           : shell_quote_join (h->test + 1);
              push2 (&a, "--health-cmd", cmd);
            }
          const struct
          {
            const char *flag;
            int64_t v;
          } d[] = { { "--health-interval", h->interval_ns },
                    { "--health-timeout", h->timeout_ns },
                    { "--health-start-period", h->start_period_ns },
                    { "--health-start-interval", h->start_interval_ns } };
          for (size_t k = 0; k < ARRAY_SIZE (d); k++)
            if (d[k].v >= 0)
              {
                cleanup_free char *t = compose_duration_format (d[k].v);
                push2 (&a, d[k].flag, t);
              }
          if (h->retries >= 0)
            {
              cleanup_free char *t = xasprintf ("%lld", (long long)h->retries);
              push2 (&a, "--health-retries", t);
            }
        }
    }
  /* entrypoint, image, command */
  char **cmd = x && x->cmd ? x->cmd : s->command;
  bool ep_set = x && x->entrypoint_set;
  char **ep = s->entrypoint;
  cleanup_strv char **rest = NULL;
  if (ep_set)
    push2 (&a, "--entrypoint", x->entrypoint);
  else if (s->entrypoint_set)
    {
      push2 (&a, "--entrypoint", ep && ep[0] ? ep[0] : "");
      for (char **e = ep && ep[0] ? ep + 1 : NULL; e && *e; e++)
        strv_push (&rest, *e);
    }
  cleanup_free char *img = s->image ? xstrdup (s->image) : xasprintf ("%s-%s", o->name, s->name);
  strv_push (&a, img);
  for (char **e = rest; e && *e; e++)
    strv_push (&a, *e);
  for (char **e = cmd; e && *e; e++)
    strv_push (&a, *e);
  return a;
}

/* ---- waiting ------------------------------------------------------------------------- */

/* `network connect` of replica n of s to its networks after the first (the first is
 * run's --network), each with its aliases and ipv4_address; id: an existing container
 * (else its name); those it is already on are left out when the job runs (a stopped
 * container has left them: started again, it joins them anew).  NULL if none. */
static char ***
service_connects (struct orch *o, struct compose_service *s, int n, const char *id)
{
  if (s->network_mode || s->n_networks < 2)
    return NULL;
  char ***v = NULL;
  size_t nv = 0;
  cleanup_free char *name = ctr_name (o, s, n);
  for (size_t k = 1; k < s->n_networks; k++)
    {
      struct compose_service_network *sn = &s->networks[k];
      struct compose_network *net = model_network (o->m, sn->name);
      const char *nn = net ? net->name : sn->name;
      char **a = argv_of ("network", "connect", NULL);
      push2 (&a, "--alias", s->name);
      for (char **al = sn->aliases; al && *al; al++)
        push2 (&a, "--alias", *al);
      if (s->container_name && s->container_name[0])
        {
          cleanup_free char *cn = xasprintf ("%s-%s-%d", o->name, s->name, n);
          push2 (&a, "--alias", cn);
        }
      if (sn->ipv4_address)
        push2 (&a, "--ip", sn->ipv4_address);
      strv_push (&a, nn);
      strv_push (&a, id ? id : name);
      v = xrealloc (v, (nv + 2) * sizeof *v);
      v[nv++] = a;
      v[nv] = NULL;
    }
  return v;
}

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waiting for containers to change: their state.json and health.json are replaced by a
 * rename in their directories (fs_write_file_at), which inotify reports at once (a
 * healthy dependency is seen as soon as its probe is recorded, not up to a polling
 * interval later).  A watch is added before the states are read again, so no change
 * falls between a read and the wait; a bounded poll stays as the safety net. */
struct change_wait
{
  int fd;     /* inotify, -1: poll only */
  int max_wd; /* the highest watch yet: a higher one is new */
};

static void
change_wait_init (struct change_wait *w, struct orch *o)
{
  w->fd = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
  w->max_wd = 0;
  cleanup_free char *dir = xasprintf ("%s/containers", o->root);
  if (w->fd >= 0)
    w->max_wd = inotify_add_watch (w->fd, dir, IN_CREATE | IN_DELETE | IN_MOVED_TO);
}

/* Watch container c's directory; whether the watch is new (then read the states again
 * before waiting: a change may have come since they were read). */
static bool
change_wait_add (struct change_wait *w, struct orch *o, const struct ctr *c)
{
  if (w->fd < 0)
    return false;
  cleanup_free char *dir = xasprintf ("%s/containers/%s", o->root, c->id);
  int wd = inotify_add_watch (w->fd, dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF);
  if (wd <= w->max_wd)
    return false;
  w->max_wd = wd;
  return true;
}

/* Until something changed (or 250 ms, or deadline_ms when sooner; -1: none). */
static void
change_wait_next (struct change_wait *w, int64_t deadline_ms)
{
  int ms = 250;
  if (deadline_ms >= 0 && deadline_ms - now_ms () < ms)
    ms = deadline_ms > now_ms () ? (int)(deadline_ms - now_ms ()) : 0;
  if (w->fd < 0)
    {
      struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
      nanosleep (&ts, NULL);
      return;
    }
  struct pollfd p = { .fd = w->fd, .events = POLLIN };
  if (poll (&p, 1, ms) > 0)
    {
      char buf[4096] __attribute__ ((aligned (__alignof__(struct inotify_event))));
      while (read (w->fd, buf, sizeof buf) > 0)
        ;
    }
}

/* The last close of an inotify instance that had watches waits for an SRCU grace period
 * in the kernel (8-17 ms measured here, on up's path between a dependency's health and
 * its dependants' start): a process of ours (a grandchild: no zombie of it left to us,
 * `compose watch` lives long) holds a copy until we have closed ours, and makes that last
 * close in its exit. */
static void
change_wait_end (struct change_wait *w)
{
  if (w->fd < 0)
    return;
  int p[2] = { -1, -1 };
  bool piped = pipe2 (p, O_CLOEXEC) == 0;
  pid_t c = piped ? fork () : -1;
  if (c == 0 && fork () != 0)
    _exit (0);
  if (c == 0)
    {
      /* nothing else of ours kept open (a lock, the caller's pipes) */
      int keep[2] = { p[0] < w->fd ? p[0] : w->fd, p[0] < w->fd ? w->fd : p[0] };
      if (keep[0] > 0)
        syscall (SYS_close_range, 0U, (unsigned)keep[0] - 1, 0U);
      if (keep[1] > keep[0] + 1)
        syscall (SYS_close_range, (unsigned)keep[0] + 1, (unsigned)keep[1] - 1, 0U);
      syscall (SYS_close_range, (unsigned)keep[1] + 1, ~0U, 0U);
      char b;
      while (read (p[0], &b, 1) < 0 && errno == EINTR)
        ;
      _exit (0);
    }
  /* (once the child has gone, the grandchild holds its copy) */
  while (c > 0 && waitpid (c, NULL, 0) < 0 && errno == EINTR)
    ;
  close (w->fd);
  if (piped)
    {
      close (p[0]);
      close (p[1]);
    }
  w->fd = -1;
}

/* Wait for service dep's containers to meet cond; 0, or -1 with *err. timeout_ms < 0:
 * none. */
static int
wait_condition (struct orch *o, const char *dep, enum compose_condition cond, int64_t timeout_ms,
                nook_error_t *err)
{
  int64_t deadline = timeout_ms >= 0 ? now_ms () + timeout_ms : -1;
  struct change_wait w;
  change_wait_init (&w, o);
  for (;;)
    {
      struct pctrs pc;
      if (load_ctrs (o, &pc, err) < 0)
        {
          change_wait_end (&w);
          return -1;
        }
      bool ok = true, any = false, fresh = false;
      int rc = 0;
      for (size_t i = 0; i < pc.n && rc == 0; i++)
        {
          struct pctr *c = &pc.v[i];
          if (c->oneoff || strcmp (c->service, dep) != 0)
            continue;
          any = true;
          fresh |= change_wait_add (&w, o, c->c);
          const char *st = c->c->status;
          if (cond == COMPOSE_SERVICE_HEALTHY)
            {
              if (strcmp (c->c->health_status, "none") == 0 && c->c->running)
                rc = nook_error_set (err, 0,
                                     "dependency failed to start: container %s has no "
                                     "healthcheck configured",
                                     c->c->name);
              else if (strcmp (c->c->health_status, "unhealthy") == 0)
                rc = nook_error_set (
                    err, 0, "dependency failed to start: container %s is unhealthy", c->c->name);
              else if (!c->c->running && strcmp (st, "created") != 0)
                rc = nook_error_set (err, 0, "dependency failed to start: container %s exited (%d)",
                                     c->c->name, c->c->exit_code);
              else if (strcmp (c->c->health_status, "healthy") != 0)
                ok = false;
            }
          else if (cond == COMPOSE_SERVICE_COMPLETED_SUCCESSFULLY)
            {
              if (c->c->running || strcmp (st, "created") == 0)
                ok = false;
              else if (c->c->exit_code != 0)
                rc = nook_error_set (err, 0, "service \"%s\" didn't complete successfully: exit %d",
                                     dep, c->c->exit_code);
            }
        }
      pctrs_free (&pc);
      if (rc < 0 || (ok && any))
        {
          change_wait_end (&w);
          return rc;
        }
      if (deadline >= 0 && now_ms () > deadline)
        {
          change_wait_end (&w);
          return nook_error_set (err, 0, "timeout waiting for service \"%s\"", dep);
        }
      if (!fresh)
        change_wait_next (&w, deadline);
    }
}

/* ---- up / create --------------------------------------------------------------------- */

struct up_opts
{
  bool detach, wait, build, force_recreate, no_recreate, remove_orphans, no_start, no_deps;
  bool abort_on_exit, always_recreate_deps, quiet_pull, no_log_prefix, timestamps, no_color;
  const char *pull;     /* --pull: always, missing, never, build (NULL: pull_policy's) */
  int64_t wait_timeout; /* seconds, -1 none */
  const char *exit_code_from;
  int timeout; /* -t for recreations, -1 default */
  char **scale;
  char **services;
  bool *rebuilt; /* services whose image was built by this up: recreated */
};

static int
image_present (struct orch *o, const char *image)
{
  char **a = argv_of ("image", "inspect", image, NULL);
  fflush (stdout);
  fflush (stderr);
  pid_t pid = fork ();
  if (pid == 0)
    {
      int fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
      dup2 (fd, 2);
      _exit (call_verb (o->ctx, a, true) & 0xff);
    }
  strv_free (a);
  return pid > 0 && wait_child (pid) == 0;
}

/* The selected services' images pulled before anything is created, in parallel, as
 * Compose's up does (so that the containers' com.docker.compose.image label is the image's
 * ID): policy (up's --pull, else the service's pull_policy, else "missing") always pulls,
 * never and build do not, the others pull an image not in the store.  A service with a
 * build section is left to build_services unless its policy is always. */
static int
pull_images (struct orch *o, bool *sel, const char *flag, bool quiet, nook_error_t *err)
{
  static const char *const known[] = { "always", "never", "missing", "if_not_present", "build" };
  if (flag)
    {
      bool ok = false;
      for (size_t k = 0; k < ARRAY_SIZE (known); k++)
        ok = ok || strcmp (flag, known[k]) == 0;
      if (!ok)
        return nook_error_set (err, 0,
                               "invalid --pull option \"%s\": want always, missing, "
                               "never or build",
                               flag);
    }
  struct batch b = { 0 };
  for (size_t i = 0; i < o->m->n_services; i++)
    {
      struct compose_service *s = &o->m->services[i];
      const char *pol = flag ? flag : s->pull_policy ? s->pull_policy : "missing";
      if (!sel[i] || s->image == NULL || strcmp (pol, "never") == 0 || strcmp (pol, "build") == 0)
        continue;
      bool always = strcmp (pol, "always") == 0;
      if ((s->build && !always) || (!always && image_present (o, s->image)))
        continue;
      add_job (&b, argv_of ("pull", s->image, NULL), xstrdup (s->name), quiet ? NULL : "Pulling",
               quiet ? NULL : "Pulled");
    }
  if (run_batch (o, &b) > 0)
    return nook_error_set (err, 0, "some service images could not be pulled");
  return 0;
}

static int
build_services (struct orch *o, bool *sel, bool force, bool *rebuilt, char **extra,
                nook_error_t *err)
{
  for (size_t i = 0; i < o->m->n_services; i++)
    {
      struct compose_service *s = &o->m->services[i];
      if (!sel[i] || s->build == NULL)
        continue;
      cleanup_free char *img
          = s->image ? xstrdup (s->image) : xasprintf ("%s-%s", o->name, s->name);
      if (!force && image_present (o, img))
        continue;
      char **a = argv_of ("build", "-t", img, NULL);
      if (s->build->dockerfile_inline)
        {
          cleanup_free char *dir = secrets_dir (o);
          cleanup_free char *df = xasprintf ("%s/%s.Dockerfile", dir, s->name);
          cleanup_close int fd = -1;
          if (mkdir_p (dir, 0700) < 0
              || (fd = open (df, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0
              || fs_write_all (fd, s->build->dockerfile_inline,
                               strlen (s->build->dockerfile_inline))
                     < 0)
            {
              strv_free (a);
              return nook_error_set (err, errno, "write %s", df);
            }
          push2 (&a, "-f", df);
        }
      else if (s->build->dockerfile)
        {
          cleanup_free char *df
              = s->build->dockerfile[0] == '/'
                    ? xstrdup (s->build->dockerfile)
                    : xasprintf ("%s/%s", s->build->context, s->build->dockerfile);
          push2 (&a, "-f", df);
        }
      if (s->build->target)
        push2 (&a, "--target", s->build->target);
      for (char **b = s->build->args; b && *b; b++)
        push2 (&a, "--build-arg", *b);
      for (char **x = extra; x && *x; x++)
        strv_push (&a, *x);
      strv_push (&a, s->build->context);
      if (run_one (o, a, xasprintf ("Image %s", img), "Building", "Built"))
        return nook_error_set (err, 0, "failed to build service \"%s\"", s->name);
      if (rebuilt)
        rebuilt[i] = true;
    }
  return 0;
}

static char **
stop_argv (const char *verb, const char *id, int timeout)
{
  char **a = argv_of (verb, NULL);
  if (timeout >= 0)
    {
      char t[16];
      snprintf (t, sizeof t, "%d", timeout);
      push2 (&a, "-t", t);
    }
  strv_push (&a, id);
  return a;
}

/* A service with `depends_on: {S: {restart: true}}` on a service of done (restarted or
 * recreated by compose), and not in done itself. */
static bool
restart_follows (struct compose_service *s, struct compose_model *m, const bool *done)
{
  for (size_t k = 0; k < s->n_depends_on; k++)
    {
      int j = svc_index (m, s->depends_on[k].service);
      if (s->depends_on[k].restart && j >= 0 && done[j])
        return true;
    }
  return false;
}

static int
converge (struct orch *o, struct up_opts *u, bool *sel, nook_error_t *err)
{
  int maxd;
  cleanup_free int *depth = service_depths (o->m, &maxd, err);
  if (depth == NULL)
    return -1;
  struct pctrs pc;
  if (load_ctrs (o, &pc, err) < 0)
    return -1;
  /* orphans */
  for (size_t i = 0; i < pc.n; i++)
    if (!pc.v[i].oneoff && svc_index (o->m, pc.v[i].service) < 0)
      {
        if (u->remove_orphans)
          run_one (o, argv_of ("rm", "-f", pc.v[i].c->id, NULL),
                   xasprintf ("Container %s", pc.v[i].c->name), "Removing", "Removed");
        else
          fprintf (stderr,
                   "WARN[0000] Found orphan containers ([%s]) for this project. If you removed "
                   "or renamed this service in your compose file, you can run this command with "
                   "the --remove-orphans flag to clean it up.\n",
                   pc.v[i].c->name);
      }
  int rc = 0;
  /* the services recreated (their dependents with restart: true are restarted) */
  cleanup_free bool *recreated = xzalloc ((o->m->n_services + 1) * sizeof *recreated);
  for (int level = 0; level <= maxd && rc == 0; level++)
    {
      /* dependencies of this level's services met first */
      for (size_t i = 0; i < o->m->n_services && rc == 0; i++)
        {
          struct compose_service *s = &o->m->services[i];
          if (!sel[i] || depth[i] != level || u->no_start)
            continue;
          for (size_t k = 0; k < s->n_depends_on && rc == 0; k++)
            {
              struct compose_dependency *d = &s->depends_on[k];
              int j = svc_index (o->m, d->service);
              if (j < 0 || !sel[j] || d->condition == COMPOSE_SERVICE_STARTED)
                continue;
              const char *cname = d->condition == COMPOSE_SERVICE_HEALTHY ? "Healthy" : "Exited";
              cleanup_free char *dn = ctr_name (o, &o->m->services[j], 1);
              cleanup_free char *what = xasprintf ("Container %s", dn);
              progress (what, "Waiting");
              trace_mark ("waiting");
              if (wait_condition (o, d->service, d->condition, -1, err) < 0)
                {
                  if (!d->required)
                    {
                      nook_error_free (err);
                      continue;
                    }
                  rc = -1;
                  break;
                }
              progress (what, cname);
              trace_mark ("waited");
            }
        }
      if (rc < 0)
        break;
      struct batch b = { 0 };
      for (size_t i = 0; i < o->m->n_services && rc == 0; i++)
        {
          struct compose_service *s = &o->m->services[i];
          if (!sel[i] || depth[i] != level)
            continue;
          int want = replicas_of (s, u->scale);
          cleanup_free char *hash = compose_service_hash (s->raw);
          for (size_t k = 0; k < pc.n; k++)
            {
              struct pctr *c = &pc.v[k];
              if (c->oneoff || strcmp (c->service, s->name) != 0 || c->number <= want)
                continue;
              struct job *j
                  = add_job (&b, stop_argv ("stop", c->c->id, u->timeout),
                             xasprintf ("Container %s", c->c->name), "Stopping", "Removed");
              j->argv2 = argv_of ("rm", "-f", c->c->id, NULL);
              j->ignore_fail1 = true;
            }
          for (int n = 1; n <= want; n++)
            {
              struct pctr *have = NULL;
              for (size_t k = 0; k < pc.n; k++)
                if (!pc.v[k].oneoff && strcmp (pc.v[k].service, s->name) == 0
                    && pc.v[k].number == n)
                  have = &pc.v[k];
              cleanup_free char *name = ctr_name (o, s, n);
              bool same = have && have->hash && hash && strcmp (have->hash, hash) == 0
                          && !(u->rebuilt && u->rebuilt[i]);
              if (have && (u->no_recreate || (same && !u->force_recreate)))
                {
                  if (have->c->running && !u->no_start && restart_follows (s, o->m, recreated))
                    {
                      add_job (&b, stop_argv ("restart", have->c->id, u->timeout),
                               xasprintf ("Container %s", name), "Restarting", "Started")
                          ->then
                          = service_connects (o, s, n, have->c->id);
                    }
                  else if (have->c->running || u->no_start)
                    {
                      cleanup_free char *what = xasprintf ("Container %s", name);
                      progress (what, have->c->running ? "Running" : "Created");
                    }
                  else
                    {
                      add_job (&b, argv_of ("start", have->c->id, NULL),
                               xasprintf ("Container %s", name), "Starting", "Started")
                          ->then
                          = service_connects (o, s, n, have->c->id);
                    }
                  continue;
                }
              char **ra = service_run_argv (o, s, n, u->no_start, NULL, err);
              if (ra == NULL)
                {
                  rc = -1;
                  break;
                }
              if (have)
                recreated[i] = true;
              struct job *j;
              if (have)
                {
                  j = add_job (&b, stop_argv ("stop", have->c->id, u->timeout),
                               xasprintf ("Container %s", name), "Recreate",
                               u->no_start ? "Recreated" : "Started");
                  j->argv2 = argv_of ("rm", "-f", have->c->id, NULL);
                  j->argv3 = ra;
                  j->ignore_fail1 = true;
                }
              else
                j = add_job (&b, ra, xasprintf ("Container %s", name),
                             u->no_start ? "Creating" : "Starting",
                             u->no_start ? "Created" : "Started");
              if (!u->no_start)
                j->then = service_connects (o, s, n, NULL);
            }
        }
      if (rc < 0)
        jobs_free (b.v, b.n);
      else if (run_batch (o, &b) > 0)
        rc = nook_error_set (err, 0, "some containers of the project could not be started");
    }
  pctrs_free (&pc);
  return rc;
}

/* --wait: every selected service's containers running (healthy when they have a
 * healthcheck); a container that completed successfully is fine when a dependant
 * waits for that. */
static int
wait_all (struct orch *o, bool *sel, int64_t timeout_s, nook_error_t *err)
{
  int64_t deadline = timeout_s >= 0 ? now_ms () + timeout_s * 1000 : -1;
  struct change_wait w;
  change_wait_init (&w, o);
  for (;;)
    {
      struct pctrs pc;
      if (load_ctrs (o, &pc, err) < 0)
        {
          change_wait_end (&w);
          return -1;
        }
      bool ok = true, fresh = false;
      int rc = 0;
      for (size_t i = 0; i < pc.n && rc == 0; i++)
        {
          struct pctr *c = &pc.v[i];
          int si = svc_index (o->m, c->service);
          if (c->oneoff || si < 0 || !sel[si])
            continue;
          fresh |= change_wait_add (&w, o, c->c);
          bool completion_wanted = false;
          for (size_t k = 0; k < o->m->n_services; k++)
            for (size_t q = 0; q < o->m->services[k].n_depends_on; q++)
              completion_wanted
                  = completion_wanted
                    || (strcmp (o->m->services[k].depends_on[q].service, c->service) == 0
                        && o->m->services[k].depends_on[q].condition
                               == COMPOSE_SERVICE_COMPLETED_SUCCESSFULLY);
          if (!c->c->running)
            {
              if (completion_wanted && c->c->exit_code == 0)
                continue;
              rc = nook_error_set (err, 0, "container %s exited (%d)", c->c->name, c->c->exit_code);
            }
          else if (strcmp (c->c->health_status, "unhealthy") == 0)
            rc = nook_error_set (err, 0, "container %s is unhealthy", c->c->name);
          else if (strcmp (c->c->health_status, "starting") == 0 || c->c->restarting)
            ok = false;
        }
      pctrs_free (&pc);
      if (rc < 0 || ok)
        {
          change_wait_end (&w);
          return rc;
        }
      if (deadline >= 0 && now_ms () > deadline)
        {
          change_wait_end (&w);
          return nook_error_set (err, 0, "timeout waiting for the project's containers");
        }
      if (!fresh)
        change_wait_next (&w, deadline);
    }
}

/* ---- foreground: prefixed output ----------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void
on_sigint (int sig)
{
  (void)sig;
  interrupted++;
}

struct stream
{
  int fd;
  pid_t pid;
  char *name, *id, *service;
  struct strbuf line;
  bool open;
};

static void
emit_line (struct stream *s, int width, int colour, bool tty, const char *text, size_t n)
{
  if (tty)
    printf ("\033[%dm%-*s |\033[0m %.*s\n", 31 + colour % 6, width, s->name, (int)n, text);
  else
    printf ("%-*s  | %.*s\n", width, s->name, (int)n, text);
  fflush (stdout);
}

static void stop_selected (struct orch *o, bool *sel, const char *verb);

static int
exit_code_of (struct orch *o, const char *id)
{
  struct ctr_list l;
  cleanup_error nook_error_t e = NULL;
  if (ctr_list_load (o->root, &l, &e) < 0)
    return 1;
  size_t at;
  int code = 1;
  if (ctr_find (&l, id, &at, &e) == 0)
    code = l.v[at].exit_code;
  ctr_list_free (&l);
  return code;
}

static int
attach_all (struct orch *o, struct up_opts *u, bool *sel, nook_error_t *err)
{
  struct pctrs pc;
  if (load_ctrs (o, &pc, err) < 0)
    return -1;
  struct stream *st = xzalloc ((pc.n + 1) * sizeof *st);
  size_t n = 0;
  int width = 0;
  for (size_t i = 0; i < pc.n; i++)
    {
      int si = svc_index (o->m, pc.v[i].service);
      if (pc.v[i].oneoff || si < 0 || !sel[si])
        continue;
      struct stream *s = &st[n++];
      s->name = xstrdup (pc.v[i].c->name);
      s->id = xstrdup (pc.v[i].c->id);
      s->service = xstrdup (pc.v[i].service);
      if ((int)strlen (s->name) > width)
        width = (int)strlen (s->name);
    }
  pctrs_free (&pc);
  bool tty = isatty (1) && !u->no_color;
  struct sigaction sa = { .sa_handler = on_sigint };
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  fprintf (stderr, "Attaching to %s", n ? st[0].name : "");
  for (size_t i = 1; i < n; i++)
    fprintf (stderr, ", %s", st[i].name);
  fprintf (stderr, "\n");
  for (size_t i = 0; i < n; i++)
    {
      int p[2];
      if (pipe2 (p, O_CLOEXEC) < 0)
        continue;
      fflush (stdout);
      fflush (stderr);
      pid_t pid = fork ();
      if (pid == 0)
        {
          signal (SIGINT, SIG_IGN);
          signal (SIGTERM, SIG_DFL);
          dup2 (p[1], 1);
          dup2 (p[1], 2);
          char **a = argv_of ("logs", "-f", st[i].id, NULL);
          _exit (call_verb (o->ctx, a, false) & 0xff);
        }
      close (p[1]);
      st[i].fd = p[0];
      st[i].pid = pid;
      st[i].open = pid > 0;
    }
  int rc = 0;
  bool stopping = false, killed = false;
  const char *code_from = u->exit_code_from;
  int open_n = 0;
  for (size_t i = 0; i < n; i++)
    open_n += st[i].open;
  while (open_n > 0)
    {
      if (interrupted && !stopping)
        {
          stopping = true;
          fprintf (stderr, "Gracefully stopping... (press Ctrl+C again to force)\n");
          stop_selected (o, sel, "stop");
        }
      if (interrupted > 1 && !killed)
        {
          killed = true;
          stop_selected (o, sel, "kill");
        }
      struct pollfd *pf = xzalloc (n * sizeof *pf);
      for (size_t i = 0; i < n; i++)
        {
          pf[i].fd = st[i].open ? st[i].fd : -1;
          pf[i].events = POLLIN;
        }
      int r = poll (pf, n, 200);
      for (size_t i = 0; r > 0 && i < n; i++)
        {
          if (!st[i].open || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
          char buf[8192];
          ssize_t got = read (st[i].fd, buf, sizeof buf);
          if (got > 0)
            {
              strbuf_appendn (&st[i].line, buf, (size_t)got);
              char *start = st[i].line.buf, *nl;
              while ((nl = memchr (start, '\n', st[i].line.len - (size_t)(start - st[i].line.buf))))
                {
                  emit_line (&st[i], width, (int)i, tty, start, (size_t)(nl - start));
                  start = nl + 1;
                }
              size_t rest = st[i].line.len - (size_t)(start - st[i].line.buf);
              memmove (st[i].line.buf, start, rest);
              st[i].line.len = rest;
              continue;
            }
          if (got < 0 && errno == EINTR)
            continue;
          if (st[i].line.len)
            emit_line (&st[i], width, (int)i, tty, st[i].line.buf, st[i].line.len);
          close (st[i].fd);
          st[i].open = false;
          open_n--;
          wait_child (st[i].pid);
          int code = exit_code_of (o, st[i].id);
          fprintf (stdout, "%s exited with code %d\n", st[i].name, code);
          fflush (stdout);
          if (code_from && strcmp (st[i].service, code_from) == 0)
            rc = code;
          if (u->abort_on_exit && !stopping)
            {
              stopping = true;
              fprintf (stderr, "Aborting on container exit...\n");
              if (!code_from)
                rc = code;
              stop_selected (o, sel, "stop");
            }
        }
      free (pf);
    }
  for (size_t i = 0; i < n; i++)
    {
      free (st[i].name);
      free (st[i].id);
      free (st[i].service);
      free (st[i].line.buf);
    }
  free (st);
  signal (SIGINT, SIG_DFL);
  signal (SIGTERM, SIG_DFL);
  return rc;
}

/* A switch (a flag without a value) of a verb: its short and long names (either may be
 * NULL), the fields it sets (NULL: accepted and without effect here, as those of Compose's
 * flags that nook has no use for). */
struct switch_flag
{
  const char *s, *l;
  bool *to, *also;
};

/* Is a one of the n switches of t (its fields then set)? */
static bool
switch_set (const char *a, const struct switch_flag *t, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if ((t[i].s && strcmp (a, t[i].s) == 0) || (t[i].l && strcmp (a, t[i].l) == 0))
      {
        if (t[i].to)
          *t[i].to = true;
        if (t[i].also)
          *t[i].also = true;
        return true;
      }
  return false;
}

static int
parse_timeout (const char *v, int *out, nook_error_t *err)
{
  int64_t t;
  if (parse_int (v, -1, 86400, &t, "--timeout", err) < 0)
    return -1;
  *out = (int)t;
  return 0;
}

static int
do_up (struct orch *o, int argc, char **argv, bool create_only, nook_error_t *err)
{
  struct up_opts u = { .wait_timeout = -1, .timeout = -1, .no_start = create_only };
  cleanup_strv char **services = NULL, **scale = NULL;
  const char *verb = create_only ? "compose create" : "compose up";
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i], *val = NULL;
      int r;
      if (a[0] != '-')
        {
          strv_push (&services, a);
          continue;
        }
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--scale", verb, &val, err)) < 0)
        return -1;
      if (r)
        {
          if (strchr (val, '=') == NULL)
            return nook_error_set (err, 0, "invalid --scale %s: want SERVICE=NUM", val);
          strv_push (&scale, val);
          continue;
        }
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--wait-timeout", verb, &val, err)) < 0)
        return -1;
      if (r)
        {
          if (parse_int (val, 0, 86400 * 365, &u.wait_timeout, "--wait-timeout", err) < 0)
            return -1;
          continue;
        }
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--exit-code-from", verb, &val, err)) < 0)
        return -1;
      if (r)
        {
          u.exit_code_from = val;
          u.abort_on_exit = true;
          continue;
        }
      if ((r = cmd_opt_value (argc, argv, &i, "-t", "--timeout", verb, &val, err)) < 0)
        return -1;
      if (r)
        {
          if (parse_timeout (val, &u.timeout, err) < 0)
            return -1;
          continue;
        }
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--pull", verb, &val, err)) < 0)
        return -1;
      if (r)
        {
          u.pull = val;
          continue;
        }
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--attach", verb, &val, err)) < 0
          || (r == 0
              && (r = cmd_opt_value (argc, argv, &i, NULL, "--no-attach", verb, &val, err)) < 0))
        return -1;
      if (r)
        continue;
      const struct switch_flag sw[] = {
        { "-d", "--detach", &u.detach, NULL },
        { NULL, "--wait", &u.wait, &u.detach },
        { NULL, "--build", &u.build, NULL },
        { NULL, "--no-build", NULL, NULL },
        { NULL, "--force-recreate", &u.force_recreate, NULL },
        { NULL, "--no-recreate", &u.no_recreate, NULL },
        { NULL, "--remove-orphans", &u.remove_orphans, NULL },
        { NULL, "--no-start", &u.no_start, NULL },
        { NULL, "--no-deps", &u.no_deps, NULL },
        { NULL, "--abort-on-container-exit", &u.abort_on_exit, NULL },
        { NULL, "--always-recreate-deps", &u.always_recreate_deps, NULL },
        { NULL, "--quiet-pull", &u.quiet_pull, NULL },
        { NULL, "--no-color", &u.no_color, NULL },
        { NULL, "--no-log-prefix", NULL, NULL },
        { NULL, "--timestamps", NULL, NULL },
        { "-y", NULL, NULL, NULL },
        { "-V", "--renew-anon-volumes", NULL, NULL },
      };
      if (switch_set (a, sw, ARRAY_SIZE (sw)))
        ;
      else if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        {
          printf ("Usage:  nook compose %s [OPTIONS] [SERVICE...]\n\n"
                  "Create and start containers\n\n"
                  "Options:\n"
                  "  -d, --detach                  Detached mode: Run containers in the "
                  "background\n"
                  "      --wait                    Wait for services to be running|healthy. "
                  "Implies detached mode.\n"
                  "      --wait-timeout int        Maximum duration in seconds to wait\n"
                  "      --build                   Build images before starting containers\n"
                  "      --force-recreate          Recreate containers even if their "
                  "configuration hasn't changed\n"
                  "      --no-recreate             If containers already exist, don't recreate "
                  "them\n"
                  "      --remove-orphans          Remove containers for services not defined "
                  "in the Compose file\n"
                  "      --scale scale             Scale SERVICE to NUM instances\n"
                  "      --abort-on-container-exit Stops all containers if any container was "
                  "stopped\n"
                  "      --exit-code-from string   Return the exit code of the selected service "
                  "container\n"
                  "      --no-deps                 Don't start linked services\n"
                  "  -t, --timeout int             Shutdown timeout in seconds\n",
                  create_only ? "create" : "up");
          return 0;
        }
      else
        return cmd_flag_error (err, verb, "unknown flag: %s", a);
    }
  if (u.detach && u.abort_on_exit)
    return nook_error_set (err, 0, "--abort-on-container-exit and --detach are incompatible");
  if (u.force_recreate && u.no_recreate)
    return nook_error_set (err, 0, "--force-recreate and --no-recreate are incompatible");
  if (u.exit_code_from && svc_index (o->m, u.exit_code_from) < 0)
    return nook_error_set (err, 0, "no such service: %s", u.exit_code_from);
  for (char **s = scale; s && *s; s++)
    {
      cleanup_free char *sv = xstrndup (*s, (size_t)(strchr (*s, '=') - *s));
      if (svc_index (o->m, sv) < 0)
        return nook_error_set (err, 0, "no such service: %s", sv);
    }
  u.scale = scale;
  for (size_t i = 0; i < o->m->n_services; i++)
    if (o->m->services[i].container_name && replicas_of (&o->m->services[i], scale) > 1)
      return nook_error_set (err, 0,
                             "services.%s: can't set container_name and %s as container name "
                             "must be unique: invalid compose project",
                             o->m->services[i].name, o->m->services[i].name);
  cleanup_free bool *rebuilt = xzalloc ((o->m->n_services + 1) * sizeof *rebuilt);
  u.rebuilt = rebuilt;
  cleanup_free bool *sel = xzalloc ((o->m->n_services + 1) * sizeof *sel);
  if (select_services (o->m, services, !u.no_deps, sel, err) < 0)
    return -1;
  int maxd;
  cleanup_free int *depth = service_depths (o->m, &maxd, err);
  if (depth == NULL)
    return -1;
  if (preflight (o, sel, err) < 0)
    return -1;
  if (pull_images (o, sel, u.pull, u.quiet_pull, err) < 0
      || build_services (o, sel, u.build, u.rebuilt, NULL, err) < 0)
    return -1;
  if (ensure_networks (o, sel, err) < 0 || ensure_volumes (o, err) < 0)
    return -1;
  if (converge (o, &u, sel, err) < 0)
    return -1;
  if (u.no_start)
    return 0;
  if (u.wait)
    {
      if (wait_all (o, sel, u.wait_timeout, err) < 0)
        return -1;
      return 0;
    }
  if (u.detach)
    return 0;
  return attach_all (o, &u, sel, err);
}

/* ---- down ---------------------------------------------------------------------------- */

static int
for_labelled_volumes (struct orch *o, char ***names)
{
  cleanup_free char *dir = xasprintf ("%s/volumes", o->root);
  DIR *d = opendir (dir);
  if (d == NULL)
    return 0;
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (de->d_name[0] == '.')
        continue;
      cleanup_free char *meta = xasprintf ("%s/%s/volume.json", dir, de->d_name);
      json_auto_t *j = json_load_file (meta, 0, NULL);
      const char *pj
          = json_string_value (json_object_get (json_object_get (j, "Labels"), L_PROJECT));
      if (pj && strcmp (pj, o->name) == 0)
        strv_push (names, de->d_name);
    }
  closedir (d);
  return 0;
}

static void
rm_rf (const char *path)
{
  DIR *d = opendir (path);
  if (d)
    {
      struct dirent *de;
      while ((de = readdir (d)))
        {
          if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
            continue;
          cleanup_free char *p = xasprintf ("%s/%s", path, de->d_name);
          struct stat sb;
          if (lstat (p, &sb) == 0 && S_ISDIR (sb.st_mode))
            rm_rf (p);
          else
            unlink (p);
        }
      closedir (d);
    }
  rmdir (path);
}

/* Stop (then remove when rm) containers sel of the project in reverse dependency order,
 * each level in parallel; oneoff too when `oneoff`. */
static int
stop_containers (struct orch *o, struct pctrs *pc, bool *pick, bool rm, bool volumes, int timeout,
                 const char *verb)
{
  int maxd = 0;
  nook_error_t e = NULL;
  cleanup_free int *depth = service_depths (o->m, &maxd, &e);
  nook_error_free (&e);
  int failed = 0;
  for (int level = maxd + 1; level >= -1; level--)
    {
      struct batch b = { 0 };
      for (size_t i = 0; i < pc->n; i++)
        {
          if (!pick[i])
            continue;
          int si = svc_index (o->m, pc->v[i].service);
          int lv = si < 0 ? maxd + 1 : depth ? depth[si] : 0;
          if (pc->v[i].oneoff)
            lv = maxd + 1;
          if (lv != level)
            continue;
          struct pctr *c = &pc->v[i];
          char **a = NULL;
          if (strcmp (verb, "stop") == 0 || rm)
            a = stop_argv ("stop", c->c->id, timeout);
          else
            a = argv_of (verb, c->c->id, NULL);
          char **a2 = rm ? argv_of ("rm", "-f", volumes ? "-v" : c->c->id,
                                    volumes ? c->c->id : NULL, NULL)
                         : NULL;
          bool running = c->c->running;
          struct job *j = add_job (&b, running || !rm ? a : (strv_free (a), a2),
                                   xasprintf ("Container %s", c->c->name), rm ? "Stopping" : NULL,
                                   rm                              ? "Removed"
                                   : strcmp (verb, "stop") == 0    ? "Stopped"
                                   : strcmp (verb, "kill") == 0    ? "Killed"
                                   : strcmp (verb, "pause") == 0   ? "Paused"
                                   : strcmp (verb, "unpause") == 0 ? "Unpaused"
                                   : strcmp (verb, "restart") == 0 ? "Started"
                                   : strcmp (verb, "start") == 0   ? "Started"
                                                                   : "Done");
          j->argv2 = running || !rm ? a2 : NULL;
          j->ignore_fail1 = rm;
          if (si >= 0 && !c->oneoff && strcmp (verb, "restart") == 0)
            j->then = service_connects (o, &o->m->services[si], c->number, c->c->id);
        }
      failed += run_batch (o, &b);
    }
  return failed;
}

/* The running containers of the services sel stopped (or killed) in reverse dependency
 * order. */
static void
stop_selected (struct orch *o, bool *sel, const char *verb)
{
  struct pctrs pc;
  cleanup_error nook_error_t e = NULL;
  if (load_ctrs (o, &pc, &e) < 0)
    return;
  cleanup_free bool *pick = xzalloc ((pc.n + 1) * sizeof *pick);
  for (size_t i = 0; i < pc.n; i++)
    {
      int si = svc_index (o->m, pc.v[i].service);
      pick[i] = !pc.v[i].oneoff && si >= 0 && sel[si] && pc.v[i].c->running;
    }
  stop_containers (o, &pc, pick, false, false, -1, verb);
  pctrs_free (&pc);
}

static int
do_down (struct orch *o, int argc, char **argv, nook_error_t *err)
{
  bool volumes = false, orphans = false;
  const char *rmi = NULL;
  int timeout = -1;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i], *val = NULL;
      int r;
      if ((r = cmd_opt_value (argc, argv, &i, "-t", "--timeout", "compose down", &val, err)) < 0)
        return -1;
      if (r)
        {
          if (parse_timeout (val, &timeout, err) < 0)
            return -1;
          continue;
        }
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--rmi", "compose down", &val, err)) < 0)
        return -1;
      if (r)
        {
          if (strcmp (val, "local") != 0 && strcmp (val, "all") != 0)
            return nook_error_set (err, 0, "invalid --rmi %s: want local or all", val);
          rmi = val;
          continue;
        }
      const struct switch_flag sw[] = {
        { "-v", "--volumes", &volumes, NULL },
        { NULL, "--remove-orphans", &orphans, NULL },
      };
      if (switch_set (a, sw, ARRAY_SIZE (sw)))
        ;
      else if (a[0] == '-')
        return cmd_flag_error (err, "compose down", "unknown flag: %s", a);
      else
        return nook_error_set (err, 0, "compose down takes no service name (%s)", a);
    }
  if (o->m->n_services == 0)
    orphans = true; /* no file (-p NAME down): everything of the project */
  struct pctrs pc;
  if (load_ctrs (o, &pc, err) < 0)
    return -1;
  cleanup_free bool *pick = xzalloc ((pc.n + 1) * sizeof *pick);
  for (size_t i = 0; i < pc.n; i++)
    {
      bool known = svc_index (o->m, pc.v[i].service) >= 0;
      pick[i] = known || orphans;
      if (!known && !orphans && !pc.v[i].oneoff)
        fprintf (stderr,
                 "WARN[0000] Found orphan containers ([%s]) for this project. If you removed or "
                 "renamed this service in your compose file, you can run this command with the "
                 "--remove-orphans flag to clean it up.\n",
                 pc.v[i].c->name);
      if (pc.v[i].oneoff)
        pick[i] = true;
    }
  int failed = stop_containers (o, &pc, pick, true, volumes, timeout, "rm");
  pctrs_free (&pc);
  /* networks */
  json_auto_t *nets = netrec_list (o->root);
  size_t k;
  json_t *rec;
  struct batch b = { 0 };
  json_array_foreach (nets, k, rec)
  {
    const char *pj
        = json_string_value (json_object_get (json_object_get (rec, "Labels"), L_PROJECT));
    const char *nm = json_string_value (json_object_get (rec, "Name"));
    if (pj && nm && strcmp (pj, o->name) == 0)
      add_job (&b, argv_of ("network", "rm", nm, NULL), xasprintf ("Network %s", nm), "Removing",
               "Removed");
  }
  if (volumes)
    {
      cleanup_strv char **vols = NULL;
      for_labelled_volumes (o, &vols);
      for (char **v = vols; v && *v; v++)
        add_job (&b, argv_of ("volume", "rm", *v, NULL), xasprintf ("Volume %s", *v), "Removing",
                 "Removed");
    }
  if (rmi)
    for (size_t i = 0; i < o->m->n_services; i++)
      {
        struct compose_service *s = &o->m->services[i];
        if (s->image && strcmp (rmi, "local") == 0)
          continue;
        cleanup_free char *img
            = s->image ? xstrdup (s->image) : xasprintf ("%s-%s", o->name, s->name);
        if (!image_present (o, img))
          continue;
        add_job (&b, argv_of ("rmi", img, NULL), xasprintf ("Image %s", img), "Removing",
                 "Removed");
      }
  failed += run_batch (o, &b);
  cleanup_free char *sd = secrets_dir (o);
  rm_rf (sd);
  if (failed)
    return nook_error_set (err, 0, "some of the project's resources could not be removed");
  return 0;
}

/* ---- start, stop, restart, kill, pause, unpause, rm ----------------------------------- */

static int
do_simple (struct orch *o, int argc, char **argv, nook_error_t *err)
{
  const char *verb = argv[0];
  int timeout = -1;
  bool force = false, stop_first = false, vols = false;
  const char *signal_ = NULL;
  cleanup_strv char **services = NULL;
  cleanup_free char *vname = xasprintf ("compose %s", verb);
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i], *val = NULL;
      int r;
      if (a[0] != '-')
        {
          strv_push (&services, a);
          continue;
        }
      if ((strcmp (verb, "stop") == 0 || strcmp (verb, "restart") == 0)
          && (r = cmd_opt_value (argc, argv, &i, "-t", "--timeout", vname, &val, err)) != 0)
        {
          if (r < 0 || parse_timeout (val, &timeout, err) < 0)
            return -1;
          continue;
        }
      if (strcmp (verb, "kill") == 0
          && (r = cmd_opt_value (argc, argv, &i, "-s", "--signal", vname, &val, err)) != 0)
        {
          if (r < 0)
            return -1;
          signal_ = val;
          continue;
        }
      const struct switch_flag rm_sw[] = {
        { "-f", "--force", &force, NULL },
        { "-s", "--stop", &stop_first, NULL },
        { "-v", "--volumes", &vols, NULL },
      };
      const struct switch_flag all_sw[] = {
        { NULL, "--no-deps", NULL, NULL },
        { NULL, "--remove-orphans", NULL, NULL },
      };
      if (!(strcmp (verb, "rm") == 0 && switch_set (a, rm_sw, ARRAY_SIZE (rm_sw)))
          && !switch_set (a, all_sw, ARRAY_SIZE (all_sw)))
        return cmd_flag_error (err, vname, "unknown flag: %s", a);
    }
  (void)force;
  cleanup_free bool *sel = xzalloc ((o->m->n_services + 1) * sizeof *sel);
  if (select_services (o->m, services, false, sel, err) < 0)
    return -1;
  struct pctrs pc;
  if (load_ctrs (o, &pc, err) < 0)
    return -1;
  cleanup_free bool *pick = xzalloc ((pc.n + 1) * sizeof *pick);
  int failed = 0;
  for (size_t i = 0; i < pc.n; i++)
    {
      int si = svc_index (o->m, pc.v[i].service);
      pick[i] = !pc.v[i].oneoff && si >= 0 && sel[si];
      if (strcmp (verb, "rm") == 0 && pc.v[i].c->running && !stop_first)
        pick[i] = false;
      if ((strcmp (verb, "stop") == 0 || strcmp (verb, "kill") == 0 || strcmp (verb, "pause") == 0)
          && !pc.v[i].c->running)
        pick[i] = false;
    }
  if (strcmp (verb, "rm") == 0)
    {
      bool any = false;
      for (size_t i = 0; i < pc.n; i++)
        any = any || pick[i];
      if (!any)
        fprintf (stderr, "No stopped containers\n");
      failed = stop_containers (o, &pc, pick, true, vols, -1, "rm");
    }
  else if (strcmp (verb, "start") == 0)
    {
      /* in dependency order: the stop order reversed */
      int maxd;
      cleanup_free int *depth = service_depths (o->m, &maxd, err);
      if (depth == NULL)
        {
          pctrs_free (&pc);
          return -1;
        }
      for (int level = 0; level <= maxd; level++)
        {
          struct batch b = { 0 };
          for (size_t i = 0; i < pc.n; i++)
            {
              int si = svc_index (o->m, pc.v[i].service);
              if (!pick[i] || depth[si] != level || pc.v[i].c->running)
                continue;
              struct job *j
                  = add_job (&b, argv_of ("start", pc.v[i].c->id, NULL),
                             xasprintf ("Container %s", pc.v[i].c->name), "Starting", "Started");
              if (si >= 0)
                j->then = service_connects (o, &o->m->services[si], pc.v[i].number, pc.v[i].c->id);
            }
          failed += run_batch (o, &b);
        }
    }
  else if (strcmp (verb, "kill") == 0)
    {
      struct batch b = { 0 };
      for (size_t i = 0; i < pc.n; i++)
        if (pick[i])
          {
            char **a = argv_of ("kill", NULL);
            if (signal_)
              push2 (&a, "-s", signal_);
            strv_push (&a, pc.v[i].c->id);
            add_job (&b, a, xasprintf ("Container %s", pc.v[i].c->name), "Killing", "Killed");
          }
      failed = run_batch (o, &b);
    }
  else
    failed = stop_containers (o, &pc, pick, false, false, timeout, verb);
  if (strcmp (verb, "restart") == 0)
    {
      /* then the services that depend on those with restart: true (and so on) */
      cleanup_free bool *done = xzalloc ((o->m->n_services + 1) * sizeof *done);
      memcpy (done, sel, o->m->n_services * sizeof *done);
      for (bool more = true; more;)
        {
          more = false;
          cleanup_free bool *next = xzalloc ((o->m->n_services + 1) * sizeof *next);
          for (size_t i = 0; i < o->m->n_services; i++)
            if (!done[i] && restart_follows (&o->m->services[i], o->m, done))
              next[i] = more = true;
          if (!more)
            break;
          for (size_t i = 0; i < pc.n; i++)
            {
              int si = svc_index (o->m, pc.v[i].service);
              pick[i] = !pc.v[i].oneoff && si >= 0 && next[si] && pc.v[i].c->running;
            }
          failed += stop_containers (o, &pc, pick, false, false, timeout, verb);
          for (size_t i = 0; i < o->m->n_services; i++)
            done[i] = done[i] || next[i];
        }
    }
  pctrs_free (&pc);
  if (failed)
    return nook_error_set (err, 0, "%s: %d container(s) failed", verb, failed);
  return 0;
}

/* ---- run, exec, wait -------------------------------------------------------------------- */

static int
do_run (struct orch *o, int argc, char **argv, nook_error_t *err)
{
  struct run_extra x = { .oneoff = true };
  bool no_deps = false, no_tty = false, detach = false, rm = false, want_tty = false;
  cleanup_strv char **env = NULL, **publish = NULL;
  const char *name = NULL;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++)
    {
      const char *a = argv[i], *val = NULL;
      int r;
#define V(S, L)                                                                                    \
  if ((r = cmd_opt_value (argc, argv, &i, S, L, "compose run", &val, err)) < 0)                    \
    return -1;                                                                                     \
  if (r)
      V ("-e", "--env")
      {
        strv_push (&env, val);
        continue;
      }
      V ("-u", "--user")
      {
        x.user = val;
        continue;
      }
      V ("-w", "--workdir")
      {
        x.workdir = val;
        continue;
      }
      V (NULL, "--entrypoint")
      {
        x.entrypoint = val;
        x.entrypoint_set = true;
        continue;
      }
      V ("-p", "--publish")
      {
        strv_push (&publish, val);
        continue;
      }
      V (NULL, "--name")
      {
        name = val;
        continue;
      }
      V ("-l", "--label") { continue; }
      V ("-v", "--volume") { continue; }
#undef V
      const struct switch_flag sw[] = {
        { NULL, "--rm", &rm, NULL },
        { NULL, "--no-deps", &no_deps, NULL },
        { "-T", "--no-TTY", &no_tty, NULL },
        { "-t", "--tty", &want_tty, NULL },
        { "-d", "--detach", &detach, NULL },
        { NULL, "--service-ports", &x.service_ports, NULL },
        { "-i", "--interactive", NULL, NULL },
        { NULL, "--build", NULL, NULL },
        { NULL, "--quiet-pull", NULL, NULL },
        { NULL, "--remove-orphans", NULL, NULL },
        { "-P", NULL, NULL, NULL },
      };
      if (switch_set (a, sw, ARRAY_SIZE (sw)))
        ;
      else if (strcmp (a, "--") == 0)
        {
          i++;
          break;
        }
      else
        return cmd_flag_error (err, "compose run", "unknown flag: %s", a);
    }
  if (i >= argc)
    return cmd_args_error (err, "compose run", "requires at least 1 argument");
  struct compose_service *s = compose_model_service (o->m, argv[i]);
  if (s == NULL)
    return nook_error_set (err, 0, "no such service: %s", argv[i]);
  cleanup_strv char **cmd = NULL;
  for (int k = i + 1; k < argc; k++)
    strv_push (&cmd, argv[k]);
  cleanup_free bool *sel = xzalloc ((o->m->n_services + 1) * sizeof *sel);
  int si = svc_index (o->m, s->name);
  if (!no_deps)
    {
      char *one[] = { s->name, NULL };
      select_services (o->m, one, true, sel, err);
      sel[si] = false;
    }
  sel[si] = true;
  if (preflight (o, sel, err) < 0)
    return -1;
  sel[si] = false;
  struct up_opts u = { .detach = true, .wait_timeout = -1, .timeout = -1 };
  bool any = false;
  for (size_t k = 0; k < o->m->n_services; k++)
    any = any || sel[k];
  sel[si] = true;
  if (pull_images (o, sel, NULL, false, err) < 0
      || build_services (o, sel, false, NULL, NULL, err) < 0 || ensure_networks (o, sel, err) < 0
      || ensure_volumes (o, err) < 0)
    return -1;
  sel[si] = false;
  if (any && converge (o, &u, sel, err) < 0)
    return -1;
  /* the dependencies' conditions */
  for (size_t k = 0; !no_deps && k < s->n_depends_on; k++)
    if (s->depends_on[k].condition != COMPOSE_SERVICE_STARTED
        && wait_condition (o, s->depends_on[k].service, s->depends_on[k].condition, -1, err) < 0)
      return -1;
  x.env = env;
  x.cmd = cmd;
  x.publish = publish;
  x.rm = rm;
  x.detach = detach;
  x.tty = !detach && !no_tty && (want_tty || isatty (0));
  x.interactive = !detach && (isatty (0) || no_tty || !x.tty);
  if (!isatty (0))
    x.interactive = !detach;
  unsigned char rnd[6];
  FILE *ur = fopen ("/dev/urandom", "re");
  if (ur == NULL || fread (rnd, 1, sizeof rnd, ur) != sizeof rnd)
    memset (rnd, 7, sizeof rnd);
  if (ur)
    fclose (ur);
  cleanup_free char *gen = xasprintf ("%s-%s-run-%02x%02x%02x%02x%02x%02x", o->name, s->name,
                                      rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
  x.name = name ? name : gen;
  cleanup_strv char **a = service_run_argv (o, s, 1, false, &x, err);
  if (a == NULL)
    return -1;
  /* the command's own status (this process becomes the foreground run) */
  cmd_fn f = verb_fn ("run");
  int r = f (o->ctx, (int)strv_len (a), a, err);
  if (r < 0 && err && *err && (*err)->exit == 0)
    (*err)->exit = 125;
  return r;
}

/* The container of service s with index n (1 when 0). */
static char *
service_container (struct orch *o, const char *svc, int index, nook_error_t *err)
{
  struct pctrs pc;
  if (load_ctrs (o, &pc, err) < 0)
    return NULL;
  char *id = NULL;
  for (size_t i = 0; i < pc.n && !id; i++)
    if (!pc.v[i].oneoff && strcmp (pc.v[i].service, svc) == 0
        && pc.v[i].number == (index ? index : pc.v[i].number) && pc.v[i].c->running)
      id = xstrdup (pc.v[i].c->id);
  pctrs_free (&pc);
  if (id == NULL)
    nook_error_set (err, 0, "service \"%s\" is not running", svc);
  return id;
}

static int
do_exec (struct orch *o, int argc, char **argv, nook_error_t *err)
{
  char **a = argv_of ("exec", NULL);
  bool no_tty = false, detach = false, privileged = false;
  int index = 0;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++)
    {
      const char *x = argv[i], *val = NULL;
      int r;
      const char *pass[][2] = { { "-e", "--env" }, { "-u", "--user" }, { "-w", "--workdir" } };
      bool done = false;
      for (size_t k = 0; k < ARRAY_SIZE (pass) && !done; k++)
        {
          if ((r
               = cmd_opt_value (argc, argv, &i, pass[k][0], pass[k][1], "compose exec", &val, err))
              < 0)
            {
              strv_free (a);
              return -1;
            }
          if (r)
            {
              push2 (&a, pass[k][1], val);
              done = true;
            }
        }
      if (done)
        continue;
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--index", "compose exec", &val, err)) < 0)
        {
          strv_free (a);
          return -1;
        }
      if (r)
        {
          index = atoi (val);
          continue;
        }
      const struct switch_flag sw[] = {
        { "-T", "--no-TTY", &no_tty, NULL },
        { "-d", "--detach", &detach, NULL },
        { NULL, "--privileged", &privileged, NULL },
        { "-i", "--interactive", NULL, NULL },
        { "-t", "--tty", NULL, NULL },
      };
      if (!switch_set (x, sw, ARRAY_SIZE (sw)))
        {
          strv_free (a);
          return cmd_flag_error (err, "compose exec", "unknown flag: %s", x);
        }
    }
  if (i + 1 >= argc)
    {
      strv_free (a);
      return cmd_args_error (err, "compose exec", "requires at least 2 arguments");
    }
  if (compose_model_service (o->m, argv[i]) == NULL)
    {
      strv_free (a);
      return nook_error_set (err, 0, "no such service: %s", argv[i]);
    }
  cleanup_free char *id = service_container (o, argv[i], index, err);
  if (id == NULL)
    {
      strv_free (a);
      return -1;
    }
  if (privileged)
    strv_push (&a, "--privileged");
  if (detach)
    strv_push (&a, "-d");
  else
    {
      strv_push (&a, "-i");
      if (!no_tty && isatty (0))
        strv_push (&a, "-t");
    }
  strv_push (&a, id);
  for (int k = i + 1; k < argc; k++)
    strv_push (&a, argv[k]);
  int r = cmd_exec (o->ctx, (int)strv_len (a), a, err);
  strv_free (a);
  return r;
}

/* build [--no-cache] [--pull] [-q] [SERVICE...]: the services with a build section, built
 * again (those without one are skipped, as Compose does). */
static int
do_build (struct orch *o, int argc, char **argv, nook_error_t *err)
{
  cleanup_strv char **services = NULL, **extra = NULL;
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--no-cache") == 0 || strcmp (argv[i], "--pull") == 0)
      strv_push (&extra, argv[i]);
    else if (strcmp (argv[i], "-q") == 0 || strcmp (argv[i], "--quiet") == 0)
      ;
    else if (argv[i][0] == '-')
      return cmd_flag_error (err, "compose build", "unknown flag: %s", argv[i]);
    else
      strv_push (&services, argv[i]);
  cleanup_free bool *sel = xzalloc ((o->m->n_services + 1) * sizeof *sel);
  if (select_services (o->m, services, false, sel, err) < 0)
    return -1;
  return build_services (o, sel, true, NULL, extra, err);
}

/* pull and push [--ignore-pull-failures | --ignore-push-failures] [-q] [SERVICE...]: each
 * service's image, in parallel (pull: those without a build section; push: those with
 * both a build section and an image name). */
static int
do_transfer (struct orch *o, int argc, char **argv, nook_error_t *err)
{
  bool pull = strcmp (argv[0], "pull") == 0, ignore = false, quiet = false;
  cleanup_strv char **services = NULL;
  cleanup_free char *vname = xasprintf ("compose %s", argv[0]);
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], pull ? "--ignore-pull-failures" : "--ignore-push-failures") == 0)
      ignore = true;
    else if (strcmp (argv[i], "-q") == 0 || strcmp (argv[i], "--quiet") == 0)
      quiet = true;
    else if (pull && strcmp (argv[i], "--ignore-buildable") == 0)
      ;
    else if (argv[i][0] == '-')
      return cmd_flag_error (err, vname, "unknown flag: %s", argv[i]);
    else
      strv_push (&services, argv[i]);
  cleanup_free bool *sel = xzalloc ((o->m->n_services + 1) * sizeof *sel);
  if (select_services (o->m, services, false, sel, err) < 0)
    return -1;
  struct batch b = { 0 };
  for (size_t i = 0; i < o->m->n_services; i++)
    {
      struct compose_service *s = &o->m->services[i];
      if (!sel[i] || s->image == NULL || (pull ? s->build != NULL : s->build == NULL))
        continue;
      add_job (&b, argv_of (argv[0], s->image, NULL), xasprintf ("Image %s", s->image),
               quiet  ? NULL
               : pull ? "Pulling"
                      : "Pushing",
               quiet  ? NULL
               : pull ? "Pulled"
                      : "Pushed");
    }
  int failed = run_batch (o, &b);
  if (failed && !ignore)
    return nook_error_set (err, 0, "%d image%s could not be %s", failed, failed == 1 ? "" : "s",
                           pull ? "pulled" : "pushed");
  return 0;
}

/* cp [--index N] [-a] [-L] SERVICE:SRC DEST | SRC SERVICE:DEST: nook cp on the service's
 * container (the first running one, or replica N). */
static int
do_cp (struct orch *o, int argc, char **argv, nook_error_t *err)
{
  int index = 0;
  cleanup_strv char **a = argv_of ("cp", NULL), **paths = NULL;
  for (int i = 1; i < argc; i++)
    {
      const char *val = NULL;
      int r = cmd_opt_value (argc, argv, &i, NULL, "--index", "compose cp", &val, err);
      if (r < 0)
        return -1;
      if (r > 0)
        {
          char *end = NULL;
          long v = strtol (val, &end, 10);
          if (end == val || *end || v < 1)
            return nook_error_set (err, 0, "invalid --index %s: want a replica number", val);
          index = (int)v;
          continue;
        }
      if (strcmp (argv[i], "-a") == 0 || strcmp (argv[i], "--archive") == 0
          || strcmp (argv[i], "-L") == 0 || strcmp (argv[i], "--follow-link") == 0)
        strv_push (&a, argv[i]);
      else if (strcmp (argv[i], "--all") == 0)
        ;
      else if (argv[i][0] == '-' && argv[i][1])
        return cmd_flag_error (err, "compose cp", "unknown flag: %s", argv[i]);
      else
        strv_push (&paths, argv[i]);
    }
  if (strv_len (paths) != 2)
    return nook_error_set (err, 0, "\"compose cp\" requires exactly 2 arguments");
  int in = -1;
  for (int k = 0; k < 2; k++)
    {
      const char *c = strchr (paths[k], ':');
      if (c && c != paths[k] && paths[k][0] != '/' && paths[k][0] != '.')
        {
          if (in >= 0)
            return nook_error_set (err, 0, "copying between services is not supported");
          in = k;
        }
    }
  if (in < 0)
    return nook_error_set (err, 0, "one of source or destination must be a SERVICE:PATH");
  const char *c = strchr (paths[in], ':');
  cleanup_free char *svc = xstrndup (paths[in], (size_t)(c - paths[in]));
  if (compose_model_service (o->m, svc) == NULL)
    return nook_error_set (err, 0, "no such service: %s", svc);
  cleanup_free char *id = service_container (o, svc, index, err);
  if (id == NULL)
    return -1;
  cleanup_free char *ref = xasprintf ("%s:%s", id, c + 1);
  strv_push (&a, in == 0 ? ref : paths[0]);
  strv_push (&a, in == 1 ? ref : paths[1]);
  return call_verb (o->ctx, a, false) == 0 ? 0 : -1;
}

/* scale [--no-deps] SERVICE=N...: up -d --no-recreate with those replicas. */
static int
do_scale (struct orch *o, int argc, char **argv, nook_error_t *err)
{
  cleanup_strv char **a = argv_of ("up", "-d", "--no-recreate", NULL), **services = NULL;
  for (int i = 1; i < argc; i++)
    {
      const char *eq = strchr (argv[i], '=');
      if (strcmp (argv[i], "--no-deps") == 0)
        strv_push (&a, argv[i]);
      else if (argv[i][0] == '-')
        return cmd_flag_error (err, "compose scale", "unknown flag: %s", argv[i]);
      else if (eq == NULL || eq == argv[i])
        return nook_error_set (err, 0, "invalid scale %s: want SERVICE=NUM", argv[i]);
      else
        {
          push2 (&a, "--scale", argv[i]);
          strv_push (&services, argv[i]);
          services[strv_len (services) - 1][eq - argv[i]] = '\0';
        }
    }
  if (services == NULL)
    return nook_error_set (err, 0, "\"compose scale\" requires at least 1 argument");
  for (char **s = services; *s; s++)
    strv_push (&a, *s);
  return do_up (o, (int)strv_len (a), a, false, err);
}

/* ---- watch: develop.watch ------------------------------------------------------------ */

struct wdir
{
  int wd;
  char *path;
};

struct watcher
{
  int fd;
  struct wdir *v;
  size_t n;
};

/* dir and every directory below it watched (a directory made later is added when seen). */
static void
watch_tree (struct watcher *w, const char *dir)
{
  int wd = inotify_add_watch (w->fd, dir,
                              IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE
                                  | IN_ONLYDIR);
  if (wd < 0)
    return;
  bool have = false;
  for (size_t i = 0; i < w->n; i++)
    have = have || w->v[i].wd == wd;
  if (!have)
    {
      w->v = xrealloc (w->v, (w->n + 1) * sizeof *w->v);
      w->v[w->n++] = (struct wdir){ .wd = wd, .path = xstrdup (dir) };
    }
  DIR *d = opendir (dir);
  struct dirent *e;
  while (d && (e = readdir (d)) != NULL)
    if (e->d_type == DT_DIR && strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      {
        cleanup_free char *sub = xasprintf ("%s/%s", dir, e->d_name);
        watch_tree (w, sub);
      }
  if (d)
    closedir (d);
}

/* Whether rel (a path under a rule's path) matches one of pats: a pattern matches it, its
 * last component, or one of its leading directories. */
static bool
watch_match (char **pats, const char *rel)
{
  const char *base = strrchr (rel, '/');
  base = base ? base + 1 : rel;
  for (char **g = pats; g && *g; g++)
    {
      cleanup_free char *pat = xstrdup (*g);
      size_t n = strlen (pat);
      while (n > 1 && pat[n - 1] == '/')
        pat[--n] = '\0';
      if (fnmatch (pat, rel, FNM_PATHNAME) == 0 || fnmatch (pat, base, 0) == 0)
        return true;
      if (strncmp (rel, pat, n) == 0 && rel[n] == '/')
        return true;
    }
  return false;
}

/* path (absolute, on the host) relative to rule r's path: NULL when not under it, or
 * ignored, or not included. */
static const char *
watch_rel (const struct compose_watch *r, const char *path)
{
  size_t pl = r->path ? strlen (r->path) : 0;
  if (pl == 0 || strncmp (path, r->path, pl) != 0 || (path[pl] && path[pl] != '/'))
    return NULL;
  const char *rel = path[pl] ? path + pl + 1 : "";
  if (*rel && watch_match (r->ignore, rel))
    return NULL;
  if (*rel && r->include && !watch_match (r->include, rel))
    return NULL;
  return rel;
}

static volatile sig_atomic_t watch_stop;

static void
on_watch_signal (int sig)
{
  (void)sig;
  watch_stop = 1;
}

/* Run verb a in a child, quietly; its status. */
static int
call_child (struct orch *o, char **a)
{
  fflush (stdout);
  fflush (stderr);
  pid_t pid = fork ();
  if (pid == 0)
    _exit (call_verb (o->ctx, a, true) & 0xff);
  return pid > 0 ? wait_child (pid) : 1;
}

/* path (host) to dst in container id: a file or a directory's content copied (the
 * directory made first), or dst removed when path is gone. */
static void
watch_sync_one (struct orch *o, const char *id, const char *path, const char *dst)
{
  struct stat st;
  if (lstat (path, &st) < 0)
    {
      cleanup_strv char **a = argv_of ("exec", id, "rm", "-rf", dst, NULL);
      call_child (o, a);
      return;
    }
  bool dir = S_ISDIR (st.st_mode);
  cleanup_free char *parent = xstrdup (dst);
  char *sl = strrchr (parent, '/');
  if (sl && sl != parent)
    *sl = '\0';
  cleanup_strv char **mk = argv_of ("exec", id, "mkdir", "-p", dir ? dst : parent, NULL);
  call_child (o, mk);
  /* (a directory as DIR/.: its content into dst, not dst/DIR when dst exists) */
  cleanup_free char *src = dir ? xasprintf ("%s/.", path) : xstrdup (path);
  cleanup_free char *ref = xasprintf ("%s:%s", id, dst);
  cleanup_strv char **a = argv_of ("cp", src, ref, NULL);
  call_child (o, a);
}

/* sync+exec: the rule's command in the service's container. */
static void
watch_exec (struct orch *o, const struct compose_watch *r, const char *id)
{
  if (r->exec_command == NULL)
    return;
  cleanup_strv char **a = argv_of ("exec", NULL);
  if (r->exec_user)
    push2 (&a, "-u", r->exec_user);
  if (r->exec_workdir)
    push2 (&a, "-w", r->exec_workdir);
  for (char **e = r->exec_env; e && *e; e++)
    push2 (&a, "-e", *e);
  if (r->exec_privileged)
    strv_push (&a, "--privileged");
  strv_push (&a, id);
  for (char **c = r->exec_command; *c; c++)
    strv_push (&a, *c);
  call_child (o, a);
}

/* Service s's rules acted on for one batch of changed paths (each once), as Compose does:
 * a rebuild rule matched rebuilds the service (up -d --build --no-deps) and nothing else;
 * else every sync rule's paths are synced, then the container restarted once when a
 * restart rule matched, and the sync+exec rules' commands run. */
static void
watch_service (struct orch *o, struct compose_service *s, char **paths)
{
  bool rebuild = false, restart = false;
  size_t changes = 0;
  cleanup_free bool *hit = xzalloc ((s->n_watch + 1) * sizeof *hit);
  for (size_t k = 0; k < s->n_watch; k++)
    for (char **p = paths; p && *p; p++)
      if (watch_rel (&s->watch[k], *p))
        {
          const char *act = s->watch[k].action ? s->watch[k].action : "";
          hit[k] = true;
          rebuild = rebuild || strcmp (act, "rebuild") == 0;
          restart = restart || strstr (act, "restart") != NULL;
          changes += str_has_prefix (act, "sync") && s->watch[k].target;
        }
  if (rebuild)
    {
      fprintf (stderr, "Rebuilding service \"%s\" after changes were detected...\n", s->name);
      nook_error_t e = NULL;
      char **a = argv_of ("up", "-d", "--build", "--no-deps", s->name, NULL);
      if (do_up (o, (int)strv_len (a), a, false, &e) < 0)
        fprintf (stderr, "Error: rebuild of %s: %s\n", s->name, e ? e->msg : "failed");
      strv_free (a);
      nook_error_free (&e);
      return;
    }
  if (!restart && changes == 0)
    return;
  nook_error_t e = NULL;
  cleanup_free char *id = service_container (o, s->name, 0, &e);
  nook_error_free (&e);
  if (id == NULL)
    return;
  if (changes)
    fprintf (stderr, "Syncing service \"%s\" after %zu changes were detected\n", s->name, changes);
  for (size_t k = 0; k < s->n_watch; k++)
    {
      const struct compose_watch *r = &s->watch[k];
      if (!hit[k] || !r->action || !str_has_prefix (r->action, "sync") || !r->target)
        continue;
      for (char **p = paths; p && *p; p++)
        {
          const char *rel = watch_rel (r, *p);
          if (rel == NULL)
            continue;
          cleanup_free char *dst = *rel ? xasprintf ("%s/%s", r->target, rel) : xstrdup (r->target);
          watch_sync_one (o, id, *p, dst);
        }
    }
  if (restart)
    run_one (o, argv_of ("restart", id, NULL), xasprintf ("Container %s", s->name), "Restarting",
             "Started");
  for (size_t k = 0; k < s->n_watch; k++)
    if (hit[k] && s->watch[k].action && strcmp (s->watch[k].action, "sync+exec") == 0)
      watch_exec (o, &s->watch[k], id);
}

/* A batch of changed paths (the events until WATCH_QUIET_MS passed without one). */
static void
watch_batch (struct orch *o, bool *sel, char **paths)
{
  for (size_t i = 0; i < o->m->n_services; i++)
    if (sel[i] && o->m->services[i].n_watch)
      watch_service (o, &o->m->services[i], paths);
}

/* The files under dir not ignored by r (and included), pushed on out. */
static void
watch_walk (const struct compose_watch *r, const char *dir, char ***out)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  while (d && (e = readdir (d)) != NULL)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      cleanup_free char *sub = xasprintf ("%s/%s", dir, e->d_name);
      const char *rel = watch_rel (r, sub);
      if (e->d_type == DT_DIR)
        {
          /* (an ignored directory skipped whole; include patterns name files) */
          if (!watch_match (r->ignore, sub + strlen (r->path) + 1))
            watch_walk (r, sub, out);
        }
      else if (rel)
        strv_push (out, sub);
    }
  if (d)
    closedir (d);
}

/* initial_sync: each sync rule's path copied into the container before watching (the
 * whole tree at once when nothing is ignored or included, else file by file). */
static void
watch_initial_sync (struct orch *o, bool *sel)
{
  for (size_t i = 0; i < o->m->n_services; i++)
    {
      struct compose_service *s = &o->m->services[i];
      for (size_t k = 0; sel[i] && k < s->n_watch; k++)
        {
          const struct compose_watch *r = &s->watch[k];
          struct stat st;
          if (!r->initial_sync || !r->action || !str_has_prefix (r->action, "sync") || !r->target
              || !r->path || stat (r->path, &st) < 0)
            continue;
          nook_error_t e = NULL;
          cleanup_free char *id = service_container (o, s->name, 0, &e);
          nook_error_free (&e);
          if (id == NULL)
            continue;
          if (!S_ISDIR (st.st_mode) || (r->ignore == NULL && r->include == NULL))
            {
              watch_sync_one (o, id, r->path, r->target);
              continue;
            }
          cleanup_strv char **files = NULL;
          watch_walk (r, r->path, &files);
          for (char **f = files; f && *f; f++)
            {
              cleanup_free char *dst = xasprintf ("%s/%s", r->target, *f + strlen (r->path) + 1);
              watch_sync_one (o, id, *f, dst);
            }
        }
    }
}

/* Compose's quiet period: changes are acted on once none came for this long. */
#define WATCH_QUIET_MS 500

/* The events read from w.fd added to *pending (each path once); new directories watched. */
static void
watch_read (struct watcher *w, char ***pending)
{
  char buf[8192] __attribute__ ((aligned (__alignof__(struct inotify_event))));
  ssize_t n = read (w->fd, buf, sizeof buf);
  for (char *q = buf; n > 0 && q < buf + n;)
    {
      struct inotify_event *ev = (struct inotify_event *)(void *)q;
      q += sizeof *ev + ev->len;
      const char *dir = NULL;
      for (size_t i = 0; i < w->n && !dir; i++)
        if (w->v[i].wd == ev->wd)
          dir = w->v[i].path;
      if (dir == NULL || ev->len == 0)
        continue;
      cleanup_free char *path = xasprintf ("%s/%s", dir, ev->name);
      if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
        watch_tree (w, path);
      /* a file's content once it is written (not at its creation, still empty) */
      if ((ev->mask & IN_CREATE) && !(ev->mask & IN_ISDIR))
        continue;
      bool have = false;
      for (char **p = *pending; p && *p && !have; p++)
        have = strcmp (*p, path) == 0;
      if (!have)
        strv_push (pending, path);
    }
}

/* watch [--no-up] [--quiet] [--prune] [SERVICE...]: up -d, initial_sync, then each
 * develop.watch rule's path watched with inotify (directories recursively), the changes
 * acted on in batches (WATCH_QUIET_MS of quiet): sync (nook cp into the service's
 * container, a deletion removed there), sync+restart, sync+exec, restart, rebuild (up -d
 * --build --no-deps SERVICE); paths matching `ignore` (or not `include`) left alone.  Until
 * SIGINT or SIGTERM. */
static int
do_watch (struct orch *o, int argc, char **argv, nook_error_t *err)
{
  bool no_up = false;
  cleanup_strv char **services = NULL;
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--no-up") == 0)
      no_up = true;
    else if (strcmp (argv[i], "--quiet") == 0 || strcmp (argv[i], "--prune") == 0)
      ;
    else if (argv[i][0] == '-')
      return cmd_flag_error (err, "compose watch", "unknown flag: %s", argv[i]);
    else
      strv_push (&services, argv[i]);
  cleanup_free bool *sel = xzalloc ((o->m->n_services + 1) * sizeof *sel);
  if (select_services (o->m, services, false, sel, err) < 0)
    return -1;
  size_t rules = 0;
  for (size_t i = 0; i < o->m->n_services; i++)
    rules += sel[i] ? o->m->services[i].n_watch : 0;
  if (rules == 0)
    return nook_error_set (err, 0,
                           "none of the selected services is configured for watch, consider "
                           "setting a 'develop' section");
  if (!no_up)
    {
      cleanup_strv char **a = argv_of ("up", "-d", NULL);
      for (char **x = services; x && *x; x++)
        strv_push (&a, *x);
      if (do_up (o, (int)strv_len (a), a, false, err) < 0)
        return -1;
    }
  struct watcher w = { .fd = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK) };
  if (w.fd < 0)
    return nook_error_set (err, errno, "inotify_init1");
  for (size_t i = 0; i < o->m->n_services; i++)
    for (size_t k = 0; sel[i] && k < o->m->services[i].n_watch; k++)
      {
        const char *p = o->m->services[i].watch[k].path;
        struct stat st;
        if (p == NULL || stat (p, &st) < 0)
          continue;
        if (S_ISDIR (st.st_mode))
          watch_tree (&w, p);
        else
          {
            cleanup_free char *dir = xstrdup (p);
            char *sl = strrchr (dir, '/');
            if (sl)
              *(sl == dir ? sl + 1 : sl) = '\0';
            watch_tree (&w, dir);
          }
      }
  /* (watched first: a change made while the initial sync runs is not lost) */
  watch_initial_sync (o, sel);
  struct sigaction sa = { .sa_handler = on_watch_signal }, old_int, old_term;
  sigaction (SIGINT, &sa, &old_int);
  sigaction (SIGTERM, &sa, &old_term);
  fprintf (stderr, "Watch enabled\n");
  fflush (stderr);
  char **pending = NULL;
  while (!watch_stop)
    {
      struct pollfd pfd = { .fd = w.fd, .events = POLLIN };
      int pr = poll (&pfd, 1, pending ? WATCH_QUIET_MS : -1);
      if (pr < 0 && errno == EINTR)
        continue;
      if (pr < 0)
        break;
      if (pr == 0)
        {
          watch_batch (o, sel, pending);
          strv_free (pending);
          pending = NULL;
          fflush (stderr);
          continue;
        }
      watch_read (&w, &pending);
    }
  strv_free (pending);
  sigaction (SIGINT, &old_int, NULL);
  sigaction (SIGTERM, &old_term, NULL);
  for (size_t i = 0; i < w.n; i++)
    free (w.v[i].path);
  free (w.v);
  close (w.fd);
  return 0;
}

static int
do_wait (struct orch *o, int argc, char **argv, nook_error_t *err)
{
  cleanup_strv char **services = NULL;
  bool down = false;
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--down-project") == 0)
      down = true;
    else if (argv[i][0] == '-')
      return cmd_flag_error (err, "compose wait", "unknown flag: %s", argv[i]);
    else
      strv_push (&services, argv[i]);
  cleanup_free bool *sel = xzalloc ((o->m->n_services + 1) * sizeof *sel);
  if (select_services (o->m, services, false, sel, err) < 0)
    return -1;
  struct pctrs pc;
  if (load_ctrs (o, &pc, err) < 0)
    return -1;
  cleanup_strv char **ids = NULL;
  for (size_t i = 0; i < pc.n; i++)
    {
      int si = svc_index (o->m, pc.v[i].service);
      if (!pc.v[i].oneoff && si >= 0 && sel[si])
        strv_push (&ids, pc.v[i].c->id);
    }
  pctrs_free (&pc);
  int rc = 0;
  for (char **id = ids; id && *id; id++)
    {
      char **a = argv_of ("wait", *id, NULL);
      fflush (stdout);
      int r = cmd_wait (o->ctx, (int)strv_len (a), a, err);
      strv_free (a);
      if (r < 0)
        return -1;
      int code = exit_code_of (o, *id);
      if (code && !rc)
        rc = code;
    }
  if (down)
    {
      char *dargs[] = { (char *)"down", NULL };
      if (do_down (o, 1, dargs, err) < 0)
        return -1;
    }
  return rc;
}

/* ---- entry --------------------------------------------------------------------------- */

static const char *const verbs[]
    = { "up",  "down", "create", "start", "stop", "restart", "kill", "rm",    "pause", "unpause",
        "run", "exec", "wait",   "build", "pull", "push",    "cp",   "scale", "watch", "events" };

char **
compose_orch_named (int argc, char **argv)
{
  static const char *const valued[]
      = { "--scale",   "--wait-timeout", "--exit-code-from", "-t",
          "--timeout", "--pull",         "--attach",         "--no-attach" };
  char **out = NULL;
  if (strcmp (argv[0], "up") != 0 && strcmp (argv[0], "create") != 0)
    return NULL;
  for (int i = 1; i < argc; i++)
    {
      bool skip = false;
      for (size_t k = 0; k < ARRAY_SIZE (valued); k++)
        skip = skip || strcmp (argv[i], valued[k]) == 0;
      if (skip)
        i++;
      else if (argv[i][0] != '-')
        strv_push (&out, argv[i]);
    }
  return out;
}

bool
compose_orch_verb (const char *sub)
{
  for (size_t i = 0; i < ARRAY_SIZE (verbs); i++)
    if (strcmp (verbs[i], sub) == 0)
      return true;
  return false;
}

int
compose_orch (struct nook_ctx *ctx, struct compose_project *p, int argc, char **argv,
              nook_error_t *err)
{
  struct orch o = { .ctx = ctx, .p = p, .name = p->name };
  o.root = ctr_store_root (ctx->root, err);
  if (o.root == NULL)
    return -1;
  o.m = compose_model_from_json (p->model, err);
  if (o.m == NULL)
    {
      free (o.root);
      return -1;
    }
  const char *v = argv[0];
  int rc;
  if (strcmp (v, "up") == 0)
    rc = do_up (&o, argc, argv, false, err);
  else if (strcmp (v, "create") == 0)
    rc = do_up (&o, argc, argv, true, err);
  else if (strcmp (v, "down") == 0)
    rc = do_down (&o, argc, argv, err);
  else if (strcmp (v, "run") == 0)
    rc = do_run (&o, argc, argv, err);
  else if (strcmp (v, "exec") == 0)
    rc = do_exec (&o, argc, argv, err);
  else if (strcmp (v, "wait") == 0)
    rc = do_wait (&o, argc, argv, err);
  else if (strcmp (v, "build") == 0)
    rc = do_build (&o, argc, argv, err);
  else if (strcmp (v, "pull") == 0 || strcmp (v, "push") == 0)
    rc = do_transfer (&o, argc, argv, err);
  else if (strcmp (v, "cp") == 0)
    rc = do_cp (&o, argc, argv, err);
  else if (strcmp (v, "scale") == 0)
    rc = do_scale (&o, argc, argv, err);
  else if (strcmp (v, "watch") == 0)
    rc = do_watch (&o, argc, argv, err);
  else if (strcmp (v, "events") == 0)
    rc = compose_events (o.root, o.name, o.m, argc, argv, err);
  else
    rc = do_simple (&o, argc, argv, err);
  compose_model_free (o.m);
  free (o.root);
  return rc;
}
