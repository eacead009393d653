/* cmd/health.c: healthchecks (see health.h). */
#include "cmd/events.h"
#include "cmd/health.h"
#include "cmd/cli.h"
#include "cmd/lifecycle.h"
#include "cmd/logfile.h"
#include "cmd/records.h"
#include "sandbox/exec.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/trace.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_MS INT64_C (1000000)
#define NS_PER_S INT64_C (1000000000)

/* ---- durations (Go's time.ParseDuration) ---- */

static int
bad_duration (nook_error_t *err, const char *orig)
{
  return nook_error_set (err, EINVAL, "time: invalid duration \"%s\"", orig);
}

int
health_duration_parse (const char *orig, int64_t *out, nook_error_t *err)
{
  static const struct
  {
    const char *name;
    int64_t ns;
  } units[] = {
    { "ns", 1 },           { "us", 1000 },    { "\xc2\xb5s", 1000 }, /* µs, U+00B5 */
    { "\xce\xbcs", 1000 },                                           /* μs, U+03BC */
    { "ms", NS_PER_MS },   { "s", NS_PER_S }, { "m", 60 * NS_PER_S }, { "h", 3600 * NS_PER_S },
  };
  const char *s = orig;
  bool neg = false;
  if (*s == '-' || *s == '+')
    neg = *s++ == '-';
  if (strcmp (s, "0") == 0)
    {
      *out = 0;
      return 0;
    }
  if (*s == '\0')
    return bad_duration (err, orig);
  /* the total in ns, as an unsigned sum checked against INT64_MAX (Go's rule) */
  uint64_t total = 0;
  while (*s)
    {
      if (!(*s == '.' || (*s >= '0' && *s <= '9')))
        return bad_duration (err, orig);
      uint64_t v = 0;
      const char *start = s;
      for (; *s >= '0' && *s <= '9'; s++)
        if (__builtin_mul_overflow (v, 10, &v)
            || __builtin_add_overflow (v, (uint64_t)(*s - '0'), &v) || v > (uint64_t)INT64_MAX)
          return bad_duration (err, orig);
      bool pre = s != start, post = false;
      uint64_t frac = 0, scale = 1;
      if (*s == '.')
        {
          s++;
          start = s;
          for (; *s >= '0' && *s <= '9'; s++)
            if (scale < UINT64_C (1000000000000000000)) /* (further digits add nothing) */
              {
                frac = frac * 10 + (uint64_t)(*s - '0');
                scale *= 10;
              }
          post = s != start;
        }
      if (!pre && !post)
        return bad_duration (err, orig);
      size_t ulen = 0;
      while (s[ulen] && s[ulen] != '.' && !(s[ulen] >= '0' && s[ulen] <= '9'))
        ulen++;
      if (ulen == 0)
        return nook_error_set (err, EINVAL, "time: missing unit in duration \"%s\"", orig);
      int64_t unit = 0;
      for (size_t i = 0; i < ARRAY_SIZE (units); i++)
        if (strlen (units[i].name) == ulen && strncmp (units[i].name, s, ulen) == 0)
          unit = units[i].ns;
      if (unit == 0)
        return nook_error_set (err, EINVAL, "time: unknown unit \"%.*s\" in duration \"%s\"",
                               (int)ulen, s, orig);
      s += ulen;
      uint64_t part;
      if (__builtin_mul_overflow (v, (uint64_t)unit, &part) || part > (uint64_t)INT64_MAX)
        return bad_duration (err, orig);
      part += (uint64_t)((long double)frac * (long double)unit / (long double)scale);
      if (__builtin_add_overflow (total, part, &total) || total > (uint64_t)INT64_MAX)
        return bad_duration (err, orig);
    }
  *out = neg ? -(int64_t)total : (int64_t)total;
  return 0;
}

/* "%g" of v with at most 9 decimals and no trailing zeros */
static void
append_frac (char *buf, size_t size, int64_t whole, int64_t frac, int digits, const char *unit)
{
  char f[16] = "";
  if (frac)
    {
      snprintf (f, sizeof f, ".%0*lld", digits, (long long)frac);
      for (size_t n = strlen (f); n > 1 && f[n - 1] == '0'; n--)
        f[n - 1] = '\0';
    }
  size_t len = strlen (buf);
  snprintf (buf + len, size - len, "%lld%s%s", (long long)whole, f, unit);
}

void
health_duration_format (int64_t ns, char *buf, size_t size)
{
  buf[0] = '\0';
  if (ns < 0)
    {
      snprintf (buf, size, "-");
      ns = -ns;
    }
  if (ns == 0)
    snprintf (buf, size, "0s");
  else if (ns < 1000)
    append_frac (buf, size, ns, 0, 0, "ns");
  else if (ns < NS_PER_MS)
    append_frac (buf, size, ns / 1000, ns % 1000, 3, "\xc2\xb5s");
  else if (ns < NS_PER_S)
    append_frac (buf, size, ns / NS_PER_MS, ns % NS_PER_MS, 6, "ms");
  else
    {
      int64_t h = ns / (3600 * NS_PER_S), m = ns / (60 * NS_PER_S) % 60;
      size_t len = strlen (buf);
      if (h)
        snprintf (buf + len, size - len, "%lldh%lldm", (long long)h, (long long)m);
      else if (m)
        snprintf (buf + len, size - len, "%lldm", (long long)m);
      append_frac (buf, size, ns / NS_PER_S % 60, ns % NS_PER_S, 9, "s");
    }
}

/* ---- run's flags ---- */

struct dur_flag
{
  const char *flag, *what;
  size_t off;
};

#define ROFF(f) offsetof (struct run_opts, f)
static const struct dur_flag dur_flags[] = {
  { "--health-interval", "Interval", ROFF (health_interval) },
  { "--health-timeout", "Timeout", ROFF (health_timeout) },
  { "--health-start-period", "StartPeriod", ROFF (health_start_period) },
  { "--health-start-interval", "StartInterval", ROFF (health_start_interval) },
};

static const char *
dur_value (const struct run_opts *o, const struct dur_flag *d)
{
  return *(char *const *)((const char *)o + d->off);
}

static bool
have_health_flags (const struct run_opts *o)
{
  bool any = o->health_cmd != NULL || o->health_retries != NULL;
  for (size_t i = 0; i < ARRAY_SIZE (dur_flags); i++)
    any |= dur_value (o, &dur_flags[i]) != NULL;
  return any;
}

int
health_flags_check (const struct run_opts *o, nook_error_t *err)
{
  for (size_t i = 0; i < ARRAY_SIZE (dur_flags); i++)
    {
      const char *v = dur_value (o, &dur_flags[i]);
      int64_t ns;
      cleanup_error nook_error_t e = NULL;
      if (v == NULL)
        continue;
      if (health_duration_parse (v, &ns, &e) < 0)
        return cmd_flag_error (err, "run", "invalid argument \"%s\" for \"%s\" flag: %s", v,
                               dur_flags[i].flag, e->msg);
      if (ns < 0)
        return nook_error_set (err, 0, "%s cannot be negative", dur_flags[i].flag);
      if (ns != 0 && ns < NS_PER_MS)
        return nook_error_set (err, 0, "%s in Healthcheck cannot be less than 1ms",
                               dur_flags[i].what);
    }
  if (o->health_retries)
    {
      char *end;
      errno = 0;
      long long n = strtoll (o->health_retries, &end, 10);
      if (*o->health_retries == '\0' || *end || errno || n < INT32_MIN || n > INT32_MAX)
        return cmd_flag_error (err, "run",
                               "invalid argument \"%s\" for \"--health-retries\" flag: "
                               "strconv.ParseInt: parsing \"%s\": invalid syntax",
                               o->health_retries, o->health_retries);
      if (n < 0)
        return nook_error_set (err, 0, "--health-retries cannot be negative");
    }
  if (o->no_healthcheck && have_health_flags (o))
    return nook_error_set (err, 0, "--no-healthcheck conflicts with --health-* options");
  return 0;
}

int
health_config_merge (const struct run_opts *o, const json_t *image_config, json_t **out,
                     nook_error_t *err)
{
  *out = NULL;
  if (health_flags_check (o, err) < 0)
    return -1;
  const json_t *cfg = image_config ? json_object_get (image_config, "config") : NULL;
  const json_t *img = cfg ? json_object_get (cfg, "Healthcheck") : NULL;
  if (!json_is_object (img))
    img = NULL;
  if (o->no_healthcheck)
    {
      *out = json_pack ("{s:[s]}", "Test", "NONE");
      return 0;
    }
  if (!have_health_flags (o))
    {
      *out = img ? json_deep_copy (img) : NULL;
      return 0;
    }
  json_t *hc = json_object ();
  if (o->health_cmd)
    json_object_set_new (hc, "Test", json_pack ("[s, s]", "CMD-SHELL", o->health_cmd));
  else if (img && json_is_array (json_object_get (img, "Test")))
    json_object_set_new (hc, "Test", json_deep_copy (json_object_get (img, "Test")));
  for (size_t i = 0; i < ARRAY_SIZE (dur_flags); i++)
    {
      const char *v = dur_value (o, &dur_flags[i]);
      int64_t ns = 0;
      cleanup_error nook_error_t e = NULL;
      if (v)
        health_duration_parse (v, &ns, &e);
      json_t *from_img = img ? json_object_get (img, dur_flags[i].what) : NULL;
      if (ns == 0 && json_is_integer (from_img))
        ns = json_integer_value (from_img);
      if (ns != 0)
        json_object_set_new (hc, dur_flags[i].what, json_integer (ns));
    }
  long long retries = o->health_retries ? strtoll (o->health_retries, NULL, 10) : 0;
  json_t *img_retries = img ? json_object_get (img, "Retries") : NULL;
  if (retries == 0 && json_is_integer (img_retries))
    retries = json_integer_value (img_retries);
  if (retries != 0)
    json_object_set_new (hc, "Retries", json_integer (retries));
  *out = hc;
  return 0;
}

/* ---- the config as the supervisor uses it ---- */

struct health_config *
health_config_load (const json_t *hc, const json_t *shell)
{
  json_t *test = json_object_get (hc, "Test");
  const char *kind = json_string_value (json_array_get (test, 0));
  /* Docker (daemon/health.go getProbe): CMD, CMD-SHELL; NONE or any other word: none */
  bool sh = kind && strcmp (kind, "CMD-SHELL") == 0;
  if (!sh && !(kind && strcmp (kind, "CMD") == 0))
    return NULL;
  struct health_config *c = xzalloc (sizeof *c);
  if (sh)
    {
      /* the container's Config.Shell (the image's SHELL), else /bin/sh -c (getShell) */
      size_t i;
      json_t *w;
      bool custom = json_is_array (shell) && json_array_size (shell) > 0;
      json_array_foreach (shell, i, w) custom = custom && json_is_string (w);
      if (custom)
        json_array_foreach (shell, i, w) strv_push (&c->argv, json_string_value (w));
      else
        {
          strv_push (&c->argv, "/bin/sh");
          strv_push (&c->argv, "-c");
        }
    }
  for (size_t i = 1; i < json_array_size (test); i++)
    if (json_is_string (json_array_get (test, i)))
      strv_push (&c->argv, json_string_value (json_array_get (test, i)));
  if (c->argv == NULL || c->argv[0] == NULL)
    {
      health_config_free (c);
      return NULL;
    }
  struct
  {
    const char *key;
    int64_t *to, def;
  } d[] = {
    { "Interval", &c->interval_ns, 30 * NS_PER_S },
    { "Timeout", &c->timeout_ns, 30 * NS_PER_S },
    { "StartPeriod", &c->start_period_ns, 0 },
    { "StartInterval", &c->start_interval_ns, 5 * NS_PER_S },
  };
  for (size_t i = 0; i < ARRAY_SIZE (d); i++)
    {
      json_int_t v = json_integer_value (json_object_get (hc, d[i].key));
      *d[i].to = v > 0 ? (int64_t)v : d[i].def;
    }
  json_int_t r = json_integer_value (json_object_get (hc, "Retries"));
  c->retries = r > 0 && r < INT32_MAX ? (int)r : 3;
  return c;
}

void
health_config_free (struct health_config *c)
{
  if (c == NULL)
    return;
  strv_free (c->argv);
  free (c);
}

bool
health_configured (const json_t *config_json)
{
  json_t *hc = json_object_get (json_object_get (config_json, "Config"), "Healthcheck");
  const char *kind = json_string_value (json_array_get (json_object_get (hc, "Test"), 0));
  return kind && (strcmp (kind, "CMD") == 0 || strcmp (kind, "CMD-SHELL") == 0)
         && json_array_size (json_object_get (hc, "Test")) > 1;
}

/* ---- the state ---- */

void
health_state_apply (struct health_state *h, const struct health_config *c, int64_t started_ns,
                    struct health_result *r, bool at_start)
{
  if (h->nlog == HEALTH_LOG_MAX)
    {
      free (h->log[0].output);
      memmove (h->log, h->log + 1, sizeof h->log[0] * (HEALTH_LOG_MAX - 1));
      h->nlog--;
    }
  h->log[h->nlog++] = *r;
  r->output = NULL;
  if (r->exit_code == 0)
    {
      h->failing_streak = 0;
      snprintf (h->status, sizeof h->status, "healthy");
      return;
    }
  /* starting (never healthy yet) and within the start period: not counted */
  if (strcmp (h->status, "starting") == 0
      && (at_start || r->start_ns - started_ns < c->start_period_ns))
    return;
  h->failing_streak++;
  if (h->failing_streak >= c->retries)
    snprintf (h->status, sizeof h->status, "unhealthy");
}

void
health_state_clear (struct health_state *h)
{
  for (int i = 0; i < h->nlog; i++)
    free (h->log[i].output);
  memset (h, 0, sizeof *h);
}

json_t *
health_state_json (const struct health_state *h)
{
  json_t *log = json_array ();
  for (int i = 0; i < h->nlog; i++)
    {
      char start[40], end[40];
      log_format_time (h->log[i].start_ns, start);
      log_format_time (h->log[i].end_ns, end);
      json_array_append_new (log, json_pack ("{s:s, s:s, s:i, s:s}", "Start", start, "End", end,
                                             "ExitCode", h->log[i].exit_code, "Output",
                                             h->log[i].output ? h->log[i].output : ""));
    }
  return json_pack ("{s:s, s:i, s:o}", "Status", h->status, "FailingStreak", h->failing_streak,
                    "Log", log);
}

json_t *
health_json_read (int cdir, const char *id)
{
  json_t *h = container_read_json (cdir, id, "health.json");
  if (h && !json_is_object (h))
    {
      json_decref (h);
      return NULL;
    }
  return h;
}

void
health_status_read (int cdir, const char *id, char *buf, size_t size)
{
  json_t *h = health_json_read (cdir, id);
  const char *s = json_string_value (json_object_get (h, "Status"));
  snprintf (buf, size, "%s", s ? s : "");
  json_decref (h);
}

/* ---- the monitor ---- */

struct health_mon
{
  const struct health_config *c;
  const struct nook_spec *spec;
  int dirfd;
  struct health_state st;
  pid_t init;
  int64_t started_ns;  /* the container's start (CLOCK_REALTIME) */
  int64_t started_ms;  /* ... CLOCK_MONOTONIC */
  int64_t next_ms;     /* the next probe, -1: none */
  pid_t probe;         /* the probe in flight (our child), 0: none */
  int probe_fd, out_r; /* its pidfd, the read end of its output */
  int64_t probe_deadline_ms;
  bool timed_out;
  bool at_start;       /* the next probe is the one at the start */
  bool probe_at_start; /* ... the one in flight was */
  struct health_result cur;
  size_t out_len;
  bool truncated;
  const char *root, *id; /* events (health_mon_events), or NULL */
};

static int64_t
mono_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
ms_of (int64_t ns)
{
  return ns / NS_PER_MS + (ns % NS_PER_MS != 0);
}

struct health_mon *
health_mon_new (const struct health_config *c, const struct nook_spec *spec, int dirfd)
{
  struct health_mon *m = xzalloc (sizeof *m);
  m->c = c;
  m->spec = spec;
  m->dirfd = dirfd;
  m->probe_fd = m->out_r = -1;
  m->next_ms = -1;
  snprintf (m->st.status, sizeof m->st.status, "starting");
  return m;
}

static void
write_health (struct health_mon *m)
{
  json_t *j = health_state_json (&m->st);
  cleanup_free char *text = json_dumps (j, JSON_COMPACT);
  json_decref (j);
  cleanup_error nook_error_t e = NULL;
  if (text && fs_write_file_at (m->dirfd, "health.json", text, strlen (text), 0600, &e) < 0)
    log_warn ("could not record the container's health: %s", e->msg);
}

/* Docker's getInterval: the start interval while in the start period and not
 * yet healthy (or unhealthy), else the interval. */
static int64_t
interval_ms (const struct health_mon *m)
{
  if ((mono_ms () - m->started_ms) * NS_PER_MS >= m->c->start_period_ns
      || strcmp (m->st.status, "starting") != 0)
    return ms_of (m->c->interval_ns);
  return ms_of (m->c->start_interval_ns);
}

void
health_mon_begin (struct health_mon *m, pid_t init, int64_t started_ns)
{
  if (m == NULL)
    return;
  m->init = init;
  m->started_ns = started_ns;
  m->started_ms = mono_ms ();
  snprintf (m->st.status, sizeof m->st.status, "starting");
  m->st.failing_streak = 0;
  write_health (m);
  /* the first probe at once (podman's), not an interval later as Docker's: a
   * service ready at its start is healthy at its start, and what waits for it
   * (compose's service_healthy, `up --wait`, `wait --condition healthy`) waits
   * for nothing more; its failure counts for nothing (health_state_apply) */
  m->at_start = true;
  m->next_ms = m->started_ms;
}

/* The probe's child: the exec path with the container's spec and the probe's
 * command, output to the pipe.  Its exit code is the probe's. */
__attribute__ ((noreturn)) static void
probe_main (struct health_mon *m, pid_t parent, int out_w)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != parent)
    _exit (126);
  sigset_t none;
  sigemptyset (&none);
  for (int s = 1; s < NSIG; s++)
    signal (s, SIG_DFL);
  sigprocmask (SIG_SETMASK, &none, NULL);
  int null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0 || dup2 (null, 0) < 0 || dup2 (out_w, 1) < 0 || dup2 (out_w, 2) < 0)
    _exit (126);
  /* nothing of the supervisor's (its lock, socket, the container's pipes) */
  syscall (SYS_close_range, 3, ~0U, 0);
  struct nook_spec s = *m->spec;
  s.argv = m->c->argv;
  s.tty = s.interactive = false;
  s.cgroup_procs_fd = -1; /* (closed above; pause cancels probes: none in its freezer) */
  struct sandbox_exec x = { .spec = &s, .probe = true };
  x.target = exec_joinable_process (m->init);
  cleanup_error nook_error_t err = NULL;
  if (x.target <= 0)
    {
      fprintf (stderr, "the container has no process to run the healthcheck in\n");
      _exit (126);
    }
  int st = sandbox_exec (&x, &err);
  if (st < 0)
    {
      cleanup_free char *t = nook_error_text (err);
      fprintf (stderr, "%s\n", t);
      _exit (err->exit ? err->exit : 126);
    }
  _exit (st);
}

static void
start_probe (struct health_mon *m)
{
  int p[2];
  /* (should this one fail to start: the next in an interval, not at once again,
   * and on Docker's schedule) */
  m->next_ms = mono_ms () + interval_ms (m);
  m->probe_at_start = m->at_start;
  m->at_start = false;
  if (pipe2 (p, O_CLOEXEC | O_NONBLOCK) < 0)
    return;
  memset (&m->cur, 0, sizeof m->cur);
  m->cur.start_ns = realtime_ns ();
  m->out_len = 0;
  m->truncated = false;
  m->timed_out = false;
  pid_t parent = getpid ();
  pid_t pid = fork ();
  if (pid == 0)
    probe_main (m, parent, p[1]);
  close (p[1]);
  if (pid < 0)
    {
      close (p[0]);
      return;
    }
  trace_mark ("health: probe forked");
  m->probe = pid;
  m->out_r = p[0];
  m->probe_fd = (int)syscall (SYS_pidfd_open, pid, 0);
  m->probe_deadline_ms = mono_ms () + ms_of (m->c->timeout_ns);
}

static void
read_output (struct health_mon *m)
{
  char buf[4096];
  for (;;)
    {
      ssize_t n = read (m->out_r, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      size_t keep = HEALTH_OUTPUT_MAX - m->out_len;
      if ((size_t)n < keep)
        keep = (size_t)n;
      if (keep > 0)
        {
          m->cur.output = xrealloc (m->cur.output, m->out_len + keep + 1);
          memcpy (m->cur.output + m->out_len, buf, keep);
          m->out_len += keep;
          m->cur.output[m->out_len] = '\0';
        }
      if ((size_t)n > keep)
        m->truncated = true;
    }
}

/* The probe ended (reaped): its result applied and recorded. */
static void
probe_done (struct health_mon *m, int wstatus)
{
  read_output (m);
  close (m->out_r);
  if (m->probe_fd >= 0)
    close (m->probe_fd);
  m->out_r = m->probe_fd = -1;
  m->probe = 0;
  m->cur.end_ns = realtime_ns ();
  if (m->timed_out)
    {
      /* Docker's words, and -1 */
      char d[64];
      health_duration_format (m->c->timeout_ns, d, sizeof d);
      free (m->cur.output);
      m->cur.output = xasprintf ("Health check exceeded timeout (%s)", d);
      m->cur.exit_code = -1;
    }
  else
    {
      m->cur.exit_code = WIFEXITED (wstatus)     ? WEXITSTATUS (wstatus)
                         : WIFSIGNALED (wstatus) ? 128 + WTERMSIG (wstatus)
                                                 : -1;
      if (m->truncated)
        {
          char *t = xasprintf ("%s...", m->cur.output ? m->cur.output : "");
          free (m->cur.output);
          m->cur.output = t;
        }
      if (m->cur.output == NULL)
        m->cur.output = xstrdup ("");
    }
  char before[sizeof m->st.status];
  snprintf (before, sizeof before, "%s", m->st.status);
  health_state_apply (&m->st, m->c, m->started_ns, &m->cur, m->probe_at_start);
  if (m->root && strcmp (before, m->st.status) != 0)
    {
      cleanup_free char *action = xasprintf ("health_status: %s", m->st.status);
      events_container (m->root, m->id, action, NULL);
    }
  free (m->cur.output);
  m->cur.output = NULL;
  write_health (m);
  trace_mark (m->st.status);
  m->next_ms = mono_ms () + interval_ms (m);
}

void
health_mon_events (struct health_mon *m, const char *root, const char *id)
{
  if (m)
    {
      m->root = root;
      m->id = id;
    }
}

static void
reap_probe (struct health_mon *m, bool block)
{
  int st;
  pid_t r;
  do
    r = waitpid (m->probe, &st, block ? 0 : WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == m->probe)
    probe_done (m, st);
}

int
health_mon_pollfds (struct health_mon *m, struct pollfd *p)
{
  if (m == NULL || m->probe <= 0)
    return 0;
  int n = 0;
  if (m->probe_fd >= 0)
    p[n++] = (struct pollfd){ .fd = m->probe_fd, .events = POLLIN };
  if (m->out_r >= 0)
    p[n++] = (struct pollfd){ .fd = m->out_r, .events = POLLIN };
  return n;
}

int64_t
health_mon_deadline (const struct health_mon *m)
{
  if (m == NULL || m->init <= 0)
    return -1;
  if (m->probe > 0)
    return m->timed_out ? -1 : m->probe_deadline_ms;
  return m->next_ms;
}

void
health_mon_handle (struct health_mon *m, const struct pollfd *p, int n, bool paused)
{
  if (m == NULL || m->init <= 0)
    return;
  if (m->probe > 0)
    {
      bool ended = m->probe_fd < 0;
      for (int i = 0; i < n; i++)
        if (p[i].fd == m->out_r && p[i].revents)
          read_output (m);
        else if (p[i].fd == m->probe_fd && p[i].revents)
          ended = true;
      if (ended)
        reap_probe (m, false);
      if (m->probe > 0 && !m->timed_out && mono_ms () >= m->probe_deadline_ms)
        {
          /* its child kills the command's process group as it dies */
          m->timed_out = true;
          kill (m->probe, SIGKILL);
        }
      return;
    }
  if (m->next_ms >= 0 && mono_ms () >= m->next_ms)
    {
      if (paused)
        m->next_ms = mono_ms () + interval_ms (m);
      else
        start_probe (m);
    }
}

/* A probe in flight ended, its result dropped (Docker's monitor cancelled). */
static void
cancel_probe (struct health_mon *m)
{
  if (m->probe <= 0)
    return;
  kill (m->probe, SIGKILL);
  m->timed_out = false;
  int st;
  while (waitpid (m->probe, &st, 0) < 0 && errno == EINTR)
    ;
  close (m->out_r);
  if (m->probe_fd >= 0)
    close (m->probe_fd);
  m->out_r = m->probe_fd = -1;
  m->probe = 0;
  free (m->cur.output);
  m->cur.output = NULL;
}

void
health_mon_pause (struct health_mon *m, bool paused)
{
  if (m == NULL || m->init <= 0)
    return;
  if (paused)
    {
      /* Docker (updateHealthMonitor): no monitor while paused; a probe in flight is
       * cancelled and its result ignored, the status kept */
      cancel_probe (m);
      m->next_ms = -1;
      m->at_start = false; /* (after unpause: Docker's schedule) */
    }
  else /* a new monitor: the first probe an interval from now */
    m->next_ms = mono_ms () + interval_ms (m);
}

void
health_mon_end (struct health_mon *m, bool gone)
{
  if (m == NULL)
    return;
  cancel_probe (m);
  m->init = 0;
  m->next_ms = -1;
  /* Docker: "unhealthy when the monitor has stopped for compatibility reasons" */
  snprintf (m->st.status, sizeof m->st.status, "unhealthy");
  if (!gone)
    write_health (m);
}

void
health_mon_flush (struct health_mon *m)
{
  if (m != NULL)
    write_health (m);
}

void
health_mon_free (struct health_mon *m)
{
  if (m == NULL)
    return;
  health_mon_end (m, true);
  health_state_clear (&m->st);
  free (m);
}
