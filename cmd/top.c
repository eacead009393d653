/* cmd/top.c: `nook top` (the container's processes with ps -ef's columns) and
 * `nook stats` (CPU %, memory as the sum of PSS, network I/O, PIDS) from /proc
 * alone: cgroups are not delegated to users here, so LIMIT, MEM % and BLOCK I/O
 * are "--" and one line on stderr says so. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/ctrs.h"
#include "cmd/top.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/template.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

struct pinfo
{
  pid_t pid, ppid;
  uid_t uid;
  unsigned long long utime, stime, start; /* clock ticks */
  int tty;
  int threads;
  char comm[64];
};

static char *
read_proc (pid_t pid, const char *file, size_t max)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/%s", (int)pid, file);
  char *text = NULL;
  cleanup_error nook_error_t e = NULL;
  if (fs_read_file_at (AT_FDCWD, path, max, &text, NULL, &e) < 0)
    return NULL;
  return text;
}

static bool
pinfo_read (pid_t pid, struct pinfo *p)
{
  memset (p, 0, sizeof *p);
  cleanup_free char *stat = read_proc (pid, "stat", 4096);
  if (stat == NULL)
    return false;
  const char *open = strchr (stat, '('), *close = strrchr (stat, ')');
  if (open == NULL || close == NULL || close < open)
    return false;
  snprintf (p->comm, sizeof p->comm, "%.*s", (int)(close - open - 1), open + 1);
  char state;
  int ppid, pgrp, session, tty;
  unsigned long long skip, ut, st, start;
  long long cskip, threads;
  /* fields 3.. : state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
   * utime stime cutime cstime priority nice num_threads itrealvalue starttime */
  if (sscanf (close + 2,
              "%c %d %d %d %d %lld %llu %llu %llu %llu %llu %llu %llu %lld %lld %lld %lld %lld "
              "%lld %llu",
              &state, &ppid, &pgrp, &session, &tty, &cskip, &skip, &skip, &skip, &skip, &skip, &ut,
              &st, &cskip, &cskip, &cskip, &cskip, &threads, &cskip, &start)
      != 20)
    return false;
  p->pid = pid;
  p->ppid = ppid;
  p->tty = tty;
  p->utime = ut;
  p->stime = st;
  p->start = start;
  p->threads = (int)threads;
  cleanup_free char *status = read_proc (pid, "status", 65536);
  const char *u = status ? strstr (status, "\nUid:") : NULL;
  p->uid = u ? (uid_t)strtoul (u + 5, NULL, 10) : 0;
  return true;
}

static double
uptime_secs (void)
{
  cleanup_free char *t = NULL;
  cleanup_error nook_error_t e = NULL;
  if (fs_read_file_at (AT_FDCWD, "/proc/uptime", 256, &t, NULL, &e) < 0)
    return 0;
  return strtod (t, NULL);
}

static char *
cmdline_of (const struct pinfo *p)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/cmdline", (int)p->pid);
  cleanup_free char *text = NULL;
  size_t len = 0;
  cleanup_error nook_error_t e = NULL;
  if (fs_read_file_at (AT_FDCWD, path, 65536, &text, &len, &e) < 0 || len == 0)
    return xasprintf ("[%s]", p->comm);
  for (size_t i = 0; i + 1 < len; i++)
    if (text[i] == '\0')
      text[i] = ' ';
  /* (nook-init wipes its arguments: what is left is NULs, now blanks) */
  while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\0'))
    text[--len] = '\0';
  if (len == 0)
    {
      free (text);
      text = xasprintf ("[%s]", p->comm);
    }
  return steal_pointer (&text);
}

static char *
tty_name (int tty)
{
  if (tty == 0)
    return xstrdup ("?");
  unsigned maj = major ((dev_t)tty), min = minor ((dev_t)tty);
  if (maj >= 136 && maj <= 143)
    return xasprintf ("pts/%u", (maj - 136) * 256 + min);
  if (maj == 4 && min < 64)
    return xasprintf ("tty%u", min);
  return xstrdup ("?");
}

static char *
user_name (uid_t uid)
{
  struct passwd *pw = getpwuid (uid);
  return pw ? xstrdup (pw->pw_name) : xasprintf ("%u", (unsigned)uid);
}

static int
find_running (const char *ctx_root, const char *key, struct ctr_list *l, size_t *at,
              nook_error_t *err)
{
  cleanup_free char *root = ctr_store_root (ctx_root, err);
  if (root == NULL || ctr_list_load (root, l, err) < 0)
    return -1;
  if (ctr_find (l, key, at, err) < 0)
    return -1;
  if (!l->v[*at].running)
    return nook_error_set (err, 0, "container %s is not running", l->v[*at].id);
  return 0;
}

void
top_rows (const struct ctr *c, struct strbuf *out)
{
  size_t n = 0;
  cleanup_free pid_t *pids = ctr_processes (c, &n);
  long hz = sysconf (_SC_CLK_TCK);
  double up = uptime_secs ();
  time_t now = time (NULL);
  for (size_t i = 0; i < n; i++)
    {
      struct pinfo p;
      if (!pinfo_read (pids[i], &p))
        continue;
      double started = (double)p.start / (double)hz; /* seconds after boot */
      double alive = up - started;
      unsigned long long cpu = (p.utime + p.stime) / (unsigned long long)hz;
      int pct = alive > 0 ? (int)(100.0 * (double)cpu / alive) : 0;
      time_t st = now - (time_t)alive;
      struct tm tm, tn;
      localtime_r (&st, &tm);
      localtime_r (&now, &tn);
      char stime[32];
      strftime (stime, sizeof stime,
                tm.tm_yday == tn.tm_yday && tm.tm_year == tn.tm_year ? "%H:%M" : "%b%d", &tm);
      cleanup_free char *user = user_name (p.uid);
      cleanup_free char *tty = tty_name (p.tty);
      cleanup_free char *cmd = cmdline_of (&p);
      strbuf_appendf (out, "%s\t%d\t%d\t%d\t%s\t%s\t%02llu:%02llu:%02llu\t%s\n", user, (int)p.pid,
                      (int)p.ppid, pct, stime, tty, cpu / 3600, (cpu / 60) % 60, cpu % 60, cmd);
    }
}

int
cmd_top (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  if (cmd_wants_help (argc, argv))
    {
      printf ("Usage:  nook top CONTAINER\n\nDisplay the running processes of a container "
              "(host pids, ps -ef's columns)\n");
      return 0;
    }
  if (argc < 2)
    return cmd_args_error (err, "top", "\"nook top\" requires at least 1 argument.");
  if (argc > 2 && strcmp (argv[2], "-ef") != 0 && strcmp (argv[2], "aux") != 0)
    return nook_error_set (err, 0, "nook top takes no ps options but -ef (got '%s')", argv[2]);
  struct ctr_list l = { 0 };
  size_t at;
  if (find_running (ctx->root, argv[1], &l, &at, err) < 0)
    {
      ctr_list_free (&l);
      return -1;
    }
  struct strbuf b = { 0 };
  strbuf_append (&b, "UID\tPID\tPPID\tC\tSTIME\tTTY\tTIME\tCMD\n");
  top_rows (&l.v[at], &b);
  cleanup_free char *raw = strbuf_steal (&b);
  cleanup_free char *table = tmpl_tabwrite (raw);
  fputs (table, stdout);
  ctr_list_free (&l);
  return 0;
}

/* ---- stats ---- */

struct sample
{
  unsigned long long cpu; /* clock ticks of all processes */
  uint64_t pss;           /* bytes */
  uint64_t rx, tx;
  int pids;
  bool net;
};

static uint64_t
pss_of (pid_t pid)
{
  cleanup_free char *t = read_proc (pid, "smaps_rollup", 1 << 16);
  const char *p = t ? strstr (t, "\nPss:") : NULL;
  if (p)
    return strtoull (p + 5, NULL, 10) * 1024;
  /* not ours to read (the init, non-dumpable): its resident size instead */
  cleanup_free char *statm = read_proc (pid, "statm", 256);
  unsigned long long size, rss;
  if (statm && sscanf (statm, "%llu %llu", &size, &rss) == 2)
    return rss * (uint64_t)sysconf (_SC_PAGESIZE);
  return 0;
}

static bool
net_of (pid_t pid, uint64_t *rx, uint64_t *tx)
{
  cleanup_free char *t = read_proc (pid, "net/dev", 1 << 16);
  if (t == NULL)
    return false;
  const char *cur = t;
  char *line;
  int n = 0;
  while ((line = str_next_line (&cur)) != NULL)
    {
      cleanup_free char *l = line;
      if (++n <= 2)
        continue; /* headers */
      char *colon = strchr (l, ':');
      if (colon == NULL)
        continue;
      *colon = '\0';
      char *name = l;
      while (*name == ' ')
        name++;
      if (strcmp (name, "lo") == 0)
        continue;
      unsigned long long r, skip, w;
      if (sscanf (colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &r, &skip, &skip,
                  &skip, &skip, &skip, &skip, &skip, &w)
          == 9)
        *rx += r, *tx += w;
    }
  return true;
}

static void
take_sample (const struct ctr *c, struct sample *s)
{
  memset (s, 0, sizeof *s);
  size_t n = 0;
  cleanup_free pid_t *pids = ctr_processes (c, &n);
  for (size_t i = 0; i < n; i++)
    {
      struct pinfo p;
      if (!pinfo_read (pids[i], &p))
        continue;
      s->cpu += p.utime + p.stime;
      s->pids += p.threads > 0 ? p.threads : 1;
      s->pss += pss_of (pids[i]);
      if (!s->net && i + 1 == n)
        s->net = net_of (pids[i], &s->rx, &s->tx);
    }
}

static char *
size_text (uint64_t n, bool binary)
{
  static const char *const dec[] = { "B", "kB", "MB", "GB", "TB" };
  static const char *const bin[] = { "B", "KiB", "MiB", "GiB", "TiB" };
  double v = (double)n, base = binary ? 1024 : 1000;
  size_t i = 0;
  while (v >= base && i < 4)
    v /= base, i++;
  char buf[32];
  snprintf (buf, sizeof buf, "%.4g", v);
  return xasprintf ("%s%s", buf, binary ? bin[i] : dec[i]);
}

static json_t *
stats_row (const struct ctr *c, const struct sample *a, const struct sample *b, double secs,
           bool host_net)
{
  long hz = sysconf (_SC_CLK_TCK);
  double cpu = secs > 0 ? 100.0 * (double)(b->cpu - a->cpu) / (double)hz / secs : 0;
  char cpu_text[32];
  snprintf (cpu_text, sizeof cpu_text, "%.2f%%", cpu);
  cleanup_free char *mem = size_text (b->pss, true);
  cleanup_free char *memu = xasprintf ("%s / --", mem);
  cleanup_free char *rx = size_text (b->rx, false);
  cleanup_free char *tx = size_text (b->tx, false);
  cleanup_free char *net = host_net || !b->net ? xstrdup ("--") : xasprintf ("%s / %s", rx, tx);
  cleanup_free char *id = xstrndup (c->id, 12);
  cleanup_free char *pids = xasprintf ("%d", b->pids);
  return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Container", id, "ID", id,
                    "Name", c->name, "CPUPerc", cpu_text, "MemUsage", memu, "MemPerc", "--",
                    "NetIO", net, "BlockIO", "--", "PIDs", pids);
}

static void
stats_usage (void)
{
  printf ("Usage:  nook stats [OPTIONS] [CONTAINER...]\n\nDisplay resource usage statistics of "
          "containers (from /proc: cgroups are not delegated to users here)\n\nOptions:\n"
          "  -a, --all             Show all containers (default shows just running)\n"
          "      --format string   'table', 'table TEMPLATE', 'json' or a Go template\n"
          "      --no-stream       Disable streaming stats and only pull the first result\n"
          "      --no-trunc        Do not truncate output\n");
}

static volatile sig_atomic_t stats_stop;

static void
on_int (int sig)
{
  stats_stop = 1;
}

int
cmd_stats (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  bool no_stream = false, all = false;
  const char *format = NULL;
  cleanup_strv char **names = NULL;
  for (int i = 1; i < argc; i++)
    {
      const char *v = NULL;
      int r = cmd_opt_value (argc, argv, &i, NULL, "--format", "stats", &v, err);
      if (r < 0)
        return -1;
      if (r > 0)
        format = v;
      else if (strcmp (argv[i], "--no-stream") == 0)
        no_stream = true;
      else if (strcmp (argv[i], "-a") == 0 || strcmp (argv[i], "--all") == 0)
        all = true;
      else if (strcmp (argv[i], "--no-trunc") == 0)
        ;
      else if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          stats_usage ();
          return 0;
        }
      else if (argv[i][0] == '-')
        return cmd_flag_error (err, "stats", "unknown flag: %s", argv[i]);
      else
        strv_push (&names, argv[i]);
    }
  cleanup_free char *root = ctr_store_root (ctx->root, err);
  if (root == NULL)
    return -1;
  fprintf (stderr, "nook: cgroups are not delegated to this user: CPU, memory (PSS), network and "
                   "pids come from /proc; LIMIT, MEM %% and BLOCK I/O are not measured (--)\n");
  signal (SIGINT, on_int);
  int status = 0;
  do
    {
      struct ctr_list l;
      if (ctr_list_load (root, &l, err) < 0)
        return -1;
      size_t *sel = xzalloc (sizeof *sel * (l.n + strv_len (names) + 1));
      size_t nsel = 0;
      for (size_t i = 0; names && names[i]; i++)
        {
          size_t at;
          cleanup_error nook_error_t e = NULL;
          if (ctr_find (&l, names[i], &at, &e) < 0)
            {
              fprintf (stderr, "Error: %s\n", e->msg);
              status = 1;
              continue;
            }
          sel[nsel++] = at;
        }
      for (size_t i = 0; names == NULL && i < l.n; i++)
        if (all || l.v[i].running)
          sel[nsel++] = i;
      struct sample *a = xzalloc (sizeof *a * (nsel + 1)), *b = xzalloc (sizeof *b * (nsel + 1));
      struct timespec t0, t1;
      clock_gettime (CLOCK_MONOTONIC, &t0);
      for (size_t i = 0; i < nsel; i++)
        take_sample (&l.v[sel[i]], &a[i]);
      struct timespec half = { 0, 500 * 1000 * 1000 };
      nanosleep (&half, NULL); /* the interval CPU % is measured over */
      clock_gettime (CLOCK_MONOTONIC, &t1);
      double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
      json_t *rows = json_array ();
      for (size_t i = 0; i < nsel; i++)
        {
          const struct ctr *c = &l.v[sel[i]];
          take_sample (c, &b[i]);
          const char *net = json_string_value (
              json_object_get (json_object_get (c->config, "HostConfig"), "NetworkMode"));
          json_array_append_new (
              rows, stats_row (c, &a[i], &b[i], secs, net && strcmp (net, "host") == 0));
        }
      if (!no_stream && isatty (1))
        printf ("\033[2J\033[H");
      json_t *h = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "CONTAINER ID",
                             "Container", "CONTAINER", "Name", "NAME", "CPUPerc", "CPU %",
                             "MemUsage", "MEM USAGE / LIMIT", "MemPerc", "MEM %", "NetIO",
                             "NET I/O", "BlockIO", "BLOCK I/O", "PIDs", "PIDS");
      bool table = format == NULL || cmd_format_kind (format) == CMD_FORMAT_TABLE;
      int r = cli_format_print (table ? "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t"
                                        "{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"
                                      : format,
                                rows, h, err);
      json_decref (h);
      fflush (stdout);
      json_decref (rows);
      free (a);
      free (b);
      free (sel);
      ctr_list_free (&l);
      if (r < 0)
        return -1;
    }
  while (!no_stream && !stats_stop);
  return status;
}
